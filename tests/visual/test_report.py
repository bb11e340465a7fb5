"""Specification of the HTML report of a scored collection (pyiqa_lifeiqa/visual/report.py)."""

import html
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyiqa
import pytest
import torch
from PIL import Image

from pyiqa_lifeiqa.visual.report import write_report


def write_images(folder: Path, count: int) -> list[Path]:
    folder.mkdir()
    paths = []
    for i in range(count):
        pixels = np.random.default_rng(i).integers(0, 256, (48, 64, 3), dtype=np.uint8)
        paths.append(folder / f'{i}.png')
        Image.fromarray(pixels).save(paths[-1])
    return paths


@pytest.fixture
def metric(lifeiqa_test_metric):
    return pyiqa.create_metric(lifeiqa_test_metric, device='cpu')


def test_every_image_has_a_row_and_the_histogram_counts_add_up_to_the_images(metric, tmp_path, report_page):
    paths = write_images(tmp_path / 'in', 7)
    scores = {p: float(i) / 10 for i, p in enumerate(paths)}
    page = report_page(write_report(scores, tmp_path / 'r.html', metric, n=2).read_text())

    assert sorted(row[1] for row in page.rows) == sorted(str(p) for p in paths)
    assert [float(row[2]) for row in page.rows] == sorted(scores.values())  # worst first
    assert sum(page.counts) == 7
    assert [caption.split()[-1] for caption in page.sections['worst']] == [str(paths[0]), str(paths[1])]
    assert [caption.split()[-1] for caption in page.sections['best']] == [str(paths[6]), str(paths[5])]


def test_the_page_fetches_nothing_every_picture_is_embedded(metric, tmp_path, report_page):
    paths = write_images(tmp_path / 'in', 3)
    text = write_report({p: 0.5 for p in paths}, tmp_path / 'r.html', metric, n=3).read_text()
    page = report_page(text)

    # 3 worst and 3 best, each an image and its quality map, and the colour scale
    assert len(page.urls) == 13 and all(url.startswith('data:image/') for url in page.urls)
    outside_images = re.sub(r'data:image/[a-z]+;base64,[A-Za-z0-9+/=]+', '', text)
    assert 'http' not in outside_images and '//' not in outside_images and 'url(' not in outside_images


def test_the_page_names_the_metric_and_the_sha256_of_its_weights(metric, tmp_path):
    from pyiqa_lifeiqa.weights.resolve import sha256sum

    paths = write_images(tmp_path / 'in', 1)
    text = write_report({paths[0]: 0.5}, tmp_path / 'r.html', metric).read_text()
    assert metric.metric_name in text and sha256sum(metric.net.weights_file) in text


def test_past_the_table_limit_the_worst_rows_are_kept_and_the_page_says_so(metric, tmp_path, report_page):
    paths = write_images(tmp_path / 'in', 5)
    scores = {p: float(-i) for i, p in enumerate(paths)}
    text = write_report(scores, tmp_path / 'r.html', metric, n=1, table_limit=3).read_text()
    page = report_page(text)

    assert [row[1] for row in page.rows] == [str(p) for p in paths[:-4:-1]]
    assert 'the 3 worst of 5 images' in text and sum(page.counts) == 5


def test_for_a_lower_is_better_metric_without_maps_the_highest_scores_are_the_worst(tmp_path, report_page):
    paths = write_images(tmp_path / 'in', 4)
    brisque_like = SimpleNamespace(
        metric_name='brisque', lower_better=True, score_range='~0, ~150', net=torch.nn.Identity(), device='cpu'
    )
    text = write_report({p: float(i) for i, p in enumerate(paths)}, tmp_path / 'r.html', brisque_like, n=1).read_text()
    page = report_page(text)

    assert [row[1] for row in page.rows] == [str(p) for p in reversed(paths)]
    assert page.sections['worst'][0].split()[-1] == str(paths[3])
    assert len(page.urls) == 2 and "pyiqa's weights for brisque" in html.unescape(text)  # thumbnails only


def test_an_image_gone_since_it_was_scored_is_said_so_and_the_rest_is_written(metric, tmp_path, report_page):
    paths = write_images(tmp_path / 'in', 2)
    paths[0].unlink()
    page = report_page(
        write_report({p: float(i) for i, p in enumerate(paths)}, tmp_path / 'r.html', metric, n=1).read_text()
    )
    assert 'cannot be read now' in page.sections['worst'][0] and len(page.rows) == 2


def test_no_scores_is_an_error(metric, tmp_path):
    with pytest.raises(ValueError, match='no scores'):
        write_report({}, tmp_path / 'r.html', metric)
