"""``lifeiqa benchmark``: PLCC/SRCC/KRCC of any pyiqa metrics on local IQA datasets."""

from __future__ import annotations

import argparse

from pyiqa_lifeiqa.device import default_device


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        'benchmark',
        help="score IQA datasets with pyiqa metrics and write pyiqa's benchmark table",
        description='Score pyiqa datasets found under --data-root (and/or a path,mos CSV) with any pyiqa metrics, '
        "lifeiqa included, and print/write the PLCC/SRCC/KRCC table in pyiqa's benchmark format.",
    )
    parser.add_argument('-m', '--metrics', nargs='+', required=True, help='pyiqa metric names')
    parser.add_argument('-d', '--datasets', nargs='*', default=[], help='pyiqa dataset names (e.g. koniq10k livec)')
    parser.add_argument('--data-root', default='./datasets', help="folder that holds pyiqa's datasets/ layout")
    parser.add_argument('--dataset-csv', action='append', default=[], help='a CSV of path,mos rows (repeatable)')
    parser.add_argument('--image-root', help='folder the --dataset-csv paths are relative to (default: its folder)')
    parser.add_argument('--split-file', help='pyiqa split pickle for --dataset-csv; scores only --phase')
    parser.add_argument(
        '--split-index', type=int, default=1, help='split of --split-file to use (default: %(default)s)'
    )
    parser.add_argument(
        '--phase',
        default='test',
        choices=['train', 'val', 'test'],
        help='part of the split (default: %(default)s)',
    )
    parser.add_argument('--device', default=None, help='cpu, cuda, cuda:1, ... (default: cuda if available)')
    parser.add_argument('--csv', help='write the table to this CSV file')
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pyiqa_lifeiqa.benchmark import csv_dataset_opts, pyiqa_dataset_opts, run_benchmark

    if not args.datasets and not args.dataset_csv:
        raise ValueError('give at least one dataset (-d NAME or --dataset-csv FILE)')
    datasets = {name: pyiqa_dataset_opts(name, args.data_root) for name in args.datasets}
    for csv_file in args.dataset_csv:
        opts = csv_dataset_opts(csv_file, args.image_root, args.split_file, args.split_index, args.phase)
        datasets[opts['name']] = opts
    device = args.device or default_device()
    table = run_benchmark(args.metrics, datasets, device=device, csv_path=args.csv)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print('  '.join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    return 0
