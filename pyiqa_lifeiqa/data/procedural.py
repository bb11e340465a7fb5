"""Procedurally generated pristine pictures: flat and textured regions with sharp and soft edges.

They add seeded, licence-free content to a synthetic set (``make-synthetic --procedural N``).
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image


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
