"""A synthetic, KADID-like IQA dataset labelled by full-reference metrics.

Each pristine image is resized and centre-cropped to one size, distorted by every type of
:mod:`pyiqa_lifeiqa.data.distortions` at ``levels`` severities, and every image (the pristine
one included) is scored against its pristine reference by pyiqa full-reference metrics that
need no download (:data:`FR_METRICS`). The scores are fused into one pseudo-MOS by
:func:`fuse_scores`. The result is pyiqa's no-reference dataset layout::

    OUT/images/*.png     pristine images ``<ref>.png`` and distorted ``<ref>_<distortion>_<level>.png``
    OUT/meta_info.csv    image, mos, ref_name, distortion, level, one raw column per FR metric
    OUT/splits.pkl       10 seeded train/val/test splits, content-disjoint by reference image

which ``GeneralNRDataset`` reads with ``dataroot_target=OUT/images``,
``meta_info_file=OUT/meta_info.csv`` and ``split_file=OUT/splits.pkl``.

The pseudo-MOS (column ``mos``, higher = better): each metric is oriented so that higher is
better (negated where pyiqa's ``lower_better``), z-scored over the whole dataset, the z-scores
are averaged, and the average is min-max scaled over the dataset to [0, 1]. So 1 is the best
and 0 the worst image of this dataset, and values compare only within one dataset. MS-SSIM, GMSD,
VIF and NLPD see luminance only, so a set labelled by them alone scores colour-only distortions
(``desaturate``, ``color_diffusion``) close to their pristine images; FSIM (its chromatic form)
and VSI also compare colour. MS-SSIM is pyiqa's, computed in float32 (see
:func:`_ms_ssim_float32`).
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

import cv2
import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm import tqdm

from pyiqa_lifeiqa.data.distortions import DISTORTIONS, distort, severities
from pyiqa_lifeiqa.data.splits import make_splits, save_splits

FR_METRICS = ('ms_ssim', 'fsim', 'gmsd', 'vif', 'nlpd')
# Colour photographs shipped inside scikit-image (no pooch download); stereo_motorcycle is the left view.
SKIMAGE_PHOTOS = (
    'astronaut',
    'chelsea',
    'coffee',
    'rocket',
    'stereo_motorcycle',
    'hubble_deep_field',
    'immunohistochemistry',
    'retina',
)
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.ppm', '.tif', '.tiff', '.webp')
# MS-SSIM's five scales with an 11x11 'valid' window need at least 161 pixels a side.
MIN_SIZE = 161
NUM_SPLITS = 10
BATCH_PIXELS = 400_000
# zlib level 1: 3x faster to write than the default 6, files about 10 % larger.
PNG_COMPRESS_LEVEL = 1
CSV_COLUMNS = ('image', 'mos', 'ref_name', 'distortion', 'level')  # then one column per FR metric

Reference = tuple[str, Callable[[], Image.Image]]
Scorer = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


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
) -> Path:
    """Write a synthetic IQA dataset (see the module docstring for the layout).

    The same arguments give byte-identical files. Each distortion series draws its random
    pattern from a generator seeded by ``(seed, reference name, distortion name)``, so a series
    does not change when other references or distortions are added.

    Args:
        out: Dataset root; must not exist or be an empty folder.
        images: Folder of pristine images (its top level only). None: the colour photographs
            bundled with scikit-image (:data:`SKIMAGE_PHOTOS`).
        levels: Severity levels per distortion, mildest to strongest.
        seed: Seed of the random distortion patterns, the procedural images and the splits.
        size: ``(height, width)`` every pristine image is resized and centre-cropped to.
        procedural: Number of procedurally generated pristine images added (see
            :func:`procedural_image`).
        distortions: Distortion names (keys of :data:`~pyiqa_lifeiqa.data.distortions.DISTORTIONS`),
            in row order. None: all of them.
        device: Device the FR metrics run on.
        batch_size: Images scored per metric call. None: about :data:`BATCH_PIXELS` pixels per
            batch (2 images at 384x512, 8 at 192x256), the fastest on a CPU in our measurements
            (larger batches are slower there: VIF and MS-SSIM fall out of the cache).
        metrics: pyiqa FR metrics fused into the pseudo-MOS (default :data:`FR_METRICS`; a
            faster set such as ``('gmsd', 'nlpd', 'vsi')`` suits large sets on a CPU).
        workers: Processes that render and write the images, one reference at a time, while this
            process scores them; 1 renders here. The files do not depend on it.
        crops: Pristine references made from each image of ``images``: 0 uses the whole image;
            N > 0 makes N seeded random views ``<name>_crop<k>`` (see :func:`random_view`), so a
            few photographs give many references.
        vary_tone: With ``crops``, also vary each view's exposure, contrast and colour
            (see :func:`random_view`).

    Returns:
        The dataset root ``out``.

    Raises:
        FileNotFoundError: ``images`` does not exist.
        ValueError: Bad arguments, no images in ``images``, fewer than 3 pristine images,
            clashing image names, or ``out`` is not empty.
    """
    distortions = list(DISTORTIONS) if distortions is None else list(distortions)
    metric_names = list(metrics)
    _check_arguments(levels, size, procedural, distortions, batch_size, workers, crops, vary_tone)
    _check_metrics(metric_names)
    batch_size = max(1, BATCH_PIXELS // (size[0] * size[1])) if batch_size is None else batch_size
    photos = _pristine_images(images)
    if crops:
        digits = len(str(crops - 1))
        photos = [
            (
                f'{name}_crop{index:0{digits}d}',
                partial(_view_of, load, size, vary_tone, [seed, zlib.crc32(name.encode()), index]),
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

    scorers = _create_metrics(metric_names, device)
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
                raw[offset + begin : offset + end] = _score(scorers, pictures[begin:end], pristine, device)
                bar.update(end - begin)

    mos = fuse_scores(raw, [lower_better for _, lower_better in scorers])
    _write_csv(out / 'meta_info.csv', rows, mos, raw, metric_names)
    splits = make_splits(len(rows), [row['ref_name'] for row in rows], num_splits=NUM_SPLITS, seed=seed)
    save_splits(splits, out / 'splits.pkl')
    return out


def fuse_scores(raw: np.ndarray, lower_better: Sequence[bool]) -> np.ndarray:
    """Fuse raw FR scores into one pseudo-MOS in [0, 1], higher = better.

    Each metric (column) is negated if lower is better, z-scored over all rows (a constant
    column contributes 0), the z-scores are averaged per row, and the average is min-max
    scaled over all rows to [0, 1] (all 1 if every row is equal).

    Args:
        raw: ``rows x metrics`` raw scores.
        lower_better: Per metric, whether a lower raw score means better quality.

    Returns:
        The pseudo-MOS of each row.
    """
    raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim != 2 or raw.shape[1] != len(lower_better):
        raise ValueError(f'expected a rows x {len(lower_better)} score array, got shape {raw.shape}')
    if not np.isfinite(raw).all():
        raise ValueError('FR scores contain NaN or infinity')
    oriented = np.where(np.asarray(lower_better, dtype=bool), -raw, raw)
    spread = oriented.std(axis=0)
    fused = ((oriented - oriented.mean(axis=0)) / np.where(spread > 0, spread, 1.0)).mean(axis=1)
    span = fused.max() - fused.min()
    return (fused - fused.min()) / span if span > 0 else np.ones_like(fused)


def procedural_image(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A seeded natural-ish test picture: flat and textured regions with sharp and soft edges.

    A four-colour gradient, overlaid with 10-24 random ellipses, polygons, rotated rectangles and
    strokes, each filled with a flat colour, a gradient, stripes or a multi-scale (1/f-like)
    noise texture, half of them with defocused edges; then smooth uneven lighting and a slight
    optical blur. Colours are moderately saturated.

    Args:
        size: ``(height, width)``.
        rng: Source of every random choice.

    Returns:
        An RGB image of the given size.
    """
    height, width = size
    corners = _colors(rng, 4).reshape(2, 2, 3)
    ys, xs = np.linspace(0.0, 1.0, height, dtype=np.float32), np.linspace(0.0, 1.0, width, dtype=np.float32)
    rows = corners[0][None] * (1.0 - ys[:, None, None]) + corners[1][None] * ys[:, None, None]
    image = rows[:, 0][:, None] * (1.0 - xs[None, :, None]) + rows[:, 1][:, None] * xs[None, :, None]
    image *= 1.0 + 0.25 * _fractal_noise(size, rng, octaves=3, persistence=0.5)[..., None]
    for _ in range(rng.integers(10, 25)):
        mask = _shape_mask(size, rng)
        image = image * (1.0 - mask[..., None]) + _fill(size, rng) * mask[..., None]
    image *= 0.8 + 0.3 * _fractal_noise(size, rng, octaves=2, persistence=0.5)[..., None]
    image = cv2.GaussianBlur(image, (0, 0), 0.6, borderType=cv2.BORDER_REFLECT)
    return Image.fromarray(np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8))


