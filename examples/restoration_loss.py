"""Life-IQA as a differentiable loss for image restoration (non-blind deblurring).

Each held-out image ``y`` is blurred (Gaussian, known kernel) and given a little noise. The sharp
image ``x`` is then recovered with Adam, twice from the same start:

* fidelity only:        minimise ``MSE(blur(x), y)``
* fidelity + Life-IQA:  minimise ``MSE(blur(x), y) - weight * lifeiqa(x)``

(``pyiqa.create_metric('lifeiqa', as_loss=True)`` returns the score with gradients; higher is
better, so the loss subtracts it.) ``x`` is optimised in one of two forms (``--optimise``):

* ``pixels``:  ``x`` itself, started at ``y``;
* ``network``: ``x = y + f(y)`` with ``f`` a small convolutional network (:class:`ResidualCNN`)
  whose weights are optimised, started at ``f = 0``; the network can only make changes that
  its convolutions express, not arbitrary pixel patterns.

PSNR and SSIM against the sharp image and the Life-IQA score are reported for the degraded
input and each restoration, and the score of the sharp image itself to read them against.

Usage:
    python examples/restoration_loss.py [--images FILE ...] [--optimise pixels network] [--steps 150]
        [--weight 0.05] [--csv out.csv]
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import pyiqa
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from torch import nn

from pyiqa_lifeiqa.io import load_image

EXAMPLES = Path(__file__).resolve().parent / 'images'
# Adam learning rates that fit each form: pixels move directly, network weights act on every pixel.
DEFAULT_LR = {'pixels': 0.01, 'network': 0.001}


def degrade(sharp: torch.Tensor, sigma: float, noise: float, seed: int = 0) -> torch.Tensor:
    """Gaussian blur with a known kernel, then Gaussian noise (seeded)."""
    g = torch.Generator().manual_seed(seed)
    blurred = blur(sharp, sigma)
    return (blurred + noise * torch.randn(blurred.shape, generator=g).to(blurred)).clamp(0, 1)


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    size = 2 * round(3 * sigma) + 1
    return TF.gaussian_blur(x, [size, size], [sigma, sigma])


class ResidualCNN(nn.Module):
    """A small restoration network: the input plus a correction from a stack of 3x3 convolutions.

    Args:
        width: Channels of the hidden layers.
        depth: Number of convolutions.
    """

    def __init__(self, width: int = 32, depth: int = 5):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, width, 3, padding=1), nn.ReLU()]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU()]
        layers.append(nn.Conv2d(width, 3, 3, padding=1))
        nn.init.zeros_(layers[-1].weight)  # starts as the identity
        nn.init.zeros_(layers[-1].bias)
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x + self.body(x)).clamp(0, 1)


def restore(
    degraded: torch.Tensor,
    sigma: float,
    steps: int,
    lr: float,
    iqa_loss: torch.nn.Module | None,
    weight: float,
    optimise: str = 'pixels',
) -> torch.Tensor:
    """Recover the sharp image from ``degraded`` under the blur model, optimising ``optimise``.

    Args:
        degraded: The blurred, noisy image, (1, 3, H, W) in [0, 1].
        sigma: Standard deviation of the (known) Gaussian blur.
        steps: Adam steps.
        lr: Adam learning rate.
        iqa_loss: ``create_metric(..., as_loss=True)``, or None for fidelity only.
        weight: Weight of the IQA term.
        optimise: ``'pixels'`` (the image itself) or ``'network'`` (the weights of a
            :class:`ResidualCNN` applied to ``degraded``).

    Returns:
        The restored image, detached.
    """
    if optimise == 'pixels':
        x = degraded.clone().requires_grad_(True)
        params, image = [x], lambda: x
        project = partial(x.data.clamp_, 0, 1)  # keep the pixels a valid image after each step
    elif optimise == 'network':
        torch.manual_seed(0)  # the same network start for both losses
        net = ResidualCNN().to(degraded.device)
        params, image = list(net.parameters()), lambda: net(degraded)
        project = None  # ResidualCNN clamps its output
    else:
        raise ValueError(f"optimise must be 'pixels' or 'network', got {optimise!r}")
    optimizer = torch.optim.Adam(params, lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        restored = image()
        loss = F.mse_loss(blur(restored, sigma), degraded)
        if iqa_loss is not None:
            loss = loss - weight * iqa_loss(restored)
        loss.backward()
        optimizer.step()
        if project is not None:
            project()
    with torch.no_grad():
        return image().detach()


def run(
    images: list[Path],
    metric: str = 'lifeiqa',
    optimise: Sequence[str] = ('pixels',),
    steps: int = 150,
    lr: float | None = None,
    weight: float = 0.05,
    sigma: float = 2.0,
    noise: float = 0.01,
    size: int = 256,
    device: str = 'cpu',
) -> list[dict]:
    """Degrade and restore each image; return one row of measurements per (image, method).

    The methods are ``clean`` (the target itself, to read the other scores against), ``degraded`` and, for
    each form in ``optimise``, ``fidelity only (FORM)`` and ``fidelity + lifeiqa (FORM)``. ``lr`` None:
    :data:`DEFAULT_LR` of the form.
    """
    iqa = pyiqa.create_metric(metric, device=device)
    iqa_loss = pyiqa.create_metric(metric, as_loss=True, device=device)
    psnr = pyiqa.create_metric('psnr', device=device)
    ssim = pyiqa.create_metric('ssim', device=device)
    rows = []
    for i, path in enumerate(images):
        sharp = TF.center_crop(load_image(path), [size, size]).to(device)
        degraded = degrade(sharp, sigma, noise, seed=i)
        results = {'clean': sharp, 'degraded': degraded}
        for form in optimise:
            form_lr = DEFAULT_LR[form] if lr is None else lr
            results[f'fidelity only ({form})'] = restore(degraded, sigma, steps, form_lr, None, weight, form)
            results[f'fidelity + {metric} ({form})'] = restore(degraded, sigma, steps, form_lr, iqa_loss, weight, form)
        for method, img in results.items():
            rows.append(
                {
                    'image': path.name,
                    'method': method,
                    'psnr': math.inf if img is sharp else psnr(img, sharp).item(),  # pyiqa caps it at 80 dB
                    'ssim': ssim(img, sharp).item(),
                    'lifeiqa': iqa(img).item(),
                }
            )
    return rows


def summarise(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Median PSNR, SSIM and Life-IQA per method."""
    methods = dict.fromkeys(r['method'] for r in rows)
    return {
        m: {k: statistics.median(r[k] for r in rows if r['method'] == m) for k in ('psnr', 'ssim', 'lifeiqa')}
        for m in methods
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--images', nargs='+', type=Path, default=sorted(EXAMPLES.glob('*_clean.png')))
    parser.add_argument('--metric', default='lifeiqa')
    parser.add_argument('--optimise', nargs='+', choices=sorted(DEFAULT_LR), default=['pixels', 'network'])
    parser.add_argument('--steps', type=int, default=150)
    parser.add_argument('--lr', type=float, help='Adam learning rate (default: 0.01 for pixels, 0.001 for network)')
    parser.add_argument('--weight', type=float, default=0.05, help='weight of the Life-IQA term')
    parser.add_argument('--sigma', type=float, default=2.0, help='blur sigma (pixels)')
    parser.add_argument('--noise', type=float, default=0.01, help='noise standard deviation')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--csv', type=Path, help='write every measurement to this CSV')
    args = parser.parse_args()
    if not args.images:
        parser.error('no images given and none found in examples/images')
    rows = run(
        args.images,
        metric=args.metric,
        optimise=args.optimise,
        steps=args.steps,
        lr=args.lr,
        weight=args.weight,
        sigma=args.sigma,
        noise=args.noise,
        device=args.device,
    )
    print(f'{"method":<32}{"PSNR":>8}{"SSIM":>8}{"Life-IQA":>10}   (medians over {len(args.images)} images)')
    for method, s in summarise(rows).items():
        print(f'{method:<32}{s["psnr"]:>8.2f}{s["ssim"]:>8.4f}{s["lifeiqa"]:>10.4f}')
    if args.csv:
        with open(args.csv, 'w', newline='') as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == '__main__':
    main()
