"""``lifeiqa map``: each image beside its Life-IQA quality map, written as a PNG."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pyiqa_lifeiqa.cli.score import check_metric, find_files, natural_int, positive_int


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        'map',
        help='draw where in each image the quality is low (a Life-IQA quality map)',
        description='For each image file (and each image found recursively in folders), write OUT/<name>_map.png: '
        'the image beside its quality map, where each pixel is the mean score of the crops that cover it, on one '
        "colour scale (the metric's score range) with a colour bar, and the image's score in the title. "
        'Unreadable files are reported on stderr and skipped (exit status 1 if any).',
    )
    parser.add_argument('paths', nargs='+', metavar='IMAGE', help='image files or folders')
    parser.add_argument('--out', required=True, type=Path, help='folder the PNGs are written to (made if missing)')
    parser.add_argument('--metric', default='lifeiqa', help='a Life-IQA pyiqa metric (default: %(default)s)')
    parser.add_argument(
        '--stride',
        type=positive_int,
        default=None,
        help='pixels between crops, at most the crop size; smaller is finer and slower '
        '(default: the crops the score is the mean of)',
    )
    parser.add_argument('--device', default=None, help='cpu, cuda, cuda:1, ... (default: cuda if available)')
    parser.add_argument(
        '--max-pixels',
        type=natural_int,
        default=None,
        help="refuse images of more pixels; 0: no limit (default: PIL's Image.MAX_IMAGE_PIXELS)",
    )
    parser.set_defaults(func=run)


def figure_names(files: list[Path]) -> list[str]:
    """``<stem>_map.png`` for each file; a stem met again gets ``-2``, ``-3``, ...: no figure replaces another."""
    seen: dict[str, int] = {}
    names = []
    for path in files:
        seen[path.stem] = seen.get(path.stem, 0) + 1
        suffix = '' if seen[path.stem] == 1 else f'-{seen[path.stem]}'
        names.append(f'{path.stem}{suffix}_map.png')
    return names


def run(args: argparse.Namespace) -> int:
    """Write the figures; 0 if every file was mapped, 1 if any was skipped."""
    import pyiqa

    from pyiqa_lifeiqa.io import ImageReadError, load_image
    from pyiqa_lifeiqa.scoring.distributed import Ranks
    from pyiqa_lifeiqa.visual.figure import quality_figure, require_quality_maps

    check_metric(args.metric)
    found, missing = find_files(args.paths)
    if not found and not missing:
        raise ValueError(f'no image files found in {", ".join(args.paths)}')
    metric = pyiqa.create_metric(args.metric, device=Ranks().device(args.device))
    require_quality_maps(metric)
    args.out.mkdir(parents=True, exist_ok=True)
    skipped = [(path, 'no such file or folder') for path in missing]
    files = list(found)
    for path, name in zip(files, figure_names(files), strict=True):
        try:
            image = load_image(path, args.max_pixels)
        except ImageReadError as error:
            skipped.append((path, str(error)))
            continue
        score, figure = quality_figure(metric, image, path.name, args.stride)
        figure.save(args.out / name)
        print(f'{path}  {score:.4f}  {args.out / name}')
    for path, reason in skipped:
        print(f'lifeiqa map: skipped {path}: {reason}', file=sys.stderr)
    return 1 if skipped else 0