def random_view(
    image: Image.Image, size: tuple[int, int], rng: np.random.Generator, vary_tone: bool = False
) -> Image.Image:
    """A random crop of ``image`` with the aspect ratio of ``size``, mirrored half of the time.

    The crop covers a uniform fraction of the largest such crop's area, from the area of ``size``
    (no upsampling, when the image is large enough) or 10 %, whichever is larger, up to all of it.
    With ``vary_tone`` its tone is changed too: a gamma in [0.6, 2.2] (most views darker),
    contrast around the mean scaled by [0.6, 1], and greyscale in a quarter of the views. A
    changed view is still a clean image: its distorted versions are labelled against it.

    Args:
        image: An RGB image.
        size: ``(height, width)`` whose aspect ratio the crop takes.
        rng: The random generator.
        vary_tone: Whether to change the tone as well.

    Returns:
        The view, an RGB image (not yet resized to ``size``).
    """
    height, width = size
    largest = min(image.width, image.height * width / height)
    smallest = min(largest, max(width, largest * np.sqrt(0.1)))
    crop_width = np.sqrt(rng.uniform(smallest**2, largest**2))
    crop = (max(1, round(crop_width)), max(1, round(crop_width * height / width)))
    left = int(rng.integers(0, image.width - crop[0] + 1))
    top = int(rng.integers(0, image.height - crop[1] + 1))
    view = image.crop((left, top, left + crop[0], top + crop[1]))
    if rng.random() < 0.5:
        view = ImageOps.mirror(view)
    if not vary_tone:
        return view
    pixels = (np.asarray(view, np.float32) / 255.0) ** rng.uniform(0.6, 2.2)
    pixels = pixels.mean() + (pixels - pixels.mean()) * rng.uniform(0.6, 1.0)
    view = Image.fromarray(np.clip(pixels * 255.0 + 0.5, 0, 255).astype(np.uint8))
    return view.convert('L').convert('RGB') if rng.random() < 0.25 else view


