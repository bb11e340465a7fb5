"""``lifeiqa make-splits``: seeded train/val/test split pickles for a pyiqa meta-info CSV."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        'make-splits',
        help='write seeded train/val/test splits of a meta-info CSV as a pyiqa split pickle',
        description='80/20 train/test splits (a share of train held out for validation), indexed 1..N. With '
        '--group-column, rows sharing that column (the reference image of a synthetic-distortion set) stay in '
        'one part, so the parts share no content; without it the split is random per row.',
    )
    parser.add_argument('--meta', required=True, help='pyiqa meta-info CSV (with a header row)')
    parser.add_argument('--out', required=True, help='split pickle to write')
    parser.add_argument('--group-column', help='column name or 0-based index that groups rows (e.g. 0 or ref_name)')
    parser.add_argument('--splits', type=int, default=10, help='splits to make (default: %(default)s)')
    parser.add_argument(
        '--test-ratio', type=float, default=0.2, help='share of the groups held out for test (default: %(default)s)'
    )
    parser.add_argument('--val-ratio', type=float, default=0.1, help='share of the training part held out')
    parser.add_argument('--seed', type=int, default=0, help='random seed of the splits (default: %(default)s)')
    parser.add_argument(
        '--skip-first', type=int, default=0, help="rows the dataset class drops (pyiqa's LIVEChallengeDataset: 7)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from pyiqa_lifeiqa.data.splits import make_splits, save_splits

    meta = pd.read_csv(args.meta).iloc[args.skip_first :]  # split indices count the rows the dataset keeps
    groups = None
    if args.group_column is not None:
        column = int(args.group_column) if args.group_column.isdigit() else args.group_column
        if isinstance(column, int) and column >= len(meta.columns) or isinstance(column, str) and column not in meta:
            raise ValueError(f'{args.meta} has no column {args.group_column!r}; columns: {list(meta.columns)}')
        groups = (meta.iloc[:, column] if isinstance(column, int) else meta[column]).astype(str).tolist()
    splits = make_splits(len(meta), groups, args.splits, args.test_ratio, args.val_ratio, args.seed)
    path = save_splits(splits, args.out)
    first = splits[1]
    print(
        f'wrote {args.splits} splits of {len(meta)} rows to {path} (split 1: '
        + ', '.join(f'{part} {len(rows)}' for part, rows in first.items())
        + ')'
    )
    return 0
