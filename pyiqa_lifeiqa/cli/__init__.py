"""The ``lifeiqa`` command line: one sub-command per module of this package."""

from __future__ import annotations

import argparse
import importlib
import sys

# sub-command name -> module in this package that defines ``add_parser(subparsers)``; each
# parser sets ``func(args) -> int`` as its default. Modules load lazily, so `lifeiqa --help`
# does not import torch.
SUBCOMMANDS = {
    'score': 'score',
    'map': 'map',
    'convert': 'convert',
    'train': 'train',
    'train-splits': 'train_splits',
    'make-synthetic': 'make_synthetic',
    'make-splits': 'make_splits',
    'benchmark': 'benchmark',
    'fetch-photos': 'fetch_photos',
    'prepare-baselines': 'prepare_baselines',
    'weights': 'weights',
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    from pyiqa_lifeiqa import __version__

    parser = argparse.ArgumentParser(prog='lifeiqa', description='Life-IQA image quality assessment (pyiqa plugin).')
    parser.add_argument('--version', action='version', version=f'%(prog)s {__version__}')
    subparsers = parser.add_subparsers(dest='command', metavar='COMMAND', required=True)
    wanted = [a for a in argv if a in SUBCOMMANDS][:1] or list(SUBCOMMANDS)
    for name in wanted:
        module = importlib.import_module(f'{__name__}.{SUBCOMMANDS[name]}')
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, KeyError, FileNotFoundError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        parser.exit(2, f'lifeiqa {args.command}: error: {message}\n')
