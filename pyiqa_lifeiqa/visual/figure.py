"""An image beside its quality map, on one fixed colour scale, as a picture (PIL and OpenCV only).

The colours come from OpenCV's viridis map over the metric's score range (pyiqa's ``score_range``,
e.g. ``'~0, ~1'``), the same for every image, so that maps of different images compare.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

PANEL_HEIGHT = 320  # pixels of the image and of its map in the figure
MARGIN = 12
TITLE_HEIGHT = 30
BAR_WIDTH = 18
TICKS = 5
FONT_SIZE = 14


def score_limits(score_range: str) -> tuple[float, float]:
    """The (low, high) ends of a pyiqa score range such as ``'~0, ~1'`` or ``'~1, ~100'``.

    Raises:
        ValueError: The text is not two numbers (each may start with ``~``), low below high.
    """
    try:
        low, high = (float(part.strip().lstrip('~')) for part in score_range.split(','))
    except ValueError:
        raise ValueError(f"a score range is two numbers such as '~0, ~1', got {score_range!r}") from None
    if not low < high:
        raise ValueError(f'a score range goes from low to high, got {score_range!r}')
    return low, high


def colorize(values: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
    """``H x W`` scores as an ``H x W x 3`` uint8 RGB picture: viridis from ``limits[0]`` to ``limits[1]``.

    Scores beyond the limits take the colour of the nearer end.
    """
    low, high = limits
    levels = np.clip((np.asarray(values, dtype=np.float64) - low) / (high - low), 0.0, 1.0)
    bgr = cv2.applyColorMap(np.round(levels * 255).astype(np.uint8), cv2.COLORMAP_VIRIDIS)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def to_picture(image: torch.Tensor) -> Image.Image:
    """An RGB tensor (3, H, W) or (1, 3, H, W) in [0, 1] as a PIL image."""
    array = image.detach().squeeze(0).clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(array)


def _font() -> ImageFont.ImageFont:
    return ImageFont.load_default(size=FONT_SIZE)


def _fit_height(picture: Image.Image, height: int) -> Image.Image:
    width = max(1, round(picture.width * height / picture.height))
    return picture.resize((width, height), Image.Resampling.LANCZOS)


def map_figure(
    image: torch.Tensor, local: torch.Tensor, limits: tuple[float, float], title: str, height: int = PANEL_HEIGHT
) -> Image.Image:
    """The image, its quality map and a colour bar side by side, under a title.

    Args:
        image: RGB (3, H, W) or (1, 3, H, W) in [0, 1].
        local: Its quality map, (H, W), (1, H, W) or (1, 1, H, W) (``LifeIQA.quality_map``).
        limits: The scores at the two ends of the colour scale (:func:`score_limits`).
        title: Text above the panels, e.g. the file name and the image's score.
        height: Height of each panel in pixels.

    Returns:
        The figure, an RGB PIL image.
    """
    values = local.detach().reshape(local.shape[-2:]).float().cpu().numpy()
    photo = _fit_height(to_picture(image), height)
    heat = _fit_height(Image.fromarray(colorize(values, limits)), height)
    font = _font()
    labels = [f'{v:.3g}' for v in np.linspace(limits[1], limits[0], TICKS)]
    label_width = max(round(font.getlength(text)) for text in labels)
    width = photo.width + heat.width + BAR_WIDTH + label_width + 5 * MARGIN
    figure = Image.new('RGB', (width, height + TITLE_HEIGHT + 2 * MARGIN), 'white')
    draw = ImageDraw.Draw(figure)
    draw.text((MARGIN, MARGIN // 2), title, fill='black', font=font)
    top = TITLE_HEIGHT + MARGIN
    figure.paste(photo, (MARGIN, top))
    figure.paste(heat, (2 * MARGIN + photo.width, top))
    bar_left = 3 * MARGIN + photo.width + heat.width
    gradient = np.linspace(limits[1], limits[0], height)[:, None].repeat(BAR_WIDTH, axis=1)
    figure.paste(Image.fromarray(colorize(gradient, limits)), (bar_left, top))
    for text, y in zip(labels, np.linspace(top, top + height - 1, TICKS), strict=True):
        draw.line([(bar_left + BAR_WIDTH, y), (bar_left + BAR_WIDTH + 4, y)], fill='black')
        draw.text((bar_left + BAR_WIDTH + 6, y), text, fill='black', font=font, anchor='lm')
    return figure


def has_quality_maps(metric: torch.nn.Module) -> bool:
    """Whether a pyiqa metric's network draws quality maps (a Life-IQA network)."""
    return hasattr(metric.net, 'quality_map')


def require_quality_maps(metric: torch.nn.Module) -> None:
    """Raise ValueError, naming the metric, unless it draws quality maps."""
    if not has_quality_maps(metric):
        raise ValueError(f'{metric.metric_name!r} has no quality maps: they need a Life-IQA metric')


def quality_figure(
    metric: torch.nn.Module, image: torch.Tensor, name: str, stride: int | None = None
) -> tuple[float, Image.Image]:
    """Score an image with a Life-IQA pyiqa metric and draw it beside its quality map.

    Args:
        metric: A ``pyiqa.create_metric`` metric whose network is ``LifeIQA``.
        image: RGB (1, 3, H, W) in [0, 1].
        name: The image's name, shown in the title with its score.
        stride: Of ``LifeIQA.quality_map``.

    Returns:
        The image's score (the metric's) and the figure.

    Raises:
        ValueError: The metric has no quality maps.
    """
    require_quality_maps(metric)
    image = image.to(metric.device)
    with torch.inference_mode():
        score = float(metric(image))
        local = metric.net.quality_map(image, stride=stride)
    title = f'{name}   {metric.metric_name} {score:.4f}'
    return score, map_figure(image, local, score_limits(metric.score_range), title)
