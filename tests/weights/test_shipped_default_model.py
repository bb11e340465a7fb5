"""The shipped default weights (pyiqa_lifeiqa/weights/files/lifeiqa_default.safetensors): examples and maps.

``lifeiqa score examples/images`` (the README's main command) scores each distortion's strong version
below its mild one and the clean photograph above the mild blur, darkening and resampling. The scores
are pinned to 1e-3. Not the ideal: mild JPEG (quality 40) and mild noise (sigma 5 of 255) score above the
clean photograph (README model card, "Where it fails").
"""

from pathlib import Path

import pyiqa
import pytest
import torch

EXAMPLES = Path(__file__).resolve().parents[2] / 'examples' / 'images'
KINDS = ('blur', 'darken', 'jpeg', 'noise', 'resample')
# measured with `lifeiqa score examples/images` (CPU, float32)
PINNED = {
    'coffee_blur_mild': 0.8740,
    'coffee_blur_strong': 0.6533,
    'coffee_clean': 0.8988,
    'coffee_darken_mild': 0.8261,
    'coffee_darken_strong': 0.7444,
    'coffee_jpeg_mild': 0.9165,
    'coffee_jpeg_strong': 0.6823,
    'coffee_noise_mild': 0.9014,
    'coffee_noise_strong': 0.7934,
    'coffee_resample_mild': 0.8924,
    'coffee_resample_strong': 0.8189,
}


@pytest.fixture(scope='module')
def scores() -> dict[str, float]:
    metric = pyiqa.create_metric('lifeiqa', device='cpu')
    with torch.no_grad():
        return {path.stem: float(metric(str(path))) for path in sorted(EXAMPLES.glob('*.png'))}


def test_the_bundled_examples_keep_their_pinned_scores(scores):
    assert scores.keys() == PINNED.keys()
    for name, pinned in PINNED.items():
        assert scores[name] == pytest.approx(pinned, abs=1e-3), name


@pytest.mark.parametrize('kind', ['blur', 'darken', 'resample'])
def test_the_clean_photograph_scores_above_the_mild_blur_darkening_and_resampling(scores, kind):
    assert scores['coffee_clean'] > scores[f'coffee_{kind}_mild']


@pytest.mark.parametrize('kind', KINDS)
def test_each_strong_distortion_scores_below_its_mild_one(scores, kind):
    assert scores[f'coffee_{kind}_strong'] < scores[f'coffee_{kind}_mild']


def test_a_copy_of_the_shipped_file_damaged_inside_its_tensors_is_refused_from_any_path(tmp_path):
    from pyiqa_lifeiqa.weights.checkpoint import CheckpointError
    from pyiqa_lifeiqa.weights.locate import PACKAGE_WEIGHTS_DIR
    from pyiqa_lifeiqa.weights.registry import WEIGHT_SETS

    data = bytearray((PACKAGE_WEIGHTS_DIR / WEIGHT_SETS['lifeiqa'].filename).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 1000] = bytes(b ^ 0x01 for b in data[middle : middle + 1000])  # finite values still
    damaged = tmp_path / 'lifeiqa_default.safetensors'
    damaged.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match='differ from the hash recorded when it was saved'):
        pyiqa.create_metric('lifeiqa', pretrained_model_path=str(damaged), device='cpu')


def test_the_shipped_weights_score_under_a_protocol_the_caller_chooses(scores):
    """``working_size=192`` (the earlier protocol, benchmarks/size_invariance.py) is a choice, not a mismatch."""
    shrunk = pyiqa.create_metric('lifeiqa', device='cpu', working_size=192, test_sample=4)
    assert (shrunk.net.config.working_size, shrunk.net.config.test_sample) == (192, 4)
    with torch.no_grad():
        score = float(shrunk(str(EXAMPLES / 'coffee_clean.png')))
    assert 0 < score < 1.5 and abs(score - scores['coffee_clean']) > 1e-3  # scored otherwise, by the same weights


@pytest.fixture(scope='module')
def metric():
    return pyiqa.create_metric('lifeiqa', device='cpu')


@pytest.mark.parametrize('longer_side', [384, 512, 1024, 1536, 2048])  # 2048: shrunk to max_size 1536 to score
def test_the_quality_map_is_lower_on_the_blurred_half_of_a_photograph(metric, longer_side):
    import cv2
    from skimage import data

    photo = data.coffee()  # 400 x 600
    scale = longer_side / max(photo.shape[:2])
    size = (round(photo.shape[1] * scale), round(photo.shape[0] * scale))
    photo = cv2.resize(photo, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    half = photo.shape[1] // 2
    photo[:, :half] = cv2.GaussianBlur(photo, (0, 0), 3)[:, :half]
    with torch.no_grad():
        local = metric.net.quality_map(torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255)
    assert local.shape[-2:] == photo.shape[:2]
    assert local[..., :half].mean() < local[..., half:].mean() - 0.02
