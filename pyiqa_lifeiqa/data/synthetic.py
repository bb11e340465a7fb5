"""A synthetic, KADID-like IQA dataset labelled by full-reference metrics.

Each pristine image (:mod:`~pyiqa_lifeiqa.data.pristine`, optionally as random views,
:mod:`~pyiqa_lifeiqa.data.views`, plus procedural pictures, :mod:`~pyiqa_lifeiqa.data.procedural`)
is resized and centre-cropped to one size, distorted by every type of
:mod:`pyiqa_lifeiqa.data.distortions` at ``levels`` severities, and every image (the pristine
one included) is labelled by :mod:`~pyiqa_lifeiqa.data.pseudo_mos`. The result is pyiqa's
no-reference dataset layout::

    OUT/images/*.png     pristine images ``<ref>.png`` and distorted ``<ref>_<distortion>_<level>.png``
    OUT/meta_info.csv    image, mos, ref_name, distortion, level, one raw column per FR metric
    OUT/splits.pkl       10 seeded train/val/test splits, content-disjoint by reference image

which ``GeneralNRDataset`` reads with ``dataroot_target=OUT/images``,
``meta_info_file=OUT/meta_info.csv`` and ``split_file=OUT/splits.pkl``.
"""

from __future__ import annotations

import csv
import multiprocessing
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from tqdm import tqdm

from pyiqa_lifeiqa.data.distortions import DISTORTIONS, distort, severities
from pyiqa_lifeiqa.data.photos import photo_part
from pyiqa_lifeiqa.data.pristine import pristine_images
from pyiqa_lifeiqa.data.procedural import procedural_image
from pyiqa_lifeiqa.data.pseudo_mos import FR_METRICS, check_metrics, create_metrics, fuse_scores, score_against
from pyiqa_lifeiqa.data.splits import make_splits, save_splits
from pyiqa_lifeiqa.data.views import seeded_view

# MS-SSIM's five scales with an 11x11 'valid' window need at least 161 pixels a side.
MIN_SIZE = 161
NUM_SPLITS = 10
BATCH_PIXELS = 400_000
# zlib level 1: 3x faster to write than the default 6, files about 10 % larger.
PNG_COMPRESS_LEVEL = 1
CSV_COLUMNS = ('image', 'mos', 'ref_name', 'distortion', 'level')  # then one column per FR metric


