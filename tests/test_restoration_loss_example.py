"""examples/restoration_loss.py: deblurring with LifeIQALoss on the shipped default model."""

import importlib.util
from pathlib import Path

import pyiqa
import torch
import torchvision.transforms.functional as TF

from pyiqa_lifeiqa.io import load_image
from pyiqa_lifeiqa.losses import LifeIQALoss

EXAMPLE = Path(__file__).resolve().parents[1] / 'examples' / 'restoration_loss.py'


def load_example():
    spec = importlib.util.spec_from_file_location('restoration_loss_example', EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_quality_term_raises_the_shipped_models_score_of_the_deblurred_image():
    example = load_example()
    clean = TF.center_crop(load_image(example.EXAMPLE), [160, 160])
    torch.manual_seed(0)
    degraded = (example.blur(clean) + 0.01 * torch.randn_like(clean)).clamp(0, 1)
    score = pyiqa.create_metric('lifeiqa', device='cpu')
    fidelity_only = example.deblur(degraded, clean, steps=4, weight=1.0, quality=None)
    with_quality = example.deblur(degraded, clean, steps=4, weight=1.0, quality=LifeIQALoss('lifeiqa', device='cpu'))
    assert score(with_quality).item() > score(fidelity_only).item()
    assert 0 <= with_quality.min() and with_quality.max() <= 1
