"""Blind metrics on photographs at the sizes people score, with everyday (mild) and strong artefacts.

Each photograph of a part of the photographs' split (``--part test``: the 46 never used to train or
choose the default model) is given at several sizes: its longer side resized (Lanczos) to 384, 512
and 1024 px, never enlarged, and at its native size where that is above 1024 and at most 1536 px (the
default model's ``max_size``: larger photographs it shrinks to 1536 px itself). At each size
it is distorted, at that size, by the series of :data:`SERIES`, mildest first: Gaussian noise,
JPEG, Gaussian blur, down-and-up resampling and a camera-like chain of blur, noise and JPEG, each
with the mild levels people meet every day (noise sigma 3-10 of 255, JPEG quality 30-70, blur sigma
0.7-2, resampling by 0.5, the mildest chain). Every image is labelled with a pseudo-MOS fused, as the
training sets' is (:mod:`pyiqa_lifeiqa.data.pseudo_mos`), over the images of its size from GMSD and
NLPD against the clean image at the same size (:data:`LABEL_METRICS`; the training labels' third
metric, VSI, sees colour, which no series here changes, and would cost twice the other two together).

Per size and metric it reports (``--csv``): SRCC / PLCC against the pseudo-MOS, the median Spearman
correlation of score and level over the (photograph, series) pairs, the share of (clean, distorted)
pairs where the clean photograph scores higher (``clean_wins``) overall, on the mild levels only
(``clean_wins_mild``), and per series (``--by-distortion``), and, for a Life-IQA model, its experts'
shares. Lower-is-better metrics (NIQE, BRISQUE, PIQE; ``lifeiqa prepare-baselines`` makes the first
two work offline) are negated first. ``--consistency`` writes the Spearman correlation between the
clean photographs' scores at 512 and at 1024 px.

The images are written once to ``--data`` in pyiqa's NR layout (``<size>/images``,
``<size>/meta_info.csv``), so pyiqa's own harness can score them too; per-image scores are kept
there (``<size>/scores_<metric>_<weights sha256[:12]>.csv``) and reused by later runs.

Usage:
    python benchmarks/multisize.py --photos PHOTOS/images --data datasets/multisize_test \\
        [--part test] [--metrics lifeiqa niqe brisque piqe] [--weights CKPT] [--working-size 192]
        [--sizes 384 512 1024 native]
        [--csv benchmarks/results/multisize.csv] [--by-distortion benchmarks/results/multisize_by_distortion.csv]
        [--consistency benchmarks/results/multisize_consistency.csv]
"""

from __future__ import annotations

import argparse
import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pyiqa
import torch
from default_model import evaluate, record_expert_shares, traced
from PIL import Image, ImageOps
from pyiqa.metrics import calculate_srcc
from results_io import write_results
from tqdm import tqdm

from pyiqa_lifeiqa.data.photos import photo_part
from pyiqa_lifeiqa.data.pseudo_mos import create_metrics, fuse_scores, score_against
from pyiqa_lifeiqa.device import default_device
from pyiqa_lifeiqa.io import IMAGE_EXTENSIONS

SIZES = ('384', '512', '1024', 'native')
NATIVE_RANGE = (1024, 1536)  # native size: photographs above the largest fixed size, up to the model's max_size
FR_BATCH = 4
LABEL_METRICS = ('gmsd', 'nlpd')


