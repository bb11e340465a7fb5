"""Specification of the quality-map figure (pyiqa_lifeiqa/visual/figure.py)."""

import numpy as np
import pytest
import torch

from pyiqa_lifeiqa.visual.figure import PANEL_HEIGHT, colorize, map_figure, score_limits


@pytest.mark.parametrize('text, limits', [('~0, ~1', (0.0, 1.0)), ('~1, ~100', (1.0, 100.0)), ('0,5', (0.0, 5.0))])
def test_score_limits_read_pyiqa_score_ranges(text, limits):
    assert score_limits(text) == limits


@pytest.mark.parametrize('text', ['~0', 'low, high', '~1, ~0', ''])
def test_a_score_range_that_is_not_two_rising_numbers_is_refused(text):
    with pytest.raises(ValueError, match='score range'):
        score_limits(text)


def test_colours_follow_one_fixed_scale_and_clip_beyond_its_ends():
    picture = colorize(np.array([[-5.0, 0.0, 0.5, 1.0, 7.0]]), (0.0, 1.0))
    assert picture.shape == (1, 5, 3) and picture.dtype == np.uint8
    assert (picture[0, 0] == picture[0, 1]).all() and (picture[0, 3] == picture[0, 4]).all()
    # viridis: dark purple at the low end, yellow at the high end
    assert picture[0, 1, 2] > picture[0, 1, 1] and picture[0, 3, 0] > 200 and picture[0, 3, 2] < 100
    assert len({tuple(c) for c in picture[0, 1:4]}) == 3


def test_the_figure_shows_the_image_and_its_map_side_by_side_at_the_panel_height():
    image = torch.rand(1, 3, 200, 300)
    local = torch.linspace(0, 1, 300).expand(1, 1, 200, 300)
    figure = map_figure(image, local, (0.0, 1.0), 'photo.png  lifeiqa 0.5000')
    pixels = np.asarray(figure)
    panel = round(300 * PANEL_HEIGHT / 200)
    assert figure.mode == 'RGB' and figure.width > 2 * panel and figure.height > PANEL_HEIGHT
    # the map's row runs from the low colour at its left to the high one at its right
    row = pixels[figure.height - PANEL_HEIGHT // 2 - 12]
    left, right = row[12 + panel + 12 + 2], row[12 + panel + 12 + panel - 3]
    low, high = colorize(np.array([[0.0, 1.0]]), (0.0, 1.0))[0]
    assert np.abs(left.astype(int) - low).max() <= 3 and np.abs(right.astype(int) - high).max() <= 3
