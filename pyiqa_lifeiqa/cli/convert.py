"""``lifeiqa convert``: turn any accepted checkpoint into a clean Life-IQA safetensors file."""

from __future__ import annotations

import argparse
import json
import typing
from dataclasses import fields
from pathlib import Path

from pyiqa_lifeiqa.archs.config import LifeIQAConfig


def config_options() -> dict[str, type]:
    """Every :class:`LifeIQAConfig` field with the type its option parses (``int | None`` -> int)."""
    hints = typing.get_type_hints(LifeIQAConfig)
    return {
        f.name: next(kind for kind in typing.get_args(hints[f.name]) or (hints[f.name],) if kind is not type(None))
        for f in fields(LifeIQAConfig)
    }


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        'convert',
        help="convert a checkpoint (pyiqa, authors' training code, torch or safetensors) to a safetensors file",
        description="Read a checkpoint in any accepted format (a state dict, pyiqa's {'params': ...}, the authors' "
        'training code, with or without the DDP "module." prefix), check that it loads strictly into the chosen '
        'LifeIQA config, and write it as a safetensors file that records the config. The config starts from '
        '--metric or --weight-set, else from the config recorded in IN, else from the LifeIQA defaults; the '
        'options below override single entries. Pickles are read with torch.load(weights_only=True) only.',
    )
    parser.add_argument('input', metavar='IN', help='checkpoint to convert (never modified)')
    parser.add_argument('output', metavar='OUT', help='output file, ending in .safetensors')
    base = parser.add_mutually_exclusive_group()
    base.add_argument('--metric', help='start from the config of this lifeiqa metric (e.g. lifeiqa-koniq)')
    base.add_argument('--weight-set', help='start from the config of this weight set (e.g. lifeiqa-koniq)')
    for name, kind in config_options().items():
        flag = f'--{name.replace("_", "-")}'
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, help=f'LifeIQA config field {name}')
        else:
            parser.add_argument(flag, type=kind, help=f'LifeIQA config field {name} ({kind.__name__})')
    parser.add_argument('--force', action='store_true', help='overwrite OUT if it exists (IN is never overwritten)')
    parser.set_defaults(func=run)


def base_config(args: argparse.Namespace, source: Path) -> LifeIQAConfig:
    """The config that the command-line options modify: from --metric, --weight-set, IN, or the defaults."""
    from pyiqa_lifeiqa.configs import METRIC_CONFIGS
    from pyiqa_lifeiqa.weights.checkpoint import read_config
    from pyiqa_lifeiqa.weights.registry import get_weight_set

    if args.metric is not None:
        if args.metric not in METRIC_CONFIGS:
            raise ValueError(f'unknown metric {args.metric!r}; lifeiqa metrics: {", ".join(sorted(METRIC_CONFIGS))}')
        return get_weight_set(METRIC_CONFIGS[args.metric]['metric_opts']['config']).config
    if args.weight_set is not None:
        return get_weight_set(args.weight_set).config
    return read_config(source) or LifeIQAConfig()


def run(args: argparse.Namespace) -> int:
    from pyiqa_lifeiqa.archs.lifeiqa_arch import LifeIQA
    from pyiqa_lifeiqa.weights.checkpoint import load_state_dict_strict, read_state_dict, save_weights
    from pyiqa_lifeiqa.weights.resolve import sha256sum

    source, target = Path(args.input), Path(args.output)
    if target.suffix != '.safetensors':
        raise ValueError(f'OUT must end in .safetensors, got {target}')
    if target.exists() and source.exists() and target.samefile(source):
        raise ValueError(f'OUT is the same file as IN ({source}); refusing to overwrite the input')
    if target.exists() and not args.force:
        raise ValueError(f'{target} already exists; pass --force to overwrite it')

    state_dict = read_state_dict(source)
    changes = {name: getattr(args, name) for name in config_options() if getattr(args, name) is not None}
    config = base_config(args, source).updated(**changes)
    try:
        model = LifeIQA(config, pretrained=False, backbone_pretrain=False)
    except RuntimeError as error:  # timm: unknown backbone
        raise ValueError(f'cannot build LifeIQA with the config {config.to_dict()}: {error}') from error
    load_state_dict_strict(model, state_dict, source=source)
    save_weights(model, target)
    n_values = sum(value.numel() for value in model.state_dict().values())
    print(f'wrote {target}: {len(model.state_dict())} tensors, {n_values:,} values, sha256 {sha256sum(target)}')
    print(f'config: {json.dumps(model.config.to_dict(), sort_keys=True)}')
    return 0
