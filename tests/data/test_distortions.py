"""The distortion set: every type changes the image, more so at each level, reproducibly."""

import numpy as np
import pytest
import skimage.data
from PIL import Image, ImageOps

from pyiqa_lifeiqa.data.distortions import DISTORTIONS, distort, severities

KADID_LIKE = {
    'gaussian_blur',
    'lens_blur',
    'motion_blur',
    'gaussian_noise',
    'impulse_noise',
    'speckle_noise',
    'color_noise',
    'jpeg',
    'jpeg2000',
    'desaturate',
    'oversaturate',
    'color_shift',
    'color_quantization',
    'contrast',
    'brighten',
    'darken',
    'resample',
    'pixelate',
    'jitter',
    'patch_shift',
}


@pytest.fixture(scope='module')
def photo() -> np.ndarray:
    """One tiny natural image, 176x176 (the smallest size the synthetic dataset accepts is 161)."""
    return np.asarray(ImageOps.fit(Image.fromarray(skimage.data.astronaut()), (176, 176), Image.Resampling.LANCZOS))


def mean_abs_error(image: np.ndarray, reference: np.ndarray) -> float:
    return float(np.abs(image.astype(np.float64) - reference).mean())


def test_the_set_covers_kadid_like_types() -> None:
    assert KADID_LIKE <= set(DISTORTIONS)


@pytest.mark.parametrize('name', list(DISTORTIONS))
def test_each_distortion_changes_the_image_more_at_each_level(photo: np.ndarray, name: str) -> None:
    errors = []
    for severity in severities(3):
        out = distort(photo, name, severity, np.random.default_rng(0))
        assert out.shape == photo.shape and out.dtype == np.uint8
        errors.append(mean_abs_error(out, photo))
    assert errors[0] > 0.0
    assert errors[0] < errors[1] < errors[2], errors


@pytest.mark.parametrize('name', list(DISTORTIONS))
def test_each_distortion_depends_only_on_its_generator(photo: np.ndarray, name: str) -> None:
    first = distort(photo, name, 0.5, np.random.default_rng(11))
    assert np.array_equal(first, distort(photo, name, 0.5, np.random.default_rng(11)))


def test_random_distortions_follow_the_seed(photo: np.ndarray) -> None:
    for name in ('gaussian_noise', 'impulse_noise', 'motion_blur', 'jitter', 'patch_shift', 'color_block'):
        one, two = (distort(photo, name, 0.5, np.random.default_rng(seed)) for seed in (1, 2))
        assert not np.array_equal(one, two), name


def test_severities_span_mildest_to_strongest() -> None:
    assert severities(5) == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    assert severities(2) == [0.0, 1.0]
    assert severities(1) == [0.5]
    with pytest.raises(ValueError, match='at least 1'):
        severities(0)


def test_bad_input_is_a_clear_error(photo: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(KeyError, match='unknown distortion .*blurry.*gaussian_blur'):
        distort(photo, 'blurry', 0.5, rng)
    with pytest.raises(ValueError, match='severity'):
        distort(photo, 'jpeg', 1.5, rng)
    with pytest.raises(ValueError, match='uint8'):
        distort(photo.astype(np.float32), 'jpeg', 0.5, rng)
    with pytest.raises(ValueError, match='H x W x 3'):
        distort(photo[..., 0], 'jpeg', 0.5, rng)


@pytest.mark.parametrize(('severity', 'sigma'), [(0.0, 2.0), (1.0, 10.2)])
def test_everyday_noise_spans_a_sensors_levels(severity: float, sigma: float) -> None:
    grey = np.full((256, 256, 3), 128, np.uint8)
    noisy = distort(grey, 'noise_mild', severity, np.random.default_rng(0))
    assert (noisy.astype(np.float64) - 128).std() == pytest.approx(sigma, rel=0.05)
