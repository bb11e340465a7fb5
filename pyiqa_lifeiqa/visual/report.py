"""A scored collection as one self-contained HTML page (``lifeiqa score DIR --report report.html``).

The page holds: which metric and weights (file and sha256) scored the images; the distribution of
the scores as a histogram (inline SVG); the N worst and N best images as embedded thumbnails with
their scores and, for a Life-IQA metric, their quality maps; and a table of every path and score
that sorts by a click on a column head (a few lines of inline script). Past :data:`TABLE_LIMIT`
images the table keeps the worst ones and says so, so that the page stays small for a million
images (the score file keeps them all). Nothing is fetched from elsewhere: images are ``data:`` URIs.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from pyiqa_lifeiqa.io import ImageReadError, load_image
from pyiqa_lifeiqa.visual.figure import colorize, has_quality_maps, score_limits, to_picture

TABLE_LIMIT = 20_000  # rows of the table; about 2 MB of HTML
HISTOGRAM_BINS = 30
THUMBNAIL_SIZE = 240  # longer side, pixels
JPEG_QUALITY = 85


@dataclass(frozen=True)
class Scored:
    """The metric a collection was scored with, as the report names it."""

    metric: str
    lower_better: bool
    score_range: str | None
    weights: str  # the weights, in words: file and sha256, or what is known


def describe_metric(metric: torch.nn.Module) -> Scored:
    """What a ``pyiqa.create_metric`` metric is, for the report's head."""
    from pyiqa_lifeiqa.weights.resolve import sha256sum

    weights_file = getattr(metric.net, 'weights_file', None)
    if weights_file is not None:
        weights = f'{Path(weights_file).name} (sha256 {sha256sum(weights_file)})'
    else:
        weights = f"pyiqa's weights for {metric.metric_name}"
    return Scored(metric.metric_name, bool(metric.lower_better), metric.score_range, weights)


def _data_uri(picture: Image.Image, fmt: str = 'JPEG') -> str:
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt, **({'quality': JPEG_QUALITY} if fmt == 'JPEG' else {}))
    return f'data:image/{fmt.lower()};base64,{base64.b64encode(buffer.getvalue()).decode()}'


def _thumbnail(picture: Image.Image) -> Image.Image:
    picture = picture.copy()
    picture.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    return picture


def image_cell(metric: torch.nn.Module, path: Path, score: float) -> str:
    """The HTML of one image of the worst or best: its thumbnail, its map (Life-IQA metrics), path, score."""
    try:
        image = load_image(path)
    except ImageReadError as error:
        pictures = f'<p class="missing">cannot be read now: {html.escape(str(error.reason))}</p>'
    else:
        pictures = f'<img src="{_data_uri(_thumbnail(to_picture(image)))}" alt="image">'
        if has_quality_maps(metric):
            with torch.inference_mode():
                local = metric.net.quality_map(image.to(metric.device))[0, 0].float().cpu().numpy()
            heat = Image.fromarray(colorize(local, score_limits(metric.score_range)))
            pictures += f'<img src="{_data_uri(_thumbnail(heat), "PNG")}" alt="quality map">'
    return f'<figure>{pictures}<figcaption><b>{score:.4f}</b> {html.escape(str(path))}</figcaption></figure>'


def histogram_svg(scores: np.ndarray, bins: int = HISTOGRAM_BINS) -> str:
    """The scores' histogram as an inline SVG; each bar carries its count in ``data-count``."""
    counts, edges = np.histogram(scores, bins=bins)
    width, height, left, bottom = 720, 220, 50, 30
    bar = (width - left - 10) / bins
    top = max(1, int(counts.max()))
    parts = [f'<svg id="histogram" width="{width}" height="{height + bottom}" role="img">']
    for k, count in enumerate(counts):
        h = height * count / top
        x = left + k * bar
        parts.append(
            f'<rect class="bin" data-count="{count}" x="{x:.1f}" y="{height - h:.1f}" width="{bar - 1:.1f}" '
            f'height="{h:.1f}"><title>{edges[k]:.4g} to {edges[k + 1]:.4g}: {count}</title></rect>'
        )
    for value, anchor, x in ((edges[0], 'start', left), (edges[-1], 'end', width - 10)):
        parts.append(f'<text x="{x}" y="{height + 18}" text-anchor="{anchor}">{value:.4g}</text>')
    parts.append(f'<text x="{left - 6}" y="12" text-anchor="end">{top}</text>')
    parts.append(f'<line x1="{left}" y1="{height}" x2="{width - 10}" y2="{height}" stroke="#333"/></svg>')
    return ''.join(parts)


