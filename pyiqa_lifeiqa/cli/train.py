"""``lifeiqa train``: the command line of :mod:`pyiqa_lifeiqa.train.runner` (an option file or a shipped recipe)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        'train',
        help="train with pyiqa's pipeline (an option file or a shipped recipe)",
        description="Run pyiqa's training pipeline on a pyiqa option file (-opt) or a shipped recipe "
        '(--recipe NAME --data-root DIR). experiments/ and tb_logger/ are written under the current directory.',
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('-opt', help='pyiqa option YAML file')
    source.add_argument('--recipe', help='a shipped recipe (see --list-recipes)')
    source.add_argument('--list-recipes', action='store_true', help='print the shipped recipes and exit')
    parser.add_argument('--data-root', default='./datasets', help='folder that replaces ./datasets in a recipe')
    parser.add_argument('--force_yml', nargs='+', help='override options, e.g. train:total_epoch=2 train:optim:lr=2e-4')
    parser.add_argument('--auto_resume', action='store_true', help='resume from the latest saved state')
    parser.add_argument('--debug', action='store_true', help="pyiqa's debug mode (logs every iteration, short runs)")
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch'],
        default='none',
        help='pytorch: one process per GPU under torchrun (default: %(default)s, one process)',
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pyiqa_lifeiqa.train.recipes import list_recipes, resolve_recipe
    from pyiqa_lifeiqa.train.runner import train

    if args.list_recipes:
        for name, description in list_recipes().items():
            print(f'{name:<16} {description}')
        return 0
    opt = args.opt
    if args.recipe:
        # Keep the resolved options beside the experiments, as a record of what was run.
        opt = Path('options') / f'{args.recipe}.yml'
        opt.parent.mkdir(exist_ok=True)
        opt.write_text(resolve_recipe(args.recipe, args.data_root))
    elif not Path(opt).is_file():
        raise FileNotFoundError(f'option file not found: {opt}')
    return train(str(opt), args.force_yml, args.auto_resume, args.debug, args.launcher)