def _view_of(load: Callable[[], Image.Image], size: tuple[int, int], vary_tone: bool, key: list[int]) -> Image.Image:
    return random_view(load(), size, np.random.default_rng(key), vary_tone)


def _fractal_noise(size: tuple[int, int], rng: np.random.Generator, octaves: int, persistence: float) -> np.ndarray:
    """Sum of ``octaves`` bicubically up-sampled white-noise grids, 2 to 2**octaves cells high.

    Octave ``i`` has amplitude ``persistence**i``; the sum is scaled to a standard deviation of
    0.4 and clipped to [-1, 1].
    """
    height, width = size
    noise = np.zeros(size, np.float32)
    for octave in range(octaves):
        cells = 2 ** (octave + 1)
        grid = rng.standard_normal((cells + 1, max(2, round(cells * width / height) + 1)), dtype=np.float32)
        noise += persistence**octave * cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(noise * (0.4 / max(float(noise.std()), 1e-6)), -1.0, 1.0)


def _shape_mask(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """An anti-aliased random shape in [0, 1], its edge defocused half of the time."""
    height, width = size
    canvas = np.zeros(size, np.uint8)
    center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
    radius = rng.uniform(0.05, 0.35) * min(height, width)
    kind = rng.integers(4)
    if kind == 0:
        axes = (int(radius), int(radius * rng.uniform(0.3, 1.0)))
        cv2.ellipse(canvas, center, axes, rng.uniform(0, 180), 0, 360, 255, -1, cv2.LINE_AA)
    elif kind == 1:
        angles = np.sort(rng.uniform(0.0, 2.0 * np.pi, rng.integers(3, 8)))
        radii = radius * rng.uniform(0.5, 1.0, angles.size)
        points = np.stack([center[0] + radii * np.cos(angles), center[1] + radii * np.sin(angles)], axis=1)
        cv2.fillPoly(canvas, [points.astype(np.int32)], 255, cv2.LINE_AA)
    elif kind == 2:
        box = cv2.boxPoints((center, (radius * 2, radius * rng.uniform(0.3, 2.0)), rng.uniform(0, 180)))
        cv2.fillPoly(canvas, [box.astype(np.int32)], 255, cv2.LINE_AA)
    else:
        end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.line(canvas, center, end, 255, int(rng.integers(2, 13)), cv2.LINE_AA)
    mask = canvas.astype(np.float32) / 255.0
    if rng.random() < 0.5:
        mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(0.5, 4.0), borderType=cv2.BORDER_REFLECT)
    return mask


