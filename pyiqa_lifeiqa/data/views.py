"""Random views of a photograph: crops at an output aspect ratio, mirrored, optionally re-toned.

``make-synthetic --crops N [--vary-tone] [--scales MIN-MAX]`` turns each photograph into N such
views, so that a few photographs give many references. With ``scales`` a view is a patch of the
photograph as it would be given at a random size, so that distortions are applied, and labelled,
at the pixel scale of images people score.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageOps


def random_view(
    image: Image.Image,
    size: tuple[int, int],
    rng: np.random.Generator,
    vary_tone: bool = False,
    scales: tuple[int, int] | None = None,
) -> Image.Image:
    """A random crop of ``image`` with the aspect ratio of ``size``, mirrored half of the time.

    Without ``scales``, the crop covers a uniform fraction of the largest such crop's area, from
    the area of ``size`` (no upsampling, when the image is large enough) or 10 %, whichever is
    larger, up to all of it. With ``scales`` (``(least, most)`` longer side in pixels), the image is
    first resized (Lanczos, aspect ratio kept) to a longer side drawn log-uniformly from that range,
    never above its own (nor so small that its shorter side falls below ``size``), and the crop is
    exactly ``size`` pixels of it. With ``vary_tone`` its tone is changed too: a gamma in [0.6, 2.2]
    (most views darker), contrast around the mean scaled by [0.6, 1], and greyscale in a quarter of the views. A
    changed view is still a clean image: its distorted versions are labelled against it.

    Args:
        image: An RGB image.
        size: ``(height, width)`` whose aspect ratio the crop takes.
        rng: The random generator.
        vary_tone: Whether to change the tone as well.

    Returns:
        The view, an RGB image (``size`` itself with ``scales``; otherwise not yet resized to it).
    """
    height, width = size
    if scales is None:
        largest = min(image.width, image.height * width / height)
        smallest = min(largest, max(width, largest * np.sqrt(0.1)))
        crop_width = np.sqrt(rng.uniform(smallest**2, largest**2))
        crop = (max(1, round(crop_width)), max(1, round(crop_width * height / width)))
    else:
        image = _rescale(image, size, scales, rng)
        crop = (width, height)
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


def _rescale(
    image: Image.Image, size: tuple[int, int], scales: tuple[int, int], rng: np.random.Generator
) -> Image.Image:
    """``image`` resized to a random longer side in ``scales`` (see :func:`random_view`)."""
    native = max(image.size)
    least, most = min(scales[0], native), min(scales[1], native)
    longer = np.exp(rng.uniform(np.log(least), np.log(most)))
    factor = max(longer / native, max(size[1] / image.width, size[0] / image.height))
    if factor >= 1.0:
        return image
    shape = (max(size[1], round(image.width * factor)), max(size[0], round(image.height * factor)))
    return image.resize(shape, Image.Resampling.LANCZOS)


def seeded_view(
    load: Callable[[], Image.Image],
    size: tuple[int, int],
    vary_tone: bool,
    key: list[int],
    scales: tuple[int, int] | None = None,
) -> Image.Image:
    """:func:`random_view` of ``load()`` drawn from a generator seeded by ``key`` (a picklable job)."""
    return random_view(load(), size, np.random.default_rng(key), vary_tone, scales)
