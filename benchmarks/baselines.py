"""Baseline heads for the accuracy comparison, registered in pyiqa's ARCH_REGISTRY.

* :class:`GAPLinearIQA`: global average pooling of a timm backbone's last stage and one linear
  layer, the simplest head a backbone can have.
* :class:`TopiqNRScratch`: pyiqa's TOPIQ NR head (``CFANet`` with ``use_ref=False``) made fit
  for training the backbone from scratch. ``CFANet`` freezes every BatchNorm of a timm backbone
  (``fix_bn``: no gradient, and eval mode from the end of the first forward after each
  ``train()`` call on), which is right for an ImageNet-pretrained backbone. A randomly
  initialised backbone keeps, with it, fixed affine parameters (1, 0) and running statistics
  that only move once per ``train()`` call (pyiqa's training model calls it after each
  validation), i.e. almost no normalisation. Since every other head here trains its backbone's
  BatchNorm, this class does too unless ``train_bn=False`` (CFANet as shipped).

Importing this module registers both names; pyiqa's ``build_network`` then builds them from
option dicts like any pyiqa arch.
"""

from __future__ import annotations

import timm
import torch
from pyiqa.archs.arch_util import random_crop, uniform_crop
from pyiqa.archs.constants import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from pyiqa.archs.topiq_arch import CFANet
from pyiqa.utils.registry import ARCH_REGISTRY
from torch import nn


def protocol_crops(x: torch.Tensor, crop_size: int, test_sample: int, training: bool) -> tuple[torch.Tensor, int]:
    """Crops as :class:`~pyiqa_lifeiqa.archs.lifeiqa_arch.LifeIQA` takes them.

    An input of exactly ``crop_size`` x ``crop_size`` is used as is; otherwise one random crop
    per image in training and ``test_sample`` uniform crops per image in eval mode.

    Args:
        x: Images (N, 3, H, W).
        crop_size: Side of the square crops.
        test_sample: Crops per image in eval mode.
        training: Whether the calling module is in training mode.

    Returns:
        The crops (N * per_image, 3, crop_size, crop_size) and ``per_image``.
    """
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f'expected RGB images shaped (N, 3, H, W), got shape {tuple(x.shape)}')
    if x.shape[-2:] == (crop_size, crop_size):
        return x, 1
    if training:
        return random_crop(x, crop_size, 1), 1
    return uniform_crop(x, crop_size, test_sample), test_sample


@ARCH_REGISTRY.register()
class GAPLinearIQA(nn.Module):
    """Global average pooling of the backbone's last stage, then one linear layer.

    Crops follow :func:`protocol_crops`; the scores of an image's crops are averaged.

    Args:
        backbone: timm model name.
        crop_size: Side of the square crops.
        test_sample: Crops per image in eval mode.
        backbone_pretrain: Load timm's ImageNet weights (a download).
    """

    def __init__(
        self,
        backbone: str = 'regnetx_002',
        crop_size: int = 224,
        test_sample: int = 10,
        backbone_pretrain: bool = False,
    ):
        super().__init__()
        self.crop_size = crop_size
        self.test_sample = test_sample
        self.backbone = timm.create_model(backbone, pretrained=backbone_pretrain, num_classes=0, global_pool='avg')
        self.fc = nn.Linear(self.backbone.num_features, 1)
        self.register_buffer('mean', torch.tensor(IMAGENET_DEFAULT_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(IMAGENET_DEFAULT_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Score RGB images (N, 3, H, W) in [0, 1]; returns (N, 1)."""
        crops, per_image = protocol_crops(x, self.crop_size, self.test_sample, self.training)
        scores = self.fc(self.backbone((crops - self.mean) / self.std))
        return scores.view(-1, per_image).mean(dim=1, keepdim=True)


@ARCH_REGISTRY.register()
class TopiqNRScratch(CFANet):
    """TOPIQ NR (``CFANet``, ``use_ref=False``, nothing downloaded) with a trainable backbone BatchNorm.

    Crops follow :func:`protocol_crops` (CFANet's own multi-crop path is not used: in pyiqa
    0.1.16 its no-reference branch keeps only the first image's crops).

    Args:
        crop_size: Side of the square crops.
        test_sample: Crops per image in eval mode.
        train_bn: Train the backbone's BatchNorm like the rest of the network (True), or keep
            CFANet's frozen BatchNorm (False).
        **kwargs: Other ``CFANet`` arguments; ``use_ref``, ``pretrained``, ``backbone_pretrain``
            and ``num_crop`` are fixed.
    """

    def __init__(self, crop_size: int = 224, test_sample: int = 10, train_bn: bool = True, **kwargs):
        # CFANet.__init__ calls fix_bn, which reads this flag: set it first (a plain attribute,
        # so nn.Module's bookkeeping is not needed yet).
        self.train_bn = train_bn
        super().__init__(
            use_ref=False, pretrained=False, backbone_pretrain=False, num_crop=1, crop_size=crop_size, **kwargs
        )
        self.test_sample = test_sample

    def fix_bn(self, model: nn.Module) -> None:
        """Freeze the backbone BatchNorm only when ``train_bn`` is False."""
        if not self.train_bn:
            super().fix_bn(model)

    def forward_cross_attention(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        # CFANet switches its backbone to eval mode after every forward; give it this module's
        # mode back first, so that a trainable BatchNorm uses batch statistics while training.
        if self.train_bn:
            self.semantic_model.train(self.training)
        return super().forward_cross_attention(x, y)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Score RGB images (N, 3, H, W) in [0, 1]; returns (N, 1)."""
        crops, per_image = protocol_crops(x, self.crop_size, self.test_sample, self.training)
        return super().forward(crops).view(-1, per_image).mean(dim=1, keepdim=True)