def _fill(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A flat colour (30 %), a two-colour gradient (15 %), stripes (15 %) or a noise texture (40 %)."""
    height, width = size
    color, other = _colors(rng, 2)
    kind = rng.choice(4, p=[0.3, 0.15, 0.15, 0.4])
    if kind == 0:
        return np.broadcast_to(color, (*size, 3))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0.0, 2.0 * np.pi)
    along = xs * np.cos(angle) + ys * np.sin(angle)
    if kind == 1:
        weight = (along - along.min()) / max(float(np.ptp(along)), 1.0)
    elif kind == 2:
        weight = 0.5 + 0.5 * np.sin(2.0 * np.pi * along / rng.uniform(4.0, 40.0))
    else:  # luminance texture: the colour against a darker shade of itself
        other = color * rng.uniform(0.2, 0.6)
        octaves = int(rng.integers(5, 9))
        weight = 0.5 + 0.5 * _fractal_noise(size, rng, octaves=octaves, persistence=rng.uniform(0.7, 1.0))
    return color * (1.0 - weight[..., None]) + other * weight[..., None]


def _colors(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` random RGB colours, their saturation toned down to 20-80 % as in most photographs."""
    colors = rng.random((count, 3), dtype=np.float32)
    grey = colors.mean(axis=1, keepdims=True)
    return grey + rng.uniform(0.2, 0.8, (count, 1)).astype(np.float32) * (colors - grey)


def _check_arguments(
    levels: int,
    size: tuple[int, int],
    procedural: int,
    distortions: list[str],
    batch_size: int | None,
    workers: int,
    crops: int,
    vary_tone: bool,
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
    if not distortions:
        raise ValueError('distortions is empty; choose from ' + ', '.join(DISTORTIONS))
    unknown = [name for name in distortions if name not in DISTORTIONS]
    if unknown:
        raise ValueError(f'unknown distortion(s) {", ".join(unknown)}; choose from {", ".join(DISTORTIONS)}')
    if len(set(distortions)) != len(distortions):
        raise ValueError(f'distortions repeat a name: {", ".join(distortions)}')


def _pristine_images(folder: str | Path | None) -> list[Reference]:
    """The pristine images of ``folder`` (sorted by file name) or scikit-image's photographs, as lazy loaders."""
    if folder is None:
        return [(name, partial(skimage_photo, name)) for name in SKIMAGE_PHOTOS]
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f'images folder {folder} does not exist or is not a folder')
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise ValueError(f'images folder {folder} holds no images ({", ".join(IMAGE_SUFFIXES)})')
    for path in paths:
        try:
            with Image.open(path) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError) as error:
            raise ValueError(f'cannot read image {path}: {error}') from error
    return [(path.stem, partial(_open_rgb, path)) for path in paths]


