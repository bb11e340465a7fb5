"""``lifeiqa train-splits``: train on splits 1..N, choose each checkpoint on val, report median test SRCC/PLCC."""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        'train-splits',
        help='train and test on several splits; report the median test SRCC/PLCC',
        description="For split_index 1..N: train with pyiqa's pipeline (as `lifeiqa train`), keep the checkpoint "
        "chosen on the validation part (pyiqa's net_best), score the test part with it. Prints the median "
        'SRCC/PLCC over splits and writes experiments/<name>_splits.json.',
    )
    parser.add_argument('-opt', required=True, help='pyiqa option YAML file (its datasets use split files)')
    parser.add_argument(
        '--splits', type=int, default=10, help='splits to train and test, 1 to N (default: %(default)s)'
    )
    parser.add_argument('--force_yml', nargs='+', default=[], help='override options, e.g. train:total_epoch=2')
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import yaml

    from pyiqa_lifeiqa.train.runner import resolve_option_file, train

    option_file = str(resolve_option_file(Path(args.opt)))  # a file naming a base: merged, written out
    opt = yaml.safe_load(Path(option_file).read_text())
    results = []
    for index in range(1, args.splits + 1):
        name = f'{opt["name"]}_split{index:02d}'
        overrides = [f'name={name}'] + [f'datasets:{p}:split_index={index}' for p in opt['datasets']]
        train(option_file, [*args.force_yml, *overrides], auto_resume=False, debug=False, launcher='none')
        srcc, plcc = score_best_checkpoint(opt, index, Path('experiments') / name / 'models' / 'net_best.pth')
        results.append({'split_index': index, 'srcc': srcc, 'plcc': plcc})
        print(f'split {index}: test SRCC {srcc:.4f} PLCC {plcc:.4f}')
    summary = {
        'splits': results,
        'median_srcc': statistics.median(r['srcc'] for r in results),
        'median_plcc': statistics.median(r['plcc'] for r in results),
    }
    out = Path('experiments') / f'{opt["name"]}_splits.json'
    out.write_text(json.dumps(summary, indent=2))
    print(
        f'median over {args.splits} splits: SRCC {summary["median_srcc"]:.4f} PLCC {summary["median_plcc"]:.4f} ({out})'
    )
    return 0


def score_best_checkpoint(opt: dict, split_index: int, checkpoint: Path) -> tuple[float, float]:
    """SRCC and PLCC of the validation-chosen checkpoint on the test part of a split, on the training device."""
    import torch
    from pyiqa.archs import build_network

    from pyiqa_lifeiqa.benchmark import evaluate
    from pyiqa_lifeiqa.weights.checkpoint import load_weights_into

    net = build_network({**opt['network'], 'backbone_pretrain': False})
    load_weights_into(net, path=str(checkpoint))
    device = torch.device('cuda' if opt.get('num_gpu', 0) != 0 and torch.cuda.is_available() else 'cpu')
    test_opts = {**opt['datasets']['val'], 'phase': 'test', 'split_index': split_index}
    result = evaluate(net.to(device), test_opts, device)
    return result.srcc, result.plcc
