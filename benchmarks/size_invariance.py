"""How a metric's score of one photograph moves when the photograph is given at another size.

Each photograph of the list (the test part of a split of a ``lifeiqa make-synthetic`` set made by
``lifeiqa fetch-photos``; its original files, not the 192x256 dataset images) is resized so that its
longer side is 256, 512 and 1024 px (Lanczos; photographs whose longer side is below 1024 px are
left out, so nothing is upsampled) and scored at each size. Printed and written per protocol:

* the Spearman correlation between the scores at 512 and at 1024 px (rank agreement);
* the share of photographs whose 256 px thumbnail outscores both its 512 and 1024 px versions;
* the median absolute score change from 1024 to 256 px.

``--working-size`` values compare protocols: ``none`` scores at the native size, a number
resizes every image's shorter side to it before cropping (``LifeIQA(working_size=...)``).

Usage:
    python benchmarks/size_invariance.py --data DATASET --photos PHOTOS/images [--metric lifeiqa]
        [--working-size 192 none] [--csv benchmarks/results/size_invariance.csv]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import pyiqa
import torch
from default_model import held_out_rows, traced  # benchmarks/ is on sys.path when run as a script
from PIL import Image
from pyiqa.metrics import calculate_srcc
from results_io import write_results
from torchvision.transforms.functional import to_tensor

from pyiqa_lifeiqa.device import default_device

SIZES = (256, 512, 1024)


def resized(path: Path, long_side: int) -> torch.Tensor:
    with Image.open(path) as image:
        image = image.convert('RGB')
        scale = long_side / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        return to_tensor(image.resize(size, Image.Resampling.LANCZOS))[None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', type=Path, required=True, help='make-synthetic dataset made from the photographs')
    parser.add_argument('--photos', type=Path, required=True, help='the original photographs (fetch-photos images/)')
    parser.add_argument('--split-index', type=int, default=1)
    parser.add_argument('--phase', default='test')
    parser.add_argument('--metric', default='lifeiqa')
    parser.add_argument('--working-size', nargs='+', default=['192', 'none'])
    parser.add_argument('--device', default=default_device())
    parser.add_argument('--csv', type=Path)
    args = parser.parse_args()
    trace = traced(args.metric, None, args.data)  # the tree as it was when the run started

    names = sorted(held_out_rows(args.data, args.split_index, args.phase).ref_name.unique())
    files = {p.stem: p for p in args.photos.iterdir()}
    chosen = []
    for name in names:
        with Image.open(files[name]) as image:
            if max(image.size) >= max(SIZES):
                chosen.append(files[name])
    results = []
    for working in args.working_size:
        size = None if working == 'none' else int(working)
        metric = pyiqa.create_metric(args.metric, device=args.device, working_size=size)
        scores = {s: [] for s in SIZES}
        with torch.no_grad():
            for path in chosen:
                for s in SIZES:
                    scores[s].append(float(metric(resized(path, s).to(args.device))))
        thumb_wins = sum(a > b and a > c for a, b, c in zip(scores[256], scores[512], scores[1024], strict=True))
        result = {
            'metric': args.metric,
            'working_size': working,
            'photographs': len(chosen),
            'srcc_512_vs_1024': round(float(calculate_srcc(scores[512], scores[1024])), 4),
            'thumbnail_256_outscores_both': round(thumb_wins / len(chosen), 4),
            'median_abs_change_1024_to_256': round(
                statistics.median(abs(a - b) for a, b in zip(scores[256], scores[1024], strict=True)), 4
            ),
            'median_score_256_512_1024': '/'.join(f'{statistics.median(scores[s]):.4f}' for s in SIZES),
        }
        print(result)
        results.append(result)
    if args.csv:
        write_results(results, args.csv, trace)


if __name__ == '__main__':
    main()
