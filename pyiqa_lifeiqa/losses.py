"""Losses pyiqa lacks, registered in its LOSS_REGISTRY (found through the ``pyiqa.losses`` entry point)."""

from __future__ import annotations

import torch
from pyiqa.utils.registry import LOSS_REGISTRY
from torch import nn


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
