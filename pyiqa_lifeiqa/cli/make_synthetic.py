"""``lifeiqa make-synthetic``: write a synthetic, FR-metric-labelled IQA dataset."""

from __future__ import annotations

import argparse

from pyiqa_lifeiqa.data.pseudo_mos import FR_METRICS


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``HxW`` (e.g. ``384x512``) into ``(height, width)``."""
    parts = text.lower().split('x')
    if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
        raise argparse.ArgumentTypeError(f'size must look like HEIGHTxWIDTH, e.g. 384x512; got {text!r}')
    return int(parts[0]), int(parts[1])


def parse_range(text: str) -> tuple[int, int]:
    """Parse ``MIN-MAX`` (e.g. ``384-1536``) into ``(MIN, MAX)``."""
    parts = text.split('-')
    if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
        raise argparse.ArgumentTypeError(f'expected MIN-MAX in pixels, e.g. 384-1536; got {text!r}')
    return int(parts[0]), int(parts[1])


def parse_names(text: str) -> list[str]:
    """Parse a comma-separated list of names."""
    return [name.strip() for name in text.split(',') if name.strip()]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``make-synthetic`` sub-command."""
    parser = subparsers.add_parser(
        'make-synthetic',
        help='Write a synthetic KADID-like IQA dataset with pseudo-MOS from FR metrics.',
        description=(
            'Distort pristine images at increasing severities and label every image with a pseudo-MOS '
            f'fused from pyiqa FR metrics (default {", ".join(FR_METRICS)}). Writes OUT/images/*.png, '
            'OUT/meta_info.csv and OUT/splits.pkl (pyiqa GeneralNRDataset layout).'
        ),
    )
    parser.add_argument('--out', help='dataset root to create (must not exist or be empty); required')
    parser.add_argument('--images', help="folder of pristine images (default: scikit-image's bundled photographs)")
    parser.add_argument('--levels', type=int, default=5, help='severity levels per distortion (default: 5)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default: 0)')
    parser.add_argument('--size', type=parse_size, default=(384, 512), help='HEIGHTxWIDTH (default: 384x512)')
    parser.add_argument(
        '--crops',
        type=int,
        default=0,
        help='random crops made from each image of --images (default: 0, the whole image)',
    )
    parser.add_argument(
        '--vary-tone', action='store_true', help="with --crops: vary each crop's exposure, contrast and colour"
    )
    parser.add_argument(
        '--scales',
        type=parse_range,
        help='with --crops: MIN-MAX longer side in px; each crop is --size pixels of the image resized into that range',
    )
    parser.add_argument(
        '--photo-parts',
        type=parse_names,
        help="keep only the listed photographs of these parts of their split (train,val,test), e.g. 'train,val'",
    )
    parser.add_argument('--procedural', type=int, default=0, help='procedurally generated images to add (default: 0)')
    parser.add_argument('--distortions', type=parse_names, help='comma-separated distortion names (default: all)')
    parser.add_argument('--device', default='cpu', help='device for the FR metrics (default: cpu)')
    parser.add_argument(
        '--batch-size', type=int, help='images per metric call (default: about 0.4 megapixels, 2 at 384x512)'
    )
    parser.add_argument(
        '--metrics',
        type=parse_names,
        help=f"comma-separated pyiqa FR metrics to fuse (default: {','.join(FR_METRICS)}, the shipped model's)",
    )
    parser.add_argument(
        '--workers', type=int, default=1, help='processes that render the images (default: 1; same files)'
    )
    parser.add_argument('--list-distortions', action='store_true', help='print the distortion names and exit')
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``make-synthetic``."""
    from pyiqa_lifeiqa.data.distortions import DISTORTIONS
    from pyiqa_lifeiqa.data.synthetic import make_synthetic_dataset

    if args.list_distortions:
        print('\n'.join(DISTORTIONS))
        return 0
    if not args.out:
        raise ValueError('--out is required')
    root = make_synthetic_dataset(
        args.out,
        images=args.images,
        levels=args.levels,
        seed=args.seed,
        size=args.size,
        procedural=args.procedural,
        distortions=args.distortions,
        device=args.device,
        batch_size=args.batch_size,
        metrics=args.metrics or FR_METRICS,
        workers=args.workers,
        crops=args.crops,
        vary_tone=args.vary_tone,
        scales=args.scales,
        photo_parts=args.photo_parts,
    )
    print(f'wrote {root / "meta_info.csv"}, {root / "splits.pkl"} and {root / "images"}')
    return 0
