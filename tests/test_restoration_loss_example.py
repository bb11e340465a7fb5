"""examples/restoration_loss.py: Life-IQA as a differentiable restoration loss."""

import importlib.util
import math
from pathlib import Path

import pyiqa
import pytest
import torch

EXAMPLE = Path(__file__).resolve().parents[1] / 'examples' / 'restoration_loss.py'


@pytest.fixture(scope='module')
def example():
    spec = importlib.util.spec_from_file_location('restoration_loss', EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def degraded(example) -> torch.Tensor:
    from pyiqa_lifeiqa.io import load_image

    sharp = load_image(EXAMPLE.parent / 'images' / 'coffee_clean.png')[..., :128, :128]
    return example.degrade(sharp, sigma=2.0, noise=0.01)


def test_the_shipped_metric_is_differentiable_end_to_end(degraded):
    loss = pyiqa.create_metric('lifeiqa', as_loss=True, device='cpu')
    x = degraded.clone().requires_grad_(True)
    loss(x).backward()
    assert torch.isfinite(x.grad).all()
    assert x.grad.abs().sum() > 0


@pytest.mark.parametrize('optimise', ['pixels', 'network'])
def test_optimising_the_lifeiqa_term_raises_the_score(example, degraded, optimise):
    score = pyiqa.create_metric('lifeiqa', device='cpu')
    iqa_loss = pyiqa.create_metric('lifeiqa', as_loss=True, device='cpu')
    lr = example.DEFAULT_LR[optimise]
    restored = example.restore(degraded, sigma=2.0, steps=10, lr=lr, iqa_loss=iqa_loss, weight=1.0, optimise=optimise)
    assert score(restored).item() > score(degraded).item()


def test_the_network_starts_as_the_identity_and_keeps_images_in_range(example, degraded):
    assert torch.equal(
        example.restore(degraded, 2.0, steps=0, lr=0.001, iqa_loss=None, weight=0, optimise='network'), degraded
    )
    restored = example.restore(degraded, 2.0, steps=3, lr=0.01, iqa_loss=None, weight=0, optimise='network')
    assert restored.shape == degraded.shape and 0 <= restored.min() and restored.max() <= 1
    assert not torch.equal(restored, degraded)


def test_unknown_form_to_optimise_is_refused(example, degraded):
    with pytest.raises(ValueError, match="'pixels' or 'network'"):
        example.restore(degraded, 2.0, steps=1, lr=0.01, iqa_loss=None, weight=0, optimise='latent')


def test_run_reports_psnr_ssim_and_lifeiqa_for_each_method(example, tmp_path):
    rows = example.run(
        [EXAMPLE.parent / 'images' / 'coffee_clean.png'], optimise=['pixels', 'network'], steps=2, size=96
    )
    restored = [f'fidelity {t} ({form})' for form in ('pixels', 'network') for t in ('only', '+ lifeiqa')]
    methods = ['clean', 'degraded', *restored]
    assert [r['method'] for r in rows] == methods
    for row in rows:
        assert set(row) == {'image', 'method', 'psnr', 'ssim', 'lifeiqa'}
        measured = ('ssim', 'lifeiqa') if row['method'] == 'clean' else ('psnr', 'ssim', 'lifeiqa')
        assert all(torch.isfinite(torch.tensor(row[k])) for k in measured)
    assert rows[0]['psnr'] == math.inf and rows[0]['ssim'] == pytest.approx(1.0)  # the clean target itself
    assert list(example.summarise(rows)) == methods