def make_synthetic_dataset(
    out: str | Path,
    images: str | Path | None = None,
    levels: int = 5,
    seed: int = 0,
    size: tuple[int, int] = (384, 512),
    procedural: int = 0,
    distortions: Sequence[str] | None = None,
    device: str | torch.device = 'cpu',
    batch_size: int | None = None,
    metrics: Sequence[str] = FR_METRICS,
    workers: int = 1,
    crops: int = 0,
    vary_tone: bool = False,
    scales: tuple[int, int] | None = None,
    photo_parts: Sequence[str] | None = None,
) -> Path:
    """Write a synthetic IQA dataset (see the module docstring for the layout).

    The same arguments give byte-identical files. Each distortion series draws its random
    pattern from a generator seeded by ``(seed, reference name, distortion name)``, so a series
    does not change when other references or distortions are added.

    Args:
        out: Dataset root; must not exist or be an empty folder.
        images: Folder of pristine images (its top level only). None: the colour photographs
            bundled with scikit-image (:data:`~pyiqa_lifeiqa.data.pristine.SKIMAGE_PHOTOS`).
        levels: Severity levels per distortion, mildest to strongest.
        seed: Seed of the random distortion patterns, the procedural images and the splits.
        size: ``(height, width)`` every pristine image is resized and centre-cropped to.
        procedural: Number of procedurally generated pristine images added (see
            :func:`~pyiqa_lifeiqa.data.procedural.procedural_image`).
        distortions: Distortion names (keys of :data:`~pyiqa_lifeiqa.data.distortions.DISTORTIONS`),
            in row order. None: all of them.
        device: Device the FR metrics run on.
        batch_size: Images scored per metric call. None: about :data:`BATCH_PIXELS` pixels per
            batch (2 images at 384x512, 8 at 192x256), the fastest on a CPU in our measurements
            (larger batches are slower there: VIF and MS-SSIM fall out of the cache).
        metrics: pyiqa FR metrics fused into the pseudo-MOS (default
            :data:`~pyiqa_lifeiqa.data.pseudo_mos.FR_METRICS`, those of the shipped model's set).
        workers: Processes that render and write the images, one reference at a time, while this
            process scores them; 1 renders here. The files do not depend on it.
        crops: Pristine references made from each image of ``images``: 0 uses the whole image;
            N > 0 makes N seeded random views ``<name>_crop<k>`` (see
            :func:`~pyiqa_lifeiqa.data.views.random_view`), so a few photographs give many references.
        vary_tone: With ``crops``, also vary each view's exposure, contrast and colour
            (see :func:`~pyiqa_lifeiqa.data.views.random_view`).
        scales: With ``crops``, ``(least, most)`` longer side in pixels: each view is ``size``
            pixels of the image resized to a random longer side in that range (never enlarged),
            so that distortions and labels are at the pixel scale of images given at that size.
        photo_parts: Keep only the images of ``images`` named in these parts (``train``, ``val``,
            ``test``) of the listed photographs' split (:func:`~pyiqa_lifeiqa.data.photos.photo_part`).

    Returns:
        The dataset root ``out``.

    Raises:
        FileNotFoundError: ``images`` does not exist.
        ValueError: Bad arguments, no images in ``images``, fewer than 3 pristine images,
            clashing image names, or ``out`` is not empty.
    """
    distortions = list(DISTORTIONS) if distortions is None else list(distortions)
    metric_names = list(metrics)
    _check_arguments(levels, size, procedural, distortions, batch_size, workers, crops, vary_tone, scales)
    check_metrics(metric_names)
    batch_size = max(1, BATCH_PIXELS // (size[0] * size[1])) if batch_size is None else batch_size
    photos = pristine_images(images)
    if photo_parts is not None:
        keep = {name for part in photo_parts for name in photo_part(part)}
        photos = [(name, load) for name, load in photos if name in keep]
        if not photos:
            raise ValueError(f'{images} holds none of the photographs of part(s) {", ".join(photo_parts)}')
    if crops:
        digits = len(str(crops - 1))
        photos = [
            (
                f'{name}_crop{index:0{digits}d}',
                partial(seeded_view, load, size, vary_tone, [seed, zlib.crc32(name.encode()), index], scales),
            )
            for name, load in photos
            for index in range(crops)
        ]
    references = photos + [
        (f'procedural_{index:04d}', partial(procedural_image, size, np.random.default_rng([seed, 0x5EED, index])))
        for index in range(procedural)
    ]
    rows = _plan_rows([name for name, _ in references], distortions, levels)
    out = _prepare_out(Path(out))

    scorers = create_metrics(metric_names, device)
    raw = np.zeros((len(rows), len(scorers)))
    per_reference = 1 + len(distortions) * levels
    jobs = [
        partial(_render_reference, load, size, rows[index * per_reference : (index + 1) * per_reference], seed, out)
        for index, (_, load) in enumerate(references)
    ]
    with _job_runner(workers) as run_jobs, tqdm(total=len(rows), desc='make-synthetic', unit='img') as bar:
        for index, (pristine, pictures) in enumerate(run_jobs(jobs)):
            offset = index * per_reference
            for begin in range(0, per_reference, batch_size):
                end = min(begin + batch_size, per_reference)
                raw[offset + begin : offset + end] = score_against(scorers, pictures[begin:end], pristine, device)
                bar.update(end - begin)

    mos = fuse_scores(raw, [lower_better for _, lower_better in scorers])
    _write_csv(out / 'meta_info.csv', rows, mos, raw, metric_names)
    splits = make_splits(len(rows), [row['ref_name'] for row in rows], num_splits=NUM_SPLITS, seed=seed)
    save_splits(splits, out / 'splits.pkl')
    return out


def _check_arguments(
    levels: int,
    size: tuple[int, int],
    procedural: int,
    distortions: list[str],
    batch_size: int | None,
    workers: int,
    crops: int,
    vary_tone: bool,
    scales: tuple[int, int] | None,
) -> None:
    if not isinstance(levels, int) or levels < 1:
        raise ValueError(f'levels must be a positive integer, got {levels!r}')
    if len(size) != 2 or any(not isinstance(side, int) or side < MIN_SIZE for side in size):
        raise ValueError(f'size must be (height, width) with both at least {MIN_SIZE} (for MS-SSIM), got {size!r}')
    if not isinstance(procedural, int) or procedural < 0:
        raise ValueError(f'procedural must be a non-negative integer, got {procedural!r}')
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f'batch_size must be a positive integer, got {batch_size!r}')
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f'workers must be a positive integer, got {workers!r}')
    if not isinstance(crops, int) or crops < 0:
        raise ValueError(f'crops must be a non-negative integer, got {crops!r}')
    if vary_tone and not crops:
        raise ValueError('vary_tone needs crops > 0 (it varies the random views)')
    if scales is not None:
        if not crops:
            raise ValueError('scales needs crops > 0 (it sets the size the views are taken at)')
        if len(scales) != 2 or not all(isinstance(s, int) and s >= max(size) for s in scales) or scales[0] > scales[1]:
            raise ValueError(f'scales must be (least, most) longer sides of at least {max(size)} px, got {scales!r}')
    if not distortions:
        raise ValueError('distortions is empty; choose from ' + ', '.join(DISTORTIONS))
    unknown = [name for name in distortions if name not in DISTORTIONS]
    if unknown:
        raise ValueError(f'unknown distortion(s) {", ".join(unknown)}; choose from {", ".join(DISTORTIONS)}')
    if len(set(distortions)) != len(distortions):
        raise ValueError(f'distortions repeat a name: {", ".join(distortions)}')


