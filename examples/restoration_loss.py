"""Life-IQA as a restoration loss: deblur one image with a fidelity term plus ``LifeIQALoss``.

``LifeIQALoss`` (registered in pyiqa's ``LOSS_REGISTRY``, so option files can name it
``type: LifeIQALoss``) scores random crops and flips of the result on each call, and with the
clean target given penalises only the shortfall of the result's score below the target's, so it
never rewards going past the target. ``benchmarks/restoration_loss.py`` measures it on held-out
photographs, beside fidelity alone and the plain ``create_metric('lifeiqa', as_loss=True)`` term.

Usage:
    HF_HUB_OFFLINE=1 python examples/restoration_loss.py [--image FILE] [--steps 100] [--weight 0.003]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pyiqa
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF

from pyiqa_lifeiqa.io import load_image
from pyiqa_lifeiqa.losses import LifeIQALoss

EXAMPLE = Path(__file__).resolve().parent / 'images' / 'coffee_clean.png'


def blur(x: torch.Tensor, sigma: float = 2.0) -> torch.Tensor:
    size = 2 * round(3 * sigma) + 1
    return TF.gaussian_blur(x, [size, size], [sigma, sigma])


def deblur(
    degraded: torch.Tensor,
    clean: torch.Tensor,
    steps: int,
    weight: float,
    quality: LifeIQALoss | None,
    lr: float = 0.001,
) -> torch.Tensor:
    """Adam at ``lr`` on the pixels of ``degraded``: ``MSE(blur(x), degraded)`` (+ ``weight`` x ``quality(x, clean)``).

    lr 0.001 is the benchmark's, chosen for fidelity alone on validation photographs (at 0.01, 100
    steps over-fit the noise).
    """
    x = degraded.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(blur(x), degraded)
        if quality is not None:
            loss = loss + weight * quality(x, clean)
        loss.backward()
        optimizer.step()
        x.data.clamp_(0, 1)
    return x.detach()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--image', type=Path, default=EXAMPLE)
    parser.add_argument('--steps', type=int, default=100)
    parser.add_argument('--weight', type=float, default=0.003)
    args = parser.parse_args()

    torch.manual_seed(0)
    clean = TF.center_crop(load_image(args.image), [256, 256])
    degraded = (blur(clean) + 0.01 * torch.randn_like(clean)).clamp(0, 1)
    psnr, score = pyiqa.create_metric('psnr', device='cpu'), pyiqa.create_metric('lifeiqa', device='cpu')
    quality = LifeIQALoss('lifeiqa', device='cpu')
    results = {
        'degraded': degraded,
        'fidelity only': deblur(degraded, clean, args.steps, args.weight, None),
        'fidelity + LifeIQALoss': deblur(degraded, clean, args.steps, args.weight, quality),
    }
    print(f'{"":<24}{"PSNR":>8}{"Life-IQA":>10}   (clean target: Life-IQA {score(clean).item():.4f})')
    for name, result in results.items():
        print(f'{name:<24}{psnr(result, clean).item():>8.2f}{score(result).item():>10.4f}')


if __name__ == '__main__':
    main()
