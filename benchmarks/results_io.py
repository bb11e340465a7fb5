"""What traces a benchmark result, and how results are written: for the scripts of benchmarks/ only.

Every result CSV of ``benchmarks/results/`` carries the commit, the package versions and, where they
apply, the weights' and the dataset's hashes (:func:`provenance`), written by :func:`write_results`.
"""

from __future__ import annotations

import csv
import os
import subprocess
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pyiqa_lifeiqa.weights.resolve import sha256sum

PACKAGES = ('pyiqa-lifeiqa', 'pyiqa', 'torch', 'timm')


RESULTS_FOLDER = 'benchmarks/results'  # what the benchmarks write: changes there do not make a run's commit dirty
CHECKOUT = Path(__file__).resolve().parents[1]  # the repository


def source_commit(root: str | os.PathLike = CHECKOUT) -> str:
    """The git commit of the checkout at ``root`` (this package's), or ``unknown``.

    ``-dirty`` is added if tracked files other than those under ``benchmarks/results/`` have
    uncommitted changes: a benchmark that rewrites its own results runs the committed code.
    """
    try:
        commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=root, capture_output=True, text=True, check=True)
        changes = subprocess.run(
            ['git', 'status', '--porcelain', '--untracked-files=no', '--', ':(top)', f':(top,exclude){RESULTS_FOLDER}'],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'
    return commit.stdout.strip() + ('-dirty' if changes.stdout.strip() else '')


def provenance(weights: str | os.PathLike | None = None, dataset: str | os.PathLike | None = None) -> dict[str, str]:
    """What traces a result: the commit, the package versions, and optionally the weight file's
    sha256 and the dataset (its folder and the sha256 of its ``meta_info.csv``).

    Every result CSV of ``benchmarks/`` carries these as columns (:func:`write_results`).
    """
    info = {'commit': source_commit()}
    for package in PACKAGES:
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            info[package] = 'not installed'
    if weights is not None:
        info['weights_sha256'] = sha256sum(weights)
    if dataset is not None:
        meta = Path(dataset) / 'meta_info.csv'
        info['dataset'] = str(dataset)
        info['dataset_meta_sha256'] = sha256sum(meta) if meta.is_file() else 'no meta_info.csv'
    return info


def write_results(rows: Iterable[dict], path: str | os.PathLike, traced: dict[str, str], append: bool = False) -> Path:
    """Write result rows (all with the same keys) as CSV, each followed by the ``traced`` columns
    (:func:`provenance`); ``append`` adds to an existing file of the same columns.

    Raises:
        ValueError: ``append`` to a file whose header has other columns (nothing is written).
    """
    path = Path(path)
    rows = [{**row, **traced} for row in rows]
    columns = list(rows[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not (append and path.exists())
    if not new:
        with open(path, newline='') as f:
            header = next(csv.reader(f), [])
        if header != columns:
            raise ValueError(
                f"cannot append to {path}: its columns {header} differ from these rows' {columns}; write to a new file"
            )
    with open(path, 'a' if append else 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        if new:
            writer.writeheader()
        writer.writerows(rows)
    return path