def gaussian_noise(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Additive white Gaussian noise of ``sigma`` (of 255), per channel."""
    return np.clip(image + rng.normal(0.0, sigma, image.shape), 0, 255).round().astype(np.uint8)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Pillow JPEG at ``quality`` (4:2:0)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format='JPEG', quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert('RGB'))


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def resample(image: np.ndarray, factor: float) -> np.ndarray:
    """Down-scaling by ``factor`` (area), then bicubic up-scaling back."""
    height, width = image.shape[:2]
    small = cv2.resize(
        image, (max(1, round(width / factor)), max(1, round(height / factor))), interpolation=cv2.INTER_AREA
    )
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def camera_chain(image: np.ndarray, blur: float, sigma: float, quality: int, rng: np.random.Generator) -> np.ndarray:
    """A camera-like chain: optics blur, then sensor noise, then JPEG."""
    return jpeg(gaussian_noise(gaussian_blur(image, blur), sigma, rng), quality)


@dataclass(frozen=True)
class Series:
    """A distortion at growing levels; the first ``mild`` levels are everyday artefacts."""

    name: str
    levels: tuple[Callable[[np.ndarray, np.random.Generator], np.ndarray], ...]
    mild: int


SERIES = (
    Series('gaussian_noise', tuple((lambda x, r, s=s: gaussian_noise(x, s, r)) for s in (3, 5, 10, 20, 40)), 3),
    Series('jpeg', tuple((lambda x, r, q=q: jpeg(x, q)) for q in (70, 50, 30, 15, 5)), 3),
    Series('gaussian_blur', tuple((lambda x, r, s=s: gaussian_blur(x, s)) for s in (0.7, 1.2, 2.0, 3.5, 6.0)), 3),
    Series('resample', tuple((lambda x, r, f=f: resample(x, f)) for f in (2.0, 3.0, 4.0)), 1),
    Series(
        'camera_chain',
        tuple(
            (lambda x, r, b=b, s=s, q=q: camera_chain(x, b, s, q, r))
            for b, s, q in ((0.8, 4, 60), (1.5, 8, 35), (2.5, 15, 15))
        ),
        1,
    ),
)


def photographs(folder: Path, part: str) -> list[Path]:
    """The photographs of ``part`` of the split found in ``folder``."""
    found = {p.stem: p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS}
    missing = [name for name in photo_part(part) if name not in found]
    if missing:
        raise SystemExit(f'{folder} lacks {len(missing)} {part} photographs (run `lifeiqa fetch-photos`)')
    return [found[name] for name in photo_part(part)]


def at_size(photo: Image.Image, size: str) -> Image.Image | None:
    """The photograph with its longer side at ``size`` px (None if that would enlarge it), or native
    (None outside :data:`NATIVE_RANGE`)."""
    longer = max(photo.size)
    if size == 'native':
        return photo if NATIVE_RANGE[0] < longer <= NATIVE_RANGE[1] else None
    target = int(size)
    if target > longer:
        return None
    scale = target / longer
    return photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.Resampling.LANCZOS)


def write_dataset(photos: list[Path], root: Path, device: str, sizes: tuple[str, ...] = SIZES) -> None:
    """Render, label and write each size's images and ``meta_info.csv`` (skipped where already written)."""
    scorers = create_metrics(LABEL_METRICS, device)
    for size in sizes:
        folder = root / size
        if (folder / 'meta_info.csv').is_file():
            continue
        (folder / 'images').mkdir(parents=True, exist_ok=True)
        rows, raw = [], []
        for path in tqdm(photos, desc=f'images at {size}', unit='photo'):
            with Image.open(path) as opened:
                photo = at_size(ImageOps.exif_transpose(opened).convert('RGB'), size)
            if photo is None:
                continue
            clean = np.asarray(photo)
            pictures = [('pristine', 0, False, clean)]
            for series in SERIES:
                for level, apply in enumerate(series.levels, start=1):
                    rng = np.random.default_rng(
                        [zlib.crc32(path.stem.encode()), zlib.crc32(series.name.encode()), level]
                    )
                    pictures.append((series.name, level, level <= series.mild, apply(clean, rng)))
            for begin in range(0, len(pictures), FR_BATCH):
                batch = [picture for *_, picture in pictures[begin : begin + FR_BATCH]]
                raw.append(score_against(scorers, batch, clean, device))
            for distortion, level, mild, picture in pictures:
                name = f'{path.stem}.png' if level == 0 else f'{path.stem}_{distortion}_{level}.png'
                Image.fromarray(picture).save(folder / 'images' / name, compress_level=1)
                rows.append(
                    {'image': name, 'ref_name': path.stem, 'distortion': distortion, 'level': level, 'mild': mild}
                )
        raw = np.concatenate(raw)
        meta = pd.DataFrame(rows)
        meta.insert(1, 'mos', fuse_scores(raw, [lower for _, lower in scorers]))
        for column, name in enumerate(LABEL_METRICS):
            meta[name] = raw[:, column]
        meta.to_csv(folder / 'meta_info.csv', index=False, float_format='%.6g')


def scores_of(
    metric_name: str, weights: Path | None, folder: Path, device: str, protocol: dict | None = None
) -> tuple[np.ndarray, str]:
    """Scores (higher = better) of a size's images, cached beside them; and the experts' shares ('' if none).

    ``protocol``: scoring-protocol options of a Life-IQA metric (e.g. ``working_size``)."""
    protocol = protocol or {}
    sha = traced(metric_name, weights, folder)['weights_sha256']
    chosen = ''.join(f'_{key}{value}' for key, value in sorted(protocol.items()))
    cache = folder / f'scores_{metric_name}_{sha[:12]}{chosen}.csv'
    meta = pd.read_csv(folder / 'meta_info.csv')
    if cache.is_file():
        cached = pd.read_csv(cache, keep_default_na=False)
        if list(cached.image) == list(meta.image):
            return cached.score.to_numpy(), str(cached.expert_shares.iloc[0])
    options = {} if weights is None else {'pretrained_model_path': str(weights)}
    metric = pyiqa.create_metric(metric_name, device=device, **options, **protocol)
    shares = record_expert_shares(metric.net)
    with torch.no_grad():
        scores = np.array(
            [
                metric(str(folder / 'images' / name)).item()
                for name in tqdm(meta.image, desc=f'{metric_name} {folder.name}')
            ]
        )
    scores = -scores if metric.lower_better else scores
    expert_shares = '/'.join(f'{v:.3f}' for v in torch.stack(shares).mean(0).tolist()) if shares else ''
    pd.DataFrame({'image': meta.image, 'score': scores, 'expert_shares': expert_shares}).to_csv(cache, index=False)
    return scores, expert_shares


def clean_wins(rows: pd.DataFrame) -> float:
    """Share of distorted rows whose photograph's clean version scores higher (``rows`` has ``clean``)."""
    return float((rows.score < rows.clean).mean())


def measure(scores: np.ndarray, meta: pd.DataFrame) -> tuple[dict, list[dict]]:
    """The overall measures and those per series, of scores aligned with ``meta``."""
    rows = meta.assign(score=scores)
    overall = evaluate(scores, meta)
    clean = rows[rows.distortion == 'pristine'].set_index('ref_name').score
    distorted = rows[rows.distortion != 'pristine'].assign(clean=lambda d: clean.loc[d.ref_name].to_numpy())
    overall['clean_wins_mild'] = clean_wins(distorted[distorted.mild])
    per_series = [
        {
            'distortion': name,
            'clean_wins': clean_wins(group),
            'clean_wins_mild': clean_wins(group[group.mild]),
            'median_level_srcc': float(
                group.groupby('ref_name')
                .apply(lambda g: calculate_srcc(g.score, g.level), include_groups=False)
                .median()
            ),
        }
        for name, group in distorted.groupby('distortion')
    ]
    return overall, per_series


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--photos', type=Path, required=True, help='folder of `lifeiqa fetch-photos` images')
    parser.add_argument('--data', type=Path, required=True, help='folder for the rendered images (made once)')
    parser.add_argument('--part', choices=('test', 'val'), default='test')
    parser.add_argument('--metrics', nargs='+', default=['lifeiqa', 'niqe', 'brisque', 'piqe'])
    parser.add_argument('--sizes', nargs='+', choices=SIZES, default=list(SIZES))
    parser.add_argument('--weights', type=Path, help='checkpoint for the lifeiqa metrics (pretrained_model_path)')
    parser.add_argument(
        '--working-size',
        type=int,
        help='lifeiqa metrics: resize every shorter side to this before cropping (the earlier protocol)',
    )
    parser.add_argument('--device', default=default_device())
    parser.add_argument('--csv', type=Path, help='append the measures per size and metric to this CSV')
    parser.add_argument('--by-distortion', type=Path, help='append the measures per size, metric and series')
    parser.add_argument('--consistency', type=Path, help='append Spearman(clean scores at 512, at 1024 px)')
    args = parser.parse_args()

    write_dataset(photographs(args.photos, args.part), args.data, args.device, tuple(args.sizes))
    summary, by_series, consistency = [], [], []
    for metric in args.metrics:
        ours = metric.startswith('lifeiqa')
        weights = args.weights if ours else None
        protocol = {'working_size': args.working_size, 'max_size': None} if ours and args.working_size else {}
        clean_scores = {}
        for size in args.sizes:
            folder = args.data / size
            trace = traced(metric, weights, folder)
            meta = pd.read_csv(folder / 'meta_info.csv')
            scores, shares = scores_of(metric, weights, folder, args.device, protocol)
            overall, per_series = measure(scores, meta)
            head = {'metric': metric, 'working_size': protocol.get('working_size', ''), 'part': args.part, 'size': size}
            summary.append({**head, **overall, 'expert_shares': shares, **trace})
            by_series += [{**head, **row, **trace} for row in per_series]
            clean_scores[size] = pd.Series(scores, index=meta.image)[meta.distortion.eq('pristine').to_numpy()]
            print(
                f'{metric:>8} {size:>6}: srcc {overall["srcc"]:.3f} plcc {overall["plcc"]:.3f} '
                f'level {overall["median_level_srcc"]:.3f} clean wins {overall["pristine_wins"]:.3f} '
                f'(mild {overall["clean_wins_mild"]:.3f})  '
                + ' '.join(f'{r["distortion"]} {r["clean_wins"]:.2f}/{r["clean_wins_mild"]:.2f}' for r in per_series)
            )
        if not {'512', '1024'} <= set(clean_scores):
            continue
        both = clean_scores['512'].index.intersection(clean_scores['1024'].index)
        rho = float(calculate_srcc(clean_scores['512'].loc[both], clean_scores['1024'].loc[both]))
        consistency.append(
            {
                'metric': metric,
                'working_size': protocol.get('working_size', ''),
                'part': args.part,
                'photographs': len(both),
                'srcc_512_1024': rho,
                **trace,
            }
        )
        print(f'{metric:>8}: Spearman of clean scores at 512 and 1024 px over {len(both)} photographs: {rho:.3f}')
    for path, rows in ((args.csv, summary), (args.by_distortion, by_series), (args.consistency, consistency)):
        if path and rows:
            write_results(rows, path, {}, append=True)


if __name__ == '__main__':
    main()
