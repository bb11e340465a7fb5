"""Losses pyiqa lacks, registered in its LOSS_REGISTRY (found through the ``pyiqa.losses`` entry point)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pyiqa.utils.registry import LOSS_REGISTRY
from torch import nn

from pyiqa_lifeiqa.archs.crops import resize_to_working_size
from pyiqa_lifeiqa.archs.lifeiqa_arch import LifeIQA, prepare_input


@LOSS_REGISTRY.register()
class SmoothL1Loss(nn.Module):
    """torch's SmoothL1 (Huber with ``beta``) loss with pyiqa's ``loss_weight``: the Life-IQA MOS loss.

    Args:
        loss_weight: Multiplier of the loss.
        beta: Where the loss turns from quadratic to linear.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
    """

    def __init__(self, loss_weight: float = 1.0, beta: float = 1.0, reduction: str = 'mean'):
        super().__init__()
        self.loss_weight = loss_weight
        self.loss = nn.SmoothL1Loss(beta=beta, reduction=reduction)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * self.loss(pred, target)


@LOSS_REGISTRY.register()
class LifeIQALoss(nn.Module):
    """A frozen Life-IQA metric as a loss for restoration training (something to minimise).

    Each call scores ``views`` random views of every image: the image is resized to the
    metric's working size (antialiased, so differentiable), then a random ``crop_size`` crop is
    taken, flipped left-right at random (``flip``). Averaging over fresh random views
    (an expectation over transformations) rewards what the model sees in every view rather
    than a perturbation fitted to fixed crop positions.

    * Without ``target`` (or ``hinge=False``) the loss is ``-loss_weight * score(pred)``.
    * With ``target`` and ``hinge`` it is ``loss_weight * relu(score(target) - score(pred))``,
      the two scored on the same views: no reward for a result scored above the clean target,
      and no gradient once it is there.

    ``pyiqa.create_metric('lifeiqa', as_loss=True)`` differs: it returns the plain score (higher
    is better, so a loss must subtract it), scored on the metric's fixed crops, with no hinge.

    Args:
        metric: A lifeiqa metric name of pyiqa (``create_metric``); its weights are frozen.
        loss_weight: Multiplier of the loss.
        views: Random views per image and call.
        flip: Flip views left-right at random.
        rescale: Each call, the working size is scaled by a random factor in
            ``[1 - rescale, 1 + rescale]`` (never below one crop), so a pixel pattern fitted to
            one resampling grid does not carry over.
        hinge: With a target, penalise only the shortfall of ``pred``'s score below it.
        device: Where the metric runs (pyiqa's default: cuda if available). ``.to()`` moves it.
        pretrained_model_path: Other weights for the metric (a file ``lifeiqa convert`` wrote, or a
            pyiqa checkpoint of its network), as in ``pyiqa.create_metric``.
    """

    def __init__(
        self,
        metric: str = 'lifeiqa',
        loss_weight: float = 1.0,
        views: int = 4,
        flip: bool = True,
        rescale: float = 0.25,
        hinge: bool = True,
        device: str | torch.device | None = None,
        pretrained_model_path: str | None = None,
    ):
        super().__init__()
        import pyiqa

        if views < 1:
            raise ValueError(f'views must be at least 1, got {views}')
        if not 0 <= rescale < 1:
            raise ValueError(f'rescale must be in [0, 1), got {rescale}')
        weights = {} if pretrained_model_path is None else {'pretrained_model_path': str(pretrained_model_path)}
        net = pyiqa.create_metric(metric, device=device, **weights).net
        if not isinstance(net, LifeIQA):
            raise ValueError(f'{metric!r} is not a Life-IQA metric (its network is {type(net).__name__})')
        self.net = net.eval().requires_grad_(False)
        self.loss_weight = loss_weight
        self.views = views
        self.flip = flip
        self.rescale = rescale
        self.hinge = hinge

    def train(self, mode: bool = True) -> LifeIQALoss:
        """The metric stays in eval mode (no dropout, covering crops are not used here anyway)."""
        super().train(mode)
        self.net.eval()
        return self

    def forward(self, pred: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        """The loss of restored images ``pred`` (N, 3, H, W) in [0, 1], against ``target`` of the same shape."""
        pred = self.net.prepare(pred)
        if target is not None and target.shape != pred.shape:
            raise ValueError(f'target shape {tuple(target.shape)} differs from pred shape {tuple(pred.shape)}')
        crop, working = self.net.config.crop_size, self.net.config.working_size
        factor = 1 + self.rescale * (2 * torch.rand(()).item() - 1)
        working = max(crop, round((working or min(pred.shape[-2:])) * factor))
        pred = resize_to_working_size(pred, working, crop)
        n, _, height, width = pred.shape
        tops = torch.randint(height - crop + 1, (n, self.views)).tolist()
        lefts = torch.randint(width - crop + 1, (n, self.views)).tolist()
        flips = (torch.rand(n, self.views) < 0.5).tolist() if self.flip else [[False] * self.views] * n

        def views_of(x: torch.Tensor) -> torch.Tensor:
            views = []
            for i in range(n):
                for top, left, flip in zip(tops[i], lefts[i], flips[i], strict=True):
                    view = x[i, :, top : top + crop, left : left + crop]
                    views.append(view.flip(-1) if flip else view)
            return torch.stack(views)

        score, _ = self.net.score_crop_sets(views_of(pred), [self.views] * n)
        if target is None or not self.hinge:
            return -self.loss_weight * score.mean()
        with torch.no_grad():
            target = resize_to_working_size(prepare_input(target, pred.dtype, check=None), working, crop)
            reference, _ = self.net.score_crop_sets(views_of(target), [self.views] * n)
        return self.loss_weight * F.relu(reference - score).mean()