def _plan_rows(references: list[str], distortions: list[str], levels: int) -> list[dict]:
    """One row per output image: the pristine image, then each distortion at each level."""
    if len(references) < 3:
        raise ValueError(f'need at least 3 pristine images for content-disjoint splits, got {len(references)}')
    rows = []
    for ref in references:
        rows.append({'image': f'{ref}.png', 'ref_name': ref, 'distortion': 'pristine', 'level': 0, 'severity': 0.0})
        for distortion in distortions:
            for level, severity in enumerate(severities(levels), start=1):
                image = f'{ref}_{distortion}_{level}.png'
                rows.append(
                    {'image': image, 'ref_name': ref, 'distortion': distortion, 'level': level, 'severity': severity}
                )
    clashes = sorted(name for name, count in Counter(row['image'] for row in rows).items() if count > 1)
    if clashes:
        raise ValueError(f'pristine image names give clashing file names: {", ".join(clashes[:5])}')
    return rows


def _prepare_out(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise ValueError(f'output path {out} is a file')
    if out.is_dir() and any(out.iterdir()):
        raise ValueError(f'output folder {out} is not empty; choose a new one')
    (out / 'images').mkdir(parents=True, exist_ok=True)
    return out


def _render_reference(
    load: Callable[[], Image.Image], size: tuple[int, int], rows: list[dict], seed: int, out: Path
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Render and write the images of one reference (``rows``); returns its pristine image and them."""
    pristine = np.asarray(ImageOps.fit(load(), size[::-1], Image.Resampling.LANCZOS))
    pictures = [_render(pristine, row, seed) for row in rows]
    for row, picture in zip(rows, pictures, strict=True):
        Image.fromarray(picture).save(out / 'images' / row['image'], compress_level=PNG_COMPRESS_LEVEL)
    return pristine, pictures


@contextmanager
def _job_runner(workers: int) -> Iterator[Callable[[list[Callable]], Iterator]]:
    """A function that runs argument-free jobs and yields their results in order.

    With ``workers`` 1 the jobs run here; otherwise in a process pool, at most ``2 * workers`` ahead
    of the consumer, so that finished results do not pile up in memory while it is slower.
    """
    if workers == 1:
        yield lambda jobs: (job() for job in jobs)
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context('spawn')) as pool:

        def run(jobs: list[Callable]) -> Iterator:
            pending = deque()
            for job in jobs:
                pending.append(pool.submit(job))
                if len(pending) > 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

        yield run


def _render(pristine: np.ndarray, row: dict, seed: int) -> np.ndarray:
    if row['distortion'] == 'pristine':
        return pristine
    key = [seed, zlib.crc32(row['ref_name'].encode()), zlib.crc32(row['distortion'].encode())]
    return distort(pristine, row['distortion'], row['severity'], np.random.default_rng(key))


def _write_csv(path: Path, rows: list[dict], mos: np.ndarray, raw: np.ndarray, metrics: Sequence[str]) -> None:
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow([*CSV_COLUMNS, *metrics])
        # 6 significant digits: float32 metric scores can differ further down with the CPU thread count
        for row, score, scores in zip(rows, mos, raw, strict=True):
            values = [f'{score:.6f}', row['ref_name'], row['distortion'], row['level'], *(f'{s:.6g}' for s in scores)]
            writer.writerow([row['image'], *values])
