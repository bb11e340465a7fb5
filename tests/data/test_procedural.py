"""Procedural pristine pictures (pyiqa_lifeiqa/data/procedural.py)."""

import numpy as np

from pyiqa_lifeiqa.data.procedural import procedural_image


def test_procedural_images_are_seeded_and_have_flat_and_textured_regions() -> None:
    first = np.asarray(procedural_image((192, 256), np.random.default_rng(7)))
    assert first.shape == (192, 256, 3) and first.dtype == np.uint8
    assert np.array_equal(first, np.asarray(procedural_image((192, 256), np.random.default_rng(7))))
    assert not np.array_equal(first, np.asarray(procedural_image((192, 256), np.random.default_rng(8))))
    grey = first.astype(np.float32).mean(axis=2)
    gradient = np.abs(np.diff(grey, axis=0))[:, :-1] + np.abs(np.diff(grey, axis=1))[:-1, :]
    assert (gradient < 1.0).mean() > 0.1
    assert (gradient > 8.0).mean() > 0.02
