"""Tables and the plot of ``accuracy.py``: medians and ranges over splits, paired differences, CSVs."""

from __future__ import annotations

import copy
import csv
import math
import statistics
from pathlib import Path

import pandas as pd
from accuracy_heads import CLASSIC, HEADS, Setup
from accuracy_training import METRICS
from costs import flops_per_crop, latencies_ms, parameter_counts
from pyiqa import create_metric
from pyiqa.archs import build_network
from results_io import write_results

STATS = ('median', 'min', 'max')  # of each test score over splits


def sign_test_p(wins: int, losses: int) -> float:
    """Two-sided sign-test p-value of ``wins`` against ``losses`` (ties left out)."""
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(wins, losses) + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired_differences(split_rows: list[dict], name: str, against: str = 'lifeiqa') -> dict:
    """Test SRCC of head ``name`` minus that of ``against``, split by split: median, range, wins, sign test.

    Only splits both have are paired; an empty dict when there are none (or ``name`` is ``against``).
    """
    srcc = {
        head: {int(r['split']): float(r['test_srcc']) for r in split_rows if r['head'] == head}
        for head in (name, against)
    }
    common = sorted(set(srcc[name]) & set(srcc[against]))
    if name == against or not common:
        return {}
    diffs = [srcc[name][s] - srcc[against][s] for s in common]
    wins, losses = sum(d > 0 for d in diffs), sum(d < 0 for d in diffs)
    return {
        f'srcc_minus_{against}_median': statistics.median(diffs),
        f'srcc_minus_{against}_min': min(diffs),
        f'srcc_minus_{against}_max': max(diffs),
        f'splits_above_{against}': f'{wins}/{len(common)}',
        'sign_test_p': sign_test_p(wins, losses),
    }


def summarize(split_rows: list[dict], setup: Setup) -> list[dict]:
    """One row per head or classic metric: medians and ranges of the test scores over splits, the
    paired differences against Life-IQA, then the cost (parameters and FLOPs for heads only)."""
    names = list(dict.fromkeys(row['head'] for row in split_rows))
    networks = {name: HEADS[name].network(setup) for name in names if name in HEADS}
    modules = {name: build_network(copy.deepcopy(options)) for name, options in networks.items()}
    modules.update({name: create_metric(name, device='cpu') for name in names if name in CLASSIC})
    latency = latencies_ms(modules, setup.image_size)
    table = pd.DataFrame(split_rows).astype({f'test_{m}': float for m in METRICS} | {'train_s': float})
    by_head = table.groupby('head', sort=False)
    spread = by_head[[f'test_{m}' for m in METRICS]].agg(list(STATS))
    rows = []
    for name in names:
        row = {'head': name, 'label': HEADS[name].label if name in HEADS else CLASSIC[name]}
        row['splits'] = int(by_head.size()[name])
        for metric in METRICS:
            row.update(
                {
                    f'{metric}_{stat}': float(spread.loc[name, (f'test_{metric}', stat)])
                    for stat in spread.columns.levels[1]
                }
            )
        row.update(paired_differences(split_rows, name))
        if name in networks:
            total, head_params = parameter_counts(networks[name], setup.backbone)
            row.update(params_total=total, params_head=head_params, gflops_224=flops_per_crop(networks[name]) / 1e9)
        row.update(latency_ms=latency[name], train_s_median=float(by_head['train_s'].median()[name]))
        rows.append(row)
    return rows


def write_csv(rows: list[dict], path: Path, traced: dict[str, str]) -> Path:
    """Write dict rows as CSV (columns: every key, in first-seen order; missing cells empty), floats
    with 4 decimals, each row followed by the ``traced`` columns (:func:`provenance`)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    rounded = [
        {k: f'{row[k]:.4f}' if isinstance(row.get(k), float) else row.get(k, '') for k in columns} for row in rows
    ]
    return write_results(rounded, path, traced)


def read_csv(path: Path) -> list[dict]:
    """Rows of a CSV this script wrote."""
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def plot(rows: list[dict], path: Path, title: str) -> Path:
    """Median test SRCC (bars: min-max over splits) against head parameters, GFLOPs per crop and CPU latency.

    The first two axes are logarithmic: the backbone dominates the FLOPs, the heads span four
    orders of magnitude in parameters. Classic metrics appear on the latency axis only.
    """
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 5), sharey=True)
    for ax, key, xlabel, scale in (
        (axes[0], 'params_head', 'head parameters (all but the backbone)', 'log'),
        (axes[1], 'gflops_224', 'GFLOPs per 224x224 crop (whole network)', 'log'),
        (axes[2], 'latency_ms', 'CPU ms per image (all test crops, 1 thread)', 'linear'),
    ):
        for index, row in enumerate(rows):
            if key not in row:  # classic metrics have no parameters or counted FLOPs
                continue
            low, high = row['srcc_median'] - row['srcc_min'], row['srcc_max'] - row['srcc_median']
            ax.errorbar(
                row[key],
                row['srcc_median'],
                yerr=[[low], [high]],
                fmt='o',
                capsize=4,
                color=f'C{index % 10}',
                label=row['label'],
            )
            ax.annotate(
                row['head'], (row[key], row['srcc_median']), textcoords='offset points', xytext=(5, 4), fontsize=8
            )
        ax.set_xscale(scale)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3, which='both')
    axes[0].set_ylabel('test SRCC (median over splits; bars: min-max)')
    axes[2].legend(fontsize=8, loc='best')
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
