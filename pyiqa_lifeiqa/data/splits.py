"""Seeded train/val/test splits in pyiqa's split-file format.

pyiqa's datasets take ``split_file`` (a pickle ``{split_index: {'train': [...], 'val': [...],
'test': [...]}}`` of row indices into the meta CSV) and ``split_index`` (default 1), so split
indices here start at 1. Rows that share a group (the reference image of a synthetic-distortion
set) always land in the same part, which keeps content disjoint; with no groups every row is
its own group (a random split, as for authentic-distortion sets).
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

Split = dict[str, list[int]]


def make_splits(
    num_rows: int,
    groups: Sequence[str] | None = None,
    num_splits: int = 10,
    test_ratio: float = 0.2,
    val_ratio: float = 0.1,
    seed: int = 0,
) -> dict[int, Split]:
    """Make ``num_splits`` seeded splits of ``num_rows`` rows.

    Args:
        num_rows: Rows in the meta CSV.
        groups: Group of each row (e.g. its reference image); rows of a group share a part.
        num_splits: Number of splits, indexed 1..num_splits.
        test_ratio: Fraction of groups held out for test.
        val_ratio: Fraction of the remaining (training) groups held out for validation.
        seed: Seed of split 1; split i uses ``seed + i - 1``.

    Returns:
        ``{i: {'train': rows, 'val': rows, 'test': rows}}`` with sorted row indices.
    """
    groups = list(range(num_rows)) if groups is None else list(groups)
    if len(groups) != num_rows:
        raise ValueError(f'groups has {len(groups)} entries for {num_rows} rows')
    unique = sorted(set(groups), key=str)
    if len(unique) < 3:
        raise ValueError(f'need at least 3 groups to make train/val/test splits, got {len(unique)}')
    group_rows: dict = {}
    for row, group in enumerate(groups):
        group_rows.setdefault(group, []).append(row)

    splits = {}
    for index in range(1, num_splits + 1):
        order = np.random.default_rng(seed + index - 1).permutation(len(unique))
        n_test = max(1, round(test_ratio * len(unique)))
        n_val = max(1, round(val_ratio * (len(unique) - n_test)))
        parts = {'test': order[:n_test], 'val': order[n_test : n_test + n_val], 'train': order[n_test + n_val :]}
        splits[index] = {
            name: sorted(row for g in picked for row in group_rows[unique[g]]) for name, picked in parts.items()
        }
    return splits


def save_splits(splits: dict[int, Split], path: str | Path) -> Path:
    """Write splits as a pyiqa split pickle (plain dicts and ints only)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'wb') as f:
        pickle.dump({int(k): {p: [int(i) for i in rows] for p, rows in v.items()} for k, v in splits.items()}, f)
    return path
