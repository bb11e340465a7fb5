"""``lifeiqa weights``: every known weight set, where its file is (or that it is missing), and how to get it."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``weights`` sub-command."""
    parser = subparsers.add_parser(
        'weights',
        help='List the Life-IQA weight sets: found where, or missing and how to get or train them.',
        description=(
            'pyiqa lists (list_models(), pyiqa -ls) only the lifeiqa metrics whose weights can be had: '
            "found in $LIFEIQA_WEIGHTS_DIR, shipped in the package, in pyiqa's cache, or downloadable "
            'when online. This lists every weight set with its status.'
        ),
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Print one block per weight set."""
    from pyiqa_lifeiqa.weights.locate import ENV_WEIGHTS_DIR, available
    from pyiqa_lifeiqa.weights.registry import WEIGHT_SETS

    for name, weight_set in WEIGHT_SETS.items():
        where = available(weight_set)
        status = f'available ({where})' if where else 'missing: not listed by pyiqa'
        print(f'{name}: {status}')
        print(f'  file: {weight_set.filename}' + (f' (sha256 {weight_set.sha256})' if weight_set.sha256 else ''))
        print(f'  {weight_set.description}')
        if not where:
            train = f'lifeiqa train --recipe {weight_set.recipe}' if weight_set.recipe else 'lifeiqa train'
            print(
                f'  to get it: train it ({train}), convert the checkpoint '
                f'(lifeiqa convert CHECKPOINT {weight_set.filename} --weight-set {name}), and put the file in '
                f"${ENV_WEIGHTS_DIR} or pyiqa's cache; then pyiqa.create_metric({name!r}) works"
            )
    return 0
