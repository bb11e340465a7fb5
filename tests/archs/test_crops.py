"""Specification of the test-time crop policy (pyiqa_lifeiqa/archs/crops.py)."""

import pytest
import torch

from pyiqa_lifeiqa.archs.crops import (
    cover_crops,
    crop_positions,
    resize_to_working_size,
    spread_crop_scores,
    stride_positions,
    working_shape,
)


def covered(height: int, width: int, crop: int, positions: list[tuple[int, int]]) -> torch.Tensor:
    mask = torch.zeros(height, width, dtype=torch.bool)
    for top, left in positions:
        mask[top : top + crop, left : left + crop] = True
    return mask


@pytest.mark.parametrize(
    'height, width, crop, min_crops', [(384, 512, 160, 12), (192, 256, 160, 6), (300, 1000, 224, 1)]
)
def test_crops_cover_every_pixel_from_the_top_left_to_the_bottom_right_corner(height, width, crop, min_crops):
    positions = crop_positions(height, width, crop, min_crops)
    assert len(positions) >= min_crops
    assert positions[0] == (0, 0)
    assert positions[-1] == (height - crop, width - crop)
    assert covered(height, width, crop, positions).all()


def test_pyiqa_uniform_crop_misses_rows_that_the_covering_grid_sees():
    # The 12 crops of 160 that pyiqa's uniform_crop takes on a 384x512 image leave rows unseen;
    # marking each pixel with its row index shows which rows reach the crops.
    from pyiqa.archs.arch_util import uniform_crop

    rows = torch.arange(384.0).view(1, 1, 384, 1).expand(1, 1, 384, 512)
    seen_by_pyiqa = uniform_crop(rows, 160, 12).unique()
    seen_by_grid = cover_crops(rows, 160, 12).unique()
    assert seen_by_pyiqa.max() < 383
    assert seen_by_grid.numel() == 384


def test_the_grid_for_a_working_size_image():
    # The default model's 192x256 working image: 2 rows x 3 columns of 160.
    assert crop_positions(192, 256, 160, 6) == [(0, 0), (0, 48), (0, 96), (32, 0), (32, 48), (32, 96)]


def test_an_image_of_exactly_one_crop_gives_one_crop_whatever_min_crops():
    assert crop_positions(160, 160, 160, 6) == [(0, 0)]


def test_an_image_smaller_than_a_crop_is_an_error():
    with pytest.raises(ValueError, match='smaller than one 160x160 crop'):
        crop_positions(100, 300, 160)


def test_cover_crops_are_image_major_pixel_copies():
    x = torch.rand(2, 3, 192, 256)
    crops = cover_crops(x, 160, 6)
    assert crops.shape == (12, 3, 160, 160)
    assert torch.equal(crops[7], x[1, :, 0:160, 48:208])


@pytest.mark.parametrize(
    'shape, working_size, expected',
    [
        ((768, 1024), 192, (192, 256)),
        ((192, 256), 192, (192, 256)),
        ((1000, 300), 192, (640, 192)),
        ((100, 400), None, (160, 640)),
        ((300, 400), None, (300, 400)),
    ],
)
def test_working_shape_sets_the_shorter_side_and_keeps_the_aspect_ratio(shape, working_size, expected):
    assert working_shape(*shape, working_size, crop_size=160) == expected


@pytest.mark.parametrize(
    'shape, expected',
    [
        ((768, 1024), (768, 1024)),  # at most max_size: scored as given
        ((3000, 4000), (1152, 1536)),  # larger: the longer side shrunk to max_size
        ((4000, 500), (1536, 192)),
        ((100, 5000), (160, 8000)),  # a strip: its shorter side still raised to one crop
    ],
)
def test_native_size_is_kept_up_to_max_size(shape, expected):
    assert working_shape(*shape, None, crop_size=160, max_size=1536) == expected
    assert working_shape(*shape, 192, crop_size=160, max_size=1536) == working_shape(*shape, 192, crop_size=160)


def test_resize_is_a_no_op_at_the_working_size_and_antialiased_otherwise():
    x = torch.rand(1, 3, 192, 256)
    assert resize_to_working_size(x, 192, 160) is x
    checker = (torch.arange(768).view(-1, 1) + torch.arange(1024).view(1, -1)) % 2
    small = resize_to_working_size(checker.float().expand(1, 3, -1, -1), 192, 160)
    assert small.shape == (1, 3, 192, 256)
    assert torch.allclose(small, torch.full_like(small, 0.5), atol=0.02)  # averaged, not aliased


@pytest.mark.parametrize('height, width, crop, stride', [(384, 512, 160, 160), (300, 451, 160, 48), (160, 170, 160, 1)])
def test_strided_crops_step_by_the_stride_and_end_flush_with_the_bottom_right_corner(height, width, crop, stride):
    positions = stride_positions(height, width, crop, stride)
    rows = sorted({top for top, _ in positions})
    cols = sorted({left for _, left in positions})
    assert rows[0] == 0 and rows[-1] == height - crop and cols[0] == 0 and cols[-1] == width - crop
    assert all(b - a <= stride for a, b in zip(rows, rows[1:], strict=False))
    assert all(b - a <= stride for a, b in zip(cols, cols[1:], strict=False))
    assert len(positions) == len(rows) * len(cols) and covered(height, width, crop, positions).all()


@pytest.mark.parametrize('stride, message', [(0, 'stride must be between 1'), (161, 'stride must be between 1')])
def test_a_stride_that_would_leave_pixels_uncovered_is_refused(stride, message):
    with pytest.raises(ValueError, match=message):
        stride_positions(320, 320, 160, stride)


def test_each_pixel_of_a_map_is_the_mean_score_of_the_crops_that_cover_it():
    # crops of 2 on a 2x3 image at columns 0 and 1: the middle column is covered by both
    scores = torch.tensor([[1.0, 3.0], [0.0, 10.0]])
    local = spread_crop_scores(scores, [(0, 0), (0, 1)], (2, 3), 2)
    assert local.shape == (2, 1, 2, 3)
    assert local[0, 0].tolist() == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    assert local[1, 0, 0].tolist() == [0.0, 5.0, 10.0]
