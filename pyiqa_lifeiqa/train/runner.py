"""The training runner behind ``lifeiqa train``: pyiqa's ``train_pipeline``, made fit for this plugin.

- The plugin's model and datasets are registered; outputs go under the working directory.
- Frequencies may be given in epochs: ``val: val_freq_epochs`` and ``logger:
  save_checkpoint_freq_epochs`` / ``save_latest_freq_epochs`` become pyiqa's iteration counts
  once pyiqa knows the iterations per epoch (dataset size, enlarge ratio, batch size and number
  of processes of the run), so one recipe fits any number of GPUs.
- Without CUDA: ``--launcher pytorch`` starts gloo, and saved states load onto the CPU.
- ``--force_yml`` entries are checked before training, and floats pyiqa would read as strings
  are tagged.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from unittest import mock

import yaml

FLOAT_LITERAL = re.compile(r'[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?')
INTEGER_LITERAL = re.compile(r'[+-]?\d+')
# (section, pyiqa's iteration key): ``<key>_epochs`` in that section gives it in epochs
EPOCH_FREQUENCIES = (('val', 'val_freq'), ('logger', 'save_checkpoint_freq'), ('logger', 'save_latest_freq'))


def train(opt: str, force_yml: list[str] | None, auto_resume: bool, debug: bool, launcher: str) -> int:
    """Run pyiqa's ``train_pipeline`` on an option file, with outputs under the working directory.

    pyiqa's ``--launcher pytorch`` set-up and its resuming assume CUDA (NCCL, one GPU per
    process, states mapped to the current GPU); without CUDA the process group is started here
    with gloo, and saved states are loaded onto the CPU. pyiqa's functions are patched for this
    run only.

    Raises:
        ValueError: A ``--force_yml`` entry or an epoch frequency pyiqa would fail on.
    """
    import pyiqa.train
    import pyiqa.utils.options
    import torch

    import pyiqa_lifeiqa.models.lifeiqa_model  # noqa: F401  (LifeIQAModel in pyiqa's MODEL_REGISTRY)

    opt = str(resolve_option_file(Path(opt)))
    options = yaml.safe_load(Path(opt).read_text())
    check_overrides(options, force_yml or [])
    check_epoch_frequencies(options, force_yml or [])
    argv = ['-opt', opt, '--launcher', launcher]
    argv += ['--force_yml', *map(float_overrides_tagged, force_yml)] if force_yml else []
    argv += ['--auto_resume'] if auto_resume else []
    argv += ['--debug'] if debug else []
    with contextlib.ExitStack() as patches:
        patches.enter_context(mock.patch.object(sys, 'argv', ['lifeiqa train', *argv]))  # pyiqa parses sys.argv
        create = _with_epoch_frequencies(pyiqa.train.create_train_val_dataloader)
        patches.enter_context(mock.patch.object(pyiqa.train, 'create_train_val_dataloader', create))
        if not torch.cuda.is_available():
            resume = _resume_on_cpu(pyiqa.train.load_resume_state)
            patches.enter_context(mock.patch.object(pyiqa.train, 'load_resume_state', resume))
            if launcher == 'pytorch':
                torch.distributed.init_process_group('gloo')
                patches.enter_context(mock.patch.object(pyiqa.utils.options, 'init_dist', lambda *a, **k: None))
        _reset_pyiqa_logger()
        pyiqa.train.train_pipeline(os.getcwd())
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


def check_epoch_frequencies(opt: dict, force_yml: Sequence[str] = ()) -> None:
    """Refuse frequencies whose meaning is unclear before anything runs.

    In the option file, a frequency given both in iterations and in epochs; with ``--force_yml``,
    one forced in epochs where the file gives iterations (the file's count would win silently);
    anywhere, one in epochs that is not a positive number.

    Raises:
        ValueError: Naming the section and the keys.
    """
    forced = {entry.partition('=')[0].strip(): entry.partition('=')[2].strip() for entry in force_yml}
    for section, key in EPOCH_FREQUENCIES:
        part = opt.get(section) or {}
        if f'{key}_epochs' in part and key in part:
            raise ValueError(f'{section}: both {key} and {key}_epochs are set; keep one')
        for value in (part.get(f'{key}_epochs'), forced.get(f'{section}:{key}_epochs')):
            if value is not None:
                _epochs(section, key, yaml.safe_load(value) if isinstance(value, str) else value)
        if f'{section}:{key}_epochs' in forced and key in part and f'{section}:{key}' not in forced:
            raise ValueError(
                f'--force_yml {section}:{key}_epochs: the options give {section}:{key} in iterations; '
                f'force {section}:{key}=N instead'
            )


def _epochs(section: str, key: str, value: object) -> float:
    """A frequency in epochs as a positive number (after pyiqa's parsing of the options)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f'{section}: {key}_epochs must be a positive number of epochs, got {value!r}')
    return float(value)


def resolve_epoch_frequencies(opt: dict, iters_per_epoch: int) -> None:
    """Set each frequency given in epochs as pyiqa's iteration count (at least 1), in place.

    An iteration count the run already has wins: one given with ``--force_yml``, or pyiqa's
    debug mode's.

    Raises:
        ValueError: A frequency in epochs that is not a positive number.
    """
    for section, key in EPOCH_FREQUENCIES:
        part = opt.get(section) or {}
        if f'{key}_epochs' not in part:
            continue
        epochs = _epochs(section, key, part.pop(f'{key}_epochs'))
        if key not in part:
            part[key] = max(1, round(epochs * iters_per_epoch))


def resolve_option_file(path: Path) -> Path:
    """An option file that names a shipped recipe as its ``base``, written out whole beside the run.

    A copy of a shipped recipe keeps its ``base:`` line; pyiqa would read it without the base's
    options. Such a file is merged with its base (as ``--recipe`` does) into
    ``options/<stem>.yml`` under the working directory, which is returned; other files are
    returned as they are.
    """

    from pyiqa_lifeiqa.train.recipes import BASE_KEY, load_recipe, merge

    if not path.is_file():
        raise FileNotFoundError(f'option file not found: {path}')
    options = yaml.safe_load(path.read_text()) or {}
    if BASE_KEY not in options:
        return path
    base = options.pop(BASE_KEY)
    resolved = Path('options') / f'{path.stem}.yml'
    if resolved.exists() and resolved.resolve() == path.resolve():
        raise ValueError(f'{path} names a base and would be overwritten by its resolved options; move it elsewhere')
    resolved.parent.mkdir(exist_ok=True)
    resolved.write_text(yaml.safe_dump(merge(load_recipe(base), options), sort_keys=False))
    return resolved


def iterations_per_epoch(opt: dict, train_size: int) -> int:
    """pyiqa's iterations per epoch (``create_train_val_dataloader``'s formula) for a training set size."""
    train = opt['datasets']['train']
    return math.ceil(
        train_size * train.get('dataset_enlarge_ratio', 1) / (train['batch_size_per_gpu'] * opt['world_size'])
    )


def _with_epoch_frequencies(create: Callable) -> Callable:
    """pyiqa's ``create_train_val_dataloader``, followed by :func:`resolve_epoch_frequencies`."""

    def create_and_resolve(opt: dict, logger: logging.Logger):
        result = create(opt, logger)
        per_epoch = iterations_per_epoch(opt, len(result[0].dataset))
        resolve_epoch_frequencies(opt, per_epoch)
        logger.info(
            'Frequencies: '
            + ', '.join(f'{key} {opt[s].get(key)}' for s, key in EPOCH_FREQUENCIES if s in opt)
            + f' iterations ({per_epoch} per epoch)'
        )
        return result

    return create_and_resolve
