"""``lifeiqa score``: score image files and folders with a no-reference pyiqa metric (Life-IQA by default)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

# report(path, reason): called once for each file that is skipped
Reporter = Callable[[Path, str], None]

OUTPUT_FORMATS = ('.csv', '.json')


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected a whole number, got {text!r}') from None
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be at least 1, got {value}')
    return value


def output_file(text: str) -> Path:
    """argparse type: a .csv or .json file in an existing folder."""
    path = Path(text)
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise argparse.ArgumentTypeError(f'must end in .csv or .json (the suffix picks the format), got {text!r}')
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f'folder {str(path.parent)!r} does not exist')
    return path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        'score',
        help='score images with Life-IQA (or any no-reference pyiqa metric)',
        description='Score image files, and image files found recursively in folders, with a no-reference pyiqa '
        'metric. Prints a path/score table; unreadable files are reported on stderr and skipped '
        '(exit status 1 if any).',
    )
    parser.add_argument('paths', nargs='+', metavar='PATH', help='image files or folders')
    parser.add_argument('--metric', default='lifeiqa', help='pyiqa metric name (default: %(default)s)')
    parser.add_argument('--device', default=None, help='cpu, cuda, cuda:1, ... (default: cuda if available)')
    parser.add_argument(
        '--batch-size',
        type=positive_int,
        default=1,
        help='images of identical size scored together (default: %(default)s)',
    )
    parser.add_argument('--output', type=output_file, help='also write the scores to FILE.csv or FILE.json')
    parser.set_defaults(func=run)


def check_metric(name: str) -> None:
    """Raise ValueError unless ``name`` is a no-reference metric pyiqa knows (the message lists ours)."""
    from pyiqa.default_model_configs import DEFAULT_CONFIGS

    if name not in DEFAULT_CONFIGS:
        ours = sorted(n for n, cfg in DEFAULT_CONFIGS.items() if cfg['metric_opts'].get('type') == 'LifeIQA')
        raise ValueError(
            f'unknown metric {name!r}; the lifeiqa metrics are: {", ".join(ours)} (`pyiqa -ls` lists all of pyiqa)'
        )
    if DEFAULT_CONFIGS[name].get('metric_mode') != 'NR':
        raise ValueError(f'{name!r} is not a no-reference metric; score needs a no-reference (NR) metric')


def plan_batches(files: Iterable[Path], batch_size: int, report: Reporter) -> list[list[Path]]:
    """Group files by image size (read from their headers) into batches of at most ``batch_size``.

    Files whose header cannot be read are passed to ``report(path, reason)`` and left out.
    Batches keep the files' order within each size; sizes come in order of first appearance.
    """
    from pyiqa_lifeiqa.io import ImageReadError, open_image

    by_size: dict[tuple[int, int], list[Path]] = {}
    for path in files:
        try:
            with open_image(path) as img:
                by_size.setdefault(img.size, []).append(path)
        except ImageReadError as error:
            report(path, error.reason)
    return [group[i : i + batch_size] for group in by_size.values() for i in range(0, len(group), batch_size)]


def score_batch(metric: nn.Module, batch: list[Path], report: Reporter) -> dict[Path, float]:
    """Read and score one batch of same-size files; failures go to ``report(path, reason)``."""
    import torch

    from pyiqa_lifeiqa.io import ImageReadError, load_image

    images = {}
    for path in batch:
        try:
            images[path] = load_image(path)
        except ImageReadError as error:
            report(path, error.reason)
    if not images:
        return {}
    try:
        scores = metric(torch.cat(list(images.values()))).reshape(len(images)).tolist()
    except ValueError as error:  # e.g. an image too small for the metric: the same for the whole batch
        for path in images:
            report(path, str(error))
        return {}
    return dict(zip(images, scores, strict=True))


def write_scores(scores: dict[Path, float], path: Path) -> None:
    """Write ``path,score`` rows to a CSV file, or a JSON list of ``{path, score}``, by the suffix."""
    rows = [{'path': str(p), 'score': s} for p, s in scores.items()]
    with open(path, 'w', newline='') as f:
        if path.suffix.lower() == '.json':
            json.dump(rows, f, indent=2)
            f.write('\n')
        else:
            writer = csv.DictWriter(f, fieldnames=['path', 'score'])
            writer.writeheader()
            writer.writerows(rows)


def print_table(scores: dict[Path, float]) -> None:
    """Print a path/score table on stdout."""
    width = max([len('path'), *(len(str(p)) for p in scores)])
    print(f'{"path":<{width}}  {"score":>10}')
    for path, score in scores.items():
        print(f'{str(path):<{width}}  {score:>10.4f}')


def run(args: argparse.Namespace) -> int:
    """Score the files; 0 if all were scored, 1 if any was skipped (usage errors raise ValueError)."""
    import pyiqa
    import torch
    from tqdm import tqdm

    from pyiqa_lifeiqa.io import find_image_files

    check_metric(args.metric)
    try:
        device = torch.device(args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    except RuntimeError as error:
        raise ValueError(f'--device {args.device!r} is not a device: {error}') from None
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise ValueError(f'--device {args.device} was asked for but CUDA is not available')

    failed = []

    def report(path: Path, reason: str) -> None:
        failed.append(path)
        tqdm.write(f'lifeiqa score: skipped {path}: {reason}', file=sys.stderr)

    files = {}  # an ordered set: a file named twice is scored once
    for given in args.paths:
        try:
            files.update(dict.fromkeys(find_image_files(given)))
        except FileNotFoundError:
            report(Path(given), 'no such file or folder')
    if args.output is not None and any(args.output.resolve() == p.resolve() for p in files):
        raise ValueError(f'--output {args.output} is one of the input files; it would be overwritten')
    if not files and not failed:
        raise ValueError(f'no image files found in {", ".join(args.paths)}')

    batches = plan_batches(files, args.batch_size, report)
    scores = {}
    if batches:
        metric = pyiqa.create_metric(args.metric, device=device)
        with tqdm(total=sum(map(len, batches)), unit='image', desc='scoring', file=sys.stderr) as progress:
            for batch in batches:
                scores.update(score_batch(metric, batch, report))
                progress.update(len(batch))
    scores = {p: scores[p] for p in files if p in scores}  # the input order

    if scores:
        print_table(scores)
    if args.output is not None:
        write_scores(scores, args.output)
    if failed:
        print(f'lifeiqa score: {len(failed)} file(s) skipped, {len(scores)} scored', file=sys.stderr)
        return 1
    return 0