def _open_rgb(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).convert('RGB')


def skimage_photo(name: str) -> Image.Image:
    """One of scikit-image's bundled colour photographs (:data:`SKIMAGE_PHOTOS`) as an RGB image, offline."""
    import skimage.data

    image = getattr(skimage.data, name)()
    return Image.fromarray(image[0] if isinstance(image, tuple) else image).convert('RGB')


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


def _create_metrics(names: Sequence[str], device: str | torch.device) -> list[tuple[Scorer, bool]]:
    """Each named pyiqa FR metric as ``(scorer(distorted, reference), lower_better)``."""
    import pyiqa

    metrics = [pyiqa.create_metric(name, device=device) for name in names]
    return [
        (partial(_ms_ssim_float32, metric.net) if name == 'ms_ssim' else metric, metric.lower_better)
        for name, metric in zip(names, metrics, strict=True)
    ]


def _check_metrics(names: list[str]) -> None:
    from pyiqa.default_model_configs import DEFAULT_CONFIGS

    if not names or len(set(names)) != len(names):
        raise ValueError(f'metrics must be distinct pyiqa FR metric names, got {names!r}')
    bad = [name for name in names if DEFAULT_CONFIGS.get(name, {}).get('metric_mode') != 'FR']
    if bad:
        raise ValueError(f'not a pyiqa full-reference metric: {", ".join(bad)} (default: {", ".join(FR_METRICS)})')


def _ms_ssim_float32(net: torch.nn.Module, distorted: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """pyiqa's MS-SSIM with its options, in float32.

    pyiqa's ``MS_SSIM.forward`` casts to float64, whose convolutions are about 8x slower on a
    CPU; in float32 the scores differ by about 1e-6.
    """
    from pyiqa.archs.ssim_arch import ms_ssim, preprocess_rgb

    x, y = (
        preprocess_rgb(image, net.test_y_channel, net.data_range, net.color_space) for image in (distorted, reference)
    )
    return ms_ssim(x, y, data_range=net.data_range, downsample=net.downsample, is_prod=net.is_prod)


def _to_tensor(pictures: list[np.ndarray], device: str | torch.device) -> torch.Tensor:
    return torch.from_numpy(np.stack(pictures)).permute(0, 3, 1, 2).to(device=device, dtype=torch.float32) / 255.0


@torch.no_grad()
def _score(
    scorers: list[tuple[Scorer, bool]], pictures: list[np.ndarray], pristine: np.ndarray, device: str | torch.device
) -> np.ndarray:
    """``len(pictures) x len(scorers)`` raw scores of ``pictures`` against ``pristine``."""
    distorted = _to_tensor(pictures, device)
    reference = _to_tensor([pristine], device).expand_as(distorted)
    scores = [scorer(distorted, reference).reshape(-1).double().cpu().numpy() for scorer, _ in scorers]
    return np.stack(scores, axis=1)


def _write_csv(path: Path, rows: list[dict], mos: np.ndarray, raw: np.ndarray, metrics: Sequence[str]) -> None:
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow([*CSV_COLUMNS, *metrics])
        # 6 significant digits: float32 metric scores can differ further down with the CPU thread count
        for row, score, scores in zip(rows, mos, raw, strict=True):
            values = [f'{score:.6f}', row['ref_name'], row['distortion'], row['level'], *(f'{s:.6g}' for s in scores)]
            writer.writerow([row['image'], *values])
