"""Random views of a photograph (pyiqa_lifeiqa/data/views.py)."""

import numpy as np
import skimage.data
from PIL import Image

from pyiqa_lifeiqa.data.views import random_view


def test_random_views_are_seeded_crops_at_the_output_aspect_without_upsampling() -> None:
    photo = Image.fromarray(skimage.data.astronaut())  # 512 x 512
    views = [random_view(photo, (192, 256), np.random.default_rng([5, k])) for k in range(20)]
    assert np.array_equal(
        np.asarray(views[0]), np.asarray(random_view(photo, (192, 256), np.random.default_rng([5, 0])))
    )
    for view in views:
        assert view.mode == 'RGB' and abs(view.width / view.height - 256 / 192) < 0.02
        assert 256 <= view.width <= 512
    assert len({view.size for view in views}) > 10  # a range of scales, not one fixed crop


def test_toned_views_vary_exposure_contrast_and_colour_but_stay_clean_photographs() -> None:
    photo = Image.fromarray(skimage.data.astronaut())
    plain = [np.asarray(random_view(photo, (192, 256), np.random.default_rng(k))) for k in range(24)]
    toned = [np.asarray(random_view(photo, (192, 256), np.random.default_rng(k), vary_tone=True)) for k in range(24)]
    assert [a.shape for a in plain] == [a.shape for a in toned]  # the same crops, only the tone changes
    means = np.array([a.mean() for a in toned]) - np.array([a.mean() for a in plain])
    assert means.min() < -20 and means.max() > 10  # gamma both ways: some views much darker, some lighter
    grey = [np.array_equal(a[..., 0], a[..., 1]) and np.array_equal(a[..., 1], a[..., 2]) for a in toned]
    assert 0 < sum(grey) < len(toned)
    assert not any(np.array_equal(a[..., 0], a[..., 1]) for a in plain)


def test_scaled_views_are_patches_of_the_photograph_given_at_a_random_size_never_enlarged() -> None:
    photo = Image.fromarray(np.tile(skimage.data.astronaut(), (4, 6, 1)))  # 2048 x 3072
    views = [random_view(photo, (176, 176), np.random.default_rng(k), scales=(384, 1536)) for k in range(12)]
    assert all(view.size == (176, 176) for view in views)  # the patch itself is never resized
    # the astronaut's 512 px tile shrinks with the size the photograph is given at: finer texture, more edges
    edges = [np.abs(np.diff(np.asarray(view, np.float32), axis=1)).mean() for view in views]
    assert max(edges) > 1.5 * min(edges)
    rows, cols = np.mgrid[0:250, 0:250]
    coded = Image.fromarray(np.stack([cols, rows, np.zeros_like(rows)], axis=-1).astype(np.uint8))  # R, G = x, y
    for k in range(5):  # smaller than the range: taken at its own size, a plain crop, perhaps mirrored
        patch = np.asarray(random_view(coded, (176, 176), np.random.default_rng(k), scales=(384, 1536))).astype(int)
        assert patch.shape == (176, 176, 3)
        assert np.all(np.abs(np.diff(patch[..., 0], axis=1)) == 1) and np.all(np.diff(patch[..., 1], axis=0) == 1)