def _legend(score_range: str) -> str:
    low, high = score_limits(score_range)
    strip = Image.fromarray(colorize(np.linspace(low, high, 256)[None, :].repeat(12, axis=0), (low, high)))
    return (
        f'<p class="legend">quality map colours: {low:g} <img src="{_data_uri(strip, "PNG")}" alt="colour scale"> '
        f'{high:g}</p>'
    )


STYLE = """
body { font-family: sans-serif; margin: 24px; color: #222; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; width: 500px; }
figure img { max-height: 240px; margin-right: 4px; vertical-align: top; }
figcaption { font-size: 12px; word-break: break-all; }
table { border-collapse: collapse; font-size: 13px; }
th { cursor: pointer; background: #eee; }
td, th { padding: 2px 10px; border-bottom: 1px solid #ddd; text-align: left; }
rect.bin { fill: #3b6ea5; }
.legend img { vertical-align: middle; width: 256px; height: 12px; }
"""

# Sorts the table by the clicked column (numbers as numbers), ascending then descending.
SCRIPT = """
document.querySelectorAll('#scores th').forEach((head, column) => head.addEventListener('click', () => {
  const body = document.querySelector('#scores tbody');
  const rows = Array.from(body.rows);
  const up = head.dataset.order !== 'up';
  head.dataset.order = up ? 'up' : 'down';
  const key = row => { const t = row.cells[column].textContent; const n = parseFloat(t); return isNaN(n) ? t : n; };
  rows.sort((a, b) => (key(a) > key(b) ? 1 : key(a) < key(b) ? -1 : 0) * (up ? 1 : -1));
  rows.forEach(row => body.appendChild(row));
}));
"""


def write_report(
    scores: Mapping[Path, float], out: Path, metric: torch.nn.Module, n: int = 24, table_limit: int = TABLE_LIMIT
) -> Path:
    """Write the HTML report of a scored collection.

    Args:
        scores: Each image file's score.
        out: The HTML file (replaced if it exists).
        metric: The ``pyiqa.create_metric`` metric that gave the scores; its network draws the maps.
        n: Images shown among the worst and among the best.
        table_limit: Rows of the table at most; beyond, the worst images are kept and the page says so.

    Returns:
        ``out``.

    Raises:
        ValueError: No scores.
    """
    if not scores:
        raise ValueError('no scores to report')
    scored = describe_metric(metric)
    # worst first: ascending quality
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=scored.lower_better)
    values = np.array([score for _, score in ranked])
    worst, best = ranked[:n], ranked[::-1][:n]  # in a collection of fewer than 2n, some are both
    cells = {path: image_cell(metric, path, score) for path, score in dict.fromkeys(worst + best)}
    shown = ranked[:table_limit]
    cut = (
        f'<p class="cut">The table shows the {len(shown):,} worst of {len(ranked):,} images; '
        'the score file has them all.</p>'
        if len(shown) < len(ranked)
        else ''
    )
    rows = ''.join(
        f'<tr><td>{rank}</td><td>{html.escape(str(path))}</td><td>{score:.6f}</td></tr>'
        for rank, (path, score) in enumerate(shown, start=1)
    )
    order = 'lower is better' if scored.lower_better else 'higher is better'
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(scored.metric)} scores</title>
<style>{STYLE}</style></head><body>
<h1>{len(ranked):,} images scored with {html.escape(scored.metric)}</h1>
<p>Metric: <b>{html.escape(scored.metric)}</b> ({order}; range {html.escape(str(scored.score_range))}).
Weights: {html.escape(scored.weights)}.</p>
<p>Scores: mean {values.mean():.4f}, median {np.median(values):.4f}, min {values.min():.4f},
max {values.max():.4f}.</p>
<h2>Distribution</h2>
{histogram_svg(values)}
{_legend(scored.score_range) if has_quality_maps(metric) else ''}
<h2>The {len(worst)} worst</h2>
<div class="grid" id="worst">{''.join(cells[path] for path, _ in worst)}</div>
<h2>The {len(best)} best</h2>
<div class="grid" id="best">{''.join(cells[path] for path, _ in best)}</div>
<h2>Every image</h2>
{cut}
<table id="scores"><thead><tr><th>rank</th><th>path</th><th>score</th></tr></thead>
<tbody>{rows}</tbody></table>
<script>{SCRIPT}</script>
</body></html>
"""
    out.write_text(page, encoding='utf-8')
    return out
