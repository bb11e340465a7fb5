"""Baseline heads for the accuracy comparison, registered in pyiqa's ARCH_REGISTRY.

Both take Life-IQA's crops (:func:`~pyiqa_lifeiqa.archs.crops.take_crops`), normalise inputs
with their backbone's own mean and std, and with ``backbone_pretrain`` start from the same
offline ImageNet weights as ``LifeIQA`` (:func:`~pyiqa_lifeiqa.weights.backbones.create_backbone`).

* :class:`GAPLinearIQA`: global average pooling of a timm backbone's last stage and one linear
  layer, the simplest head a backbone can have (for EfficientNet, timm's full model: its 1x1
  ``conv_head`` to 1280 channels is part of this head).
* :class:`TopiqNRScratch`: pyiqa's TOPIQ NR head (``CFANet`` with ``use_ref=False``, nothing
  downloaded). ``CFANet`` freezes every BatchNorm of a timm backbone (``fix_bn``: no gradient,
  and eval mode from the end of the first forward after each ``train()`` call on). Since every
  other head here trains its backbone's BatchNorm, this class does too unless ``train_bn=False``
  (CFANet as shipped); a randomly initialised backbone would otherwise stay almost unnormalised.

Importing this module registers both names; pyiqa's ``build_network`` then builds them from
option dicts like any pyiqa arch.
"""

from __future__ import annotations

from functools import partial

import torch
from pyiqa.archs.topiq_arch import CFANet
from pyiqa.utils.registry import ARCH_REGISTRY
from torch import nn

from pyiqa_lifeiqa.archs.crops import take_crops
from pyiqa_lifeiqa.weights.backbones import backbone_normalisation, create_backbone


@ARCH_REGISTRY.register()
class GAPLinearIQA(nn.Module):
    """Global average pooling of the backbone's last stage, then one linear layer.

    Crops follow Life-IQA's policy (:func:`~pyiqa_lifeiqa.archs.crops.take_crops`); the scores of
    an image's crops are averaged.

    Args:
        backbone: timm model name.
        crop_size: Side of the square crops.
        test_sample: Least number of crops per image in eval mode.
        working_size: Shorter side images are resized to before cropping (None: kept).
        backbone_pretrain: Initialise the backbone with its offline ImageNet weights.
    """

    def __init__(
        self,
        backbone: str = 'tf_efficientnet_lite0',
        crop_size: int = 224,
        test_sample: int = 10,
        working_size: int | None = None,
        backbone_pretrain: bool = False,
    ):
        super().__init__()
        self.crop_policy = partial(take_crops, crop_size=crop_size, min_crops=test_sample, working_size=working_size)
        built = create_backbone(backbone, backbone_pretrain, download=False, num_classes=0, global_pool='avg')
        self.backbone = built.model
        self.fc = nn.Linear(self.backbone.num_features, 1)
        self.register_buffer('mean', built.mean, persistent=False)
        self.register_buffer('std', built.std, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Score RGB images (N, 3, H, W) in [0, 1]; returns (N, 1)."""
        crops, per_image = self.crop_policy(x, training=self.training)
        scores = self.fc(self.backbone((crops - self.mean) / self.std))
        return scores.view(-1, per_image).mean(dim=1, keepdim=True)


@ARCH_REGISTRY.register()
class TopiqNRScratch(CFANet):
    """TOPIQ NR (``CFANet``, ``use_ref=False``, nothing downloaded) with a trainable backbone BatchNorm.

    Crops follow Life-IQA's policy (:func:`~pyiqa_lifeiqa.archs.crops.take_crops`; CFANet's own
    multi-crop path is not used: in pyiqa 0.1.16 its no-reference branch keeps only the first
    image's crops). Inputs are normalised with the backbone's own mean and std.

    Args:
        crop_size: Side of the square crops.
        test_sample: Least number of crops per image in eval mode.
        working_size: Shorter side images are resized to before cropping (None: kept).
        train_bn: Train the backbone's BatchNorm like the rest of the network (True), or keep
            CFANet's frozen BatchNorm (False).
        backbone_pretrain: Initialise the backbone with its offline ImageNet weights.
        **kwargs: Other ``CFANet`` arguments; ``use_ref``, ``pretrained`` and ``num_crop`` are fixed.
    """

    def __init__(
        self,
        crop_size: int = 224,
        test_sample: int = 10,
        working_size: int | None = None,
        train_bn: bool = True,
        backbone_pretrain: bool = False,
        **kwargs,
    ):
        # CFANet.__init__ calls fix_bn, which reads this flag: set it first (a plain attribute,
        # so nn.Module's bookkeeping is not needed yet).
        self.train_bn = train_bn
        super().__init__(
            use_ref=False, pretrained=False, backbone_pretrain=False, num_crop=1, crop_size=crop_size, **kwargs
        )
        if backbone_pretrain:  # CFANet builds its backbone without weights: take them from one built with them
            built = create_backbone(self.semantic_model_name, True, download=False, features_only=True)
            self.semantic_model.load_state_dict(built.model.state_dict())
        self.default_mean, self.default_std = backbone_normalisation(self.semantic_model, self.semantic_model_name)
        self.crop_policy = partial(take_crops, crop_size=crop_size, min_crops=test_sample, working_size=working_size)

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
        crops, per_image = self.crop_policy(x, training=self.training)
        return super().forward(crops).view(-1, per_image).mean(dim=1, keepdim=True)
