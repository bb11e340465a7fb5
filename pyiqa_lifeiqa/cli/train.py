"""``lifeiqa train``: pyiqa's training pipeline with the plugin registered, outputs in the working directory."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from unittest import mock

FLOAT_LITERAL = re.compile(r'[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?')
INTEGER_LITERAL = re.compile(r'[+-]?\d+')


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


def train(opt: str, force_yml: list[str] | None, auto_resume: bool, debug: bool, launcher: str) -> int:
    """Run pyiqa's ``train_pipeline`` with outputs under the working directory.

    pyiqa's ``--launcher pytorch`` set-up and its resuming assume CUDA (NCCL, one GPU per
    process, states mapped to the current GPU); without CUDA the process group is started here
    with gloo, and saved states are loaded onto the CPU.
    """
    import pyiqa.train
    import pyiqa.utils.options
    import torch
    import yaml

    import pyiqa_lifeiqa.models.lifeiqa_model  # noqa: F401  (LifeIQAModel in pyiqa's MODEL_REGISTRY)

    if not torch.cuda.is_available():
        pyiqa.train.load_resume_state = _resume_on_cpu(pyiqa.train.load_resume_state)
        if launcher == 'pytorch':
            torch.distributed.init_process_group('gloo')
            pyiqa.utils.options.init_dist = lambda *args, **kwargs: None

    check_overrides(yaml.safe_load(Path(opt).read_text()), force_yml or [])
    _reset_pyiqa_logger()
    argv = ['-opt', opt, '--launcher', launcher]
    argv += ['--force_yml', *map(float_overrides_tagged, force_yml)] if force_yml else []
    argv += ['--auto_resume'] if auto_resume else []
    argv += ['--debug'] if debug else []
    saved, sys.argv = sys.argv, ['lifeiqa train', *argv]  # pyiqa parses sys.argv itself
    try:
        pyiqa.train.train_pipeline(os.getcwd())
    finally:
        sys.argv = saved
    return 0


def check_overrides(opt: dict, entries: list[str]) -> None:
    """Refuse ``--force_yml`` entries pyiqa would fail on: not ``KEY:SUBKEY=VALUE`` with one ``=``, or
    naming a section the options do not have (pyiqa can add a last key, not the sections above it).

    Raises:
        ValueError: Naming the entry, the missing section and the keys that are there.
    """
    for entry in entries:
        keys, sep, _ = entry.partition('=')
        if not sep or '=' in entry[len(keys) + 1 :] or not keys.strip():
            raise ValueError(f'--force_yml {entry!r}: expected KEY:SUBKEY=VALUE with one "="')
        node, path = opt, []
        for key in keys.strip().split(':')[:-1]:
            path.append(key)
            if not isinstance(node, dict) or key not in node:
                there = ', '.join(map(str, node)) if isinstance(node, dict) else 'none (not a section)'
                raise ValueError(f'--force_yml {entry!r}: the options have no {":".join(path)!r} (keys there: {there})')
            node = node[key]
        if not isinstance(node, dict):
            raise ValueError(f'--force_yml {entry!r}: {":".join(path)!r} is a value, not a section')


def float_overrides_tagged(entry: str) -> str:
    """A ``--force_yml`` entry whose value is a float pyiqa would read as a string gets pyiqa's ``!!float`` tag.

    pyiqa takes a value for a number only when it is digits with at most one dot, so ``lr=2e-4``
    or ``weight=-0.5`` would reach the optimiser as a string. Other entries (pyiqa's own numbers,
    negative integers, words such as ``inf``) are returned unchanged.
    """
    keys, sep, value = entry.partition('=')
    value = value.strip()
    pyiqa_number = value.replace('.', '', 1).isdigit()  # pyiqa's own test
    if sep and FLOAT_LITERAL.fullmatch(value) and not INTEGER_LITERAL.fullmatch(value) and not pyiqa_number:
        return f'{keys}=!!float {value}'
    return entry


def _reset_pyiqa_logger() -> None:
    """Undo the set-up of pyiqa's logger, so that this run's pipeline logs to a file of its own.

    pyiqa sets up its logger once per process, with the log file of the first run (or none, if
    anything logged through it before); a later run in the process (``lifeiqa train-splits``)
    would log into the first run's file.
    """
    from pyiqa.utils import logger as pyiqa_logger

    logger = logging.getLogger('pyiqa')
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    pyiqa_logger.initialized_logger.pop('pyiqa', None)


def _resume_on_cpu(load_resume_state: Callable[[dict], dict | None]) -> Callable[[dict], dict | None]:
    """pyiqa's ``load_resume_state``, with the saved state mapped to the CPU instead of the current GPU."""
    import torch

    torch_load = torch.load

    def load_to_cpu(path, map_location=None, **kwargs):
        return torch_load(path, map_location='cpu', **kwargs)

    def load(opt: dict) -> dict | None:
        with mock.patch('torch.cuda.current_device', return_value=None), mock.patch('torch.load', load_to_cpu):
            return load_resume_state(opt)

    return load
