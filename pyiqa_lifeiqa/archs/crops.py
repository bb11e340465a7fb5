"""The test-time crop policy: the image as given (or at a working resolution), then crops that cover it.

Used by :class:`~pyiqa_lifeiqa.archs.lifeiqa_arch.LifeIQA` in eval mode and by the benchmarks,
so that every score of an image comes from the same pixels.

1. :func:`resize_to_working_size`: with a ``working_size``, the shorter side becomes it
   (antialiased bilinear, aspect ratio kept), so one photograph given at 256, 512 or 1024 px is
   judged on nearly the same pixels, its fine artefacts shrunk away with it; without one, the
   image keeps its size, unless its longer side exceeds ``max_size`` (then shrunk to it). An
   image whose shorter side is below the crop size is upsampled to it.
2. :func:`crop_positions` / :func:`cover_crops`: a grid of square crops whose first crop sits
   at the top-left corner and whose last sits at the bottom-right, evenly spaced between, with
   as many rows and columns as covering the image needs (more if ``min_crops`` asks for them).
   pyiqa's ``uniform_crop`` instead places crops on one diagonal-like pattern that can leave
   the bottom rows unseen.
3. :func:`stride_positions` / :func:`spread_crop_scores`: for quality maps, crops every
   ``stride`` pixels and each crop's score spread over the pixels it covers.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from pyiqa.archs.arch_util import random_crop


def working_shape(
    height: int, width: int, working_size: int | None, crop_size: int, max_size: int | None = None
) -> tuple[int, int]:
    """The (height, width) an image is resized to before cropping.

    With ``working_size``, the shorter side becomes ``working_size``; without it the image
    keeps its size unless its longer side exceeds ``max_size`` (then it is shrunk to it) or its
    shorter side is below ``crop_size`` (then raised to it). The aspect ratio is kept (rounded
    to whole pixels).
    """
    short = min(height, width)
    if working_size is not None:
        target = working_size
    elif max_size is not None and max(height, width) > max_size:
        target = max(crop_size, round(short * max_size / max(height, width)))
    else:
        target = max(short, crop_size)
    if target == short:
        return height, width
    scale = target / short
    return max(target, round(height * scale)), max(target, round(width * scale))


def resize_to_working_size(
    x: torch.Tensor, working_size: int | None, crop_size: int, max_size: int | None = None
) -> torch.Tensor:
    """Resize images (N, C, H, W) to :func:`working_shape` (antialiased bilinear; no-op if unchanged)."""
    shape = working_shape(x.shape[-2], x.shape[-1], working_size, crop_size, max_size)
    if shape == tuple(x.shape[-2:]):
        return x
    return F.interpolate(x, size=shape, mode='bilinear', align_corners=False, antialias=True)


def scored_image(
    x: torch.Tensor, crop_size: int, working_size: int | None = None, max_size: int | None = None
) -> torch.Tensor:
    """The image whose crops are scored: an input of exactly one crop as it is (:func:`take_crops`
    takes it whole), any other resized by :func:`resize_to_working_size`."""
    if x.shape[-2:] == (crop_size, crop_size):
        return x
    return resize_to_working_size(x, working_size, crop_size, max_size)


def _grid(length: int, crop_size: int, count: int) -> list[int]:
    if count == 1:
        return [(length - crop_size) // 2]
    return [round(i * (length - crop_size) / (count - 1)) for i in range(count)]


def crop_positions(height: int, width: int, crop_size: int, min_crops: int = 1) -> list[tuple[int, int]]:
    """Top-left corners (row, column) of square crops that together cover the whole image.

    The grid has ``ceil(H / crop)`` rows and ``ceil(W / crop)`` columns, evenly spaced from the
    top-left corner to the bottom-right one; while it has fewer than ``min_crops`` crops, a row
    or column is added along the side whose crops are further apart. Crops are listed row by row.

    Raises:
        ValueError: The image is smaller than one crop.
    """
    if height < crop_size or width < crop_size:
        raise ValueError(f'a {height}x{width} image is smaller than one {crop_size}x{crop_size} crop')
    rows, cols = math.ceil(height / crop_size), math.ceil(width / crop_size)
    while rows * cols < min_crops and (height > crop_size or width > crop_size):
        row_gap = (height - crop_size) / rows
        col_gap = (width - crop_size) / cols
        if row_gap >= col_gap:
            rows += 1
        else:
            cols += 1
    return [(top, left) for top in _grid(height, crop_size, rows) for left in _grid(width, crop_size, cols)]


def cover_crops(x: torch.Tensor, crop_size: int, min_crops: int = 1) -> torch.Tensor:
    """The crops of :func:`crop_positions` of images (N, C, H, W), as (N * K, C, crop, crop), image-major."""
    positions = crop_positions(x.shape[-2], x.shape[-1], crop_size, min_crops)
    crops = [x[..., top : top + crop_size, left : left + crop_size] for top, left in positions]
    return torch.stack(crops, dim=1).flatten(0, 1)


def take_crops(
    x: torch.Tensor,
    crop_size: int,
    min_crops: int = 1,
    working_size: int | None = None,
    training: bool = False,
    max_size: int | None = None,
) -> tuple[torch.Tensor, int]:
    """The crops that are scored of images (N, C, H, W): the whole policy of this module.

    An input of exactly ``crop_size`` x ``crop_size`` is a crop already and is taken as is;
    otherwise the images are resized by :func:`resize_to_working_size`, then cropped by
    :func:`cover_crops` (``training`` False) or at one random place each (``training`` True).

    Returns:
        The crops (N * K, C, crop_size, crop_size), image-major, and K, the crops per image.
    """
    if x.shape[-2:] == (crop_size, crop_size):
        return x, 1  # whole (pyiqa's random_crop would enlarge it first)
    x = resize_to_working_size(x, working_size, crop_size, max_size)
    if training:
        return random_crop(x, crop_size, 1), 1
    crops = cover_crops(x, crop_size, min_crops)
    return crops, crops.shape[0] // x.shape[0]


def stride_positions(height: int, width: int, crop_size: int, stride: int) -> list[tuple[int, int]]:
    """Top-left corners (row, column) of square crops every ``stride`` pixels, row by row.

    The last row and column of crops sit flush with the bottom and right edges, so the crops
    cover the image; with ``stride < crop_size`` they overlap.

    Raises:
        ValueError: ``stride`` is not in [1, ``crop_size``] (larger strides leave pixels that no
            crop covers), or the image is smaller than one crop.
    """
    if not 1 <= stride <= crop_size:
        raise ValueError(f'stride must be between 1 and the crop size {crop_size}, got {stride}')
    if height < crop_size or width < crop_size:
        raise ValueError(f'a {height}x{width} image is smaller than one {crop_size}x{crop_size} crop')

    def starts(length: int) -> list[int]:
        return sorted({*range(0, length - crop_size + 1, stride), length - crop_size})

    return [(top, left) for top in starts(height) for left in starts(width)]


def spread_crop_scores(
    scores: torch.Tensor, positions: list[tuple[int, int]], shape: tuple[int, int], crop_size: int
) -> torch.Tensor:
    """A map (N, 1, H, W) in which each pixel is the mean score of the crops that cover it.

    Args:
        scores: (N, K), the score of crop k of image n, taken at ``positions[k]``.
        positions: Top-left corners (row, column) of the K crops; together they cover ``shape``.
        shape: (H, W) of the images the crops were taken from.
        crop_size: Side of the square crops.
    """
    total = scores.new_zeros(scores.shape[0], 1, *shape)
    count = scores.new_zeros(1, 1, *shape)
    for k, (top, left) in enumerate(positions):
        total[..., top : top + crop_size, left : left + crop_size] += scores[:, k].view(-1, 1, 1, 1)
        count[..., top : top + crop_size, left : left + crop_size] += 1
    return total / count
