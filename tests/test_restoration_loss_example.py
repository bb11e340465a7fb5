"""examples/restoration_loss.py: Life-IQA as a differentiable restoration loss."""

import importlib.util
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


def test_optimising_the_lifeiqa_term_raises_the_score(example, degraded):
    score = pyiqa.create_metric('lifeiqa', device='cpu')
    iqa_loss = pyiqa.create_metric('lifeiqa', as_loss=True, device='cpu')
    restored = example.restore(degraded, sigma=2.0, steps=10, lr=0.01, iqa_loss=iqa_loss, weight=1.0)
    assert score(restored).item() > score(degraded).item()


def test_run_reports_psnr_ssim_and_lifeiqa_for_each_method(example, tmp_path):
    rows = example.run([EXAMPLE.parent / 'images' / 'coffee_clean.png'], steps=2, size=96)
    assert [r['method'] for r in rows] == ['degraded', 'fidelity only', 'fidelity + lifeiqa']
    for row in rows:
        assert set(row) == {'image', 'method', 'psnr', 'ssim', 'lifeiqa'}
        assert all(torch.isfinite(torch.tensor(row[k])) for k in ('psnr', 'ssim', 'lifeiqa'))
    summary = example.summarise(rows)
    assert set(summary) == {'degraded', 'fidelity only', 'fidelity + lifeiqa'}
