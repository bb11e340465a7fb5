"""Accuracy of a model on held-out content of a synthetic dataset (the default model's targets).

On the ``test`` part of a split of a dataset made by ``lifeiqa make-synthetic`` (content-disjoint
by reference image), it measures:

* SRCC / PLCC of the scores against the pseudo-MOS (target: SRCC >= 0.90);
* for each (reference, distortion) series, the Spearman correlation between score and level; the
  median over series should be <= -0.9 (scores fall as the level rises);
* the share of (pristine, distorted) pairs of the same reference where the pristine image scores
  higher (target: >= 95%).

Usage:
    python benchmarks/default_model.py --data DATASET_ROOT [--metric lifeiqa] [--split-index 1]
        [--csv benchmarks/results/default_model.csv]
"""

from __future__ import annotations

import argparse
import csv
import pickle
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pyiqa
import torch
from pyiqa.metrics import calculate_plcc, calculate_srcc

from pyiqa_lifeiqa.benchmark import csv_dataset_opts, score_dataset


def held_out_rows(data: Path, split_index: int) -> pd.DataFrame:
    """The meta rows of the test part, in the order pyiqa's dataset yields them."""
    meta = pd.read_csv(data / 'meta_info.csv')
    with open(data / 'splits.pkl', 'rb') as f:  # our own split file
        test = pickle.load(f)[split_index]['test']
    return meta.iloc[test].reset_index(drop=True)


def evaluate(scores: np.ndarray, rows: pd.DataFrame) -> dict[str, float]:
    """The three targets from scores aligned with ``rows``."""
    rows = rows.assign(score=scores)
    distorted = rows[rows.distortion != 'pristine']
    series_rho = [
        calculate_srcc(group.score.to_numpy(), group.level.to_numpy())
        for _, group in distorted.groupby(['ref_name', 'distortion'])
        if group.score.nunique() > 1
    ]
    pristine = rows[rows.distortion == 'pristine'].set_index('ref_name').score
    wins = (distorted.score.to_numpy() < pristine.loc[distorted.ref_name].to_numpy()).mean()
    return {
        'images': len(rows),
        'references': rows.ref_name.nunique(),
        'srcc': float(calculate_srcc(rows.score.to_numpy(), rows.mos.to_numpy())),
        'plcc': float(calculate_plcc(rows.score.to_numpy(), rows.mos.to_numpy())),
        'median_level_srcc': float(statistics.median(series_rho)),
        'series': len(series_rho),
        'pristine_wins': float(wins),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', type=Path, required=True, help='root of a make-synthetic dataset')
    parser.add_argument('--metric', default='lifeiqa')
    parser.add_argument('--split-index', type=int, default=1)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--csv', type=Path, help='append the result row to this CSV')
    args = parser.parse_args()

    rows = held_out_rows(args.data, args.split_index)
    opts = csv_dataset_opts(
        args.data / 'meta_info.csv', args.data / 'images', args.data / 'splits.pkl', args.split_index, 'test'
    )
    metric = pyiqa.create_metric(args.metric, device=args.device)
    scores, mos = score_dataset(metric, opts, args.device)
    if not np.allclose(mos, rows.mos.to_numpy(), atol=1e-5):
        raise RuntimeError('dataset order does not match the split rows')
    result = {'metric': args.metric, 'split_index': args.split_index, **evaluate(np.asarray(scores), rows)}
    for key, value in result.items():
        print(f'{key:>18}: {value:.4f}' if isinstance(value, float) else f'{key:>18}: {value}')
    if args.csv:
        new = not args.csv.exists()
        with open(args.csv, 'a', newline='') as f:
            writer = csv.DictWriter(f, fieldnames=list(result))
            if new:
                writer.writeheader()
            writer.writerow(result)


if __name__ == '__main__':
    main()
