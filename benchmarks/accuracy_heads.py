"""The heads compared by ``accuracy.py`` and what they share (:class:`Setup`): pyiqa network options per head.

Every head sits on the same timm backbone and takes the same crops; Life-IQA's variants are the
ablations of the paper (GCN -> self-attention, MoE -> FFN, the vanilla Transformer decoder), the
others the simplest head (GAP + linear) and pyiqa's TOPIQ NR head (``baselines.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import baselines  # noqa: F401  (registers GAPLinearIQA and TopiqNRScratch in pyiqa's ARCH_REGISTRY)

from pyiqa_lifeiqa.data.pseudo_mos import FR_METRICS

# pyiqa's classic no-reference metrics, scored on the same test parts (offline after `lifeiqa prepare-baselines`)
CLASSIC = {'niqe': 'NIQE (pyiqa)', 'brisque': 'BRISQUE (pyiqa)', 'piqe': 'PIQE (pyiqa)'}


@dataclass(frozen=True)
class Setup:
    """Everything the heads share: data, backbone, widths, crops and the training budget.

    The defaults are the comparison of benchmarks/README.md: the default model's ImageNet
    EfficientNet-Lite0 backbone and head width, a synthetic set made from ``photos`` of the listed
    photographs (3 levels of 8 distortions, the default model's pseudo-MOS metrics), 5 splits by
    photograph, and a budget that fits about two hours of one CPU thread for the 6 heads.
    """

    backbone: str = 'tf_efficientnet_lite0'
    backbone_pretrain: bool = True
    embed_dim: int = 128
    num_heads: int = 4
    num_experts: int = 4
    crop_size: int = 128
    test_sample: int = 4
    working_size: int | None = None
    image_size: tuple[int, int] = (192, 256)
    photos: int = 80
    levels: int = 3
    metrics: tuple[str, ...] = FR_METRICS
    distortions: tuple[str, ...] = (
        'gaussian_blur',
        'motion_blur',
        'jpeg',
        'gaussian_noise',
        'impulse_noise',
        'desaturate',
        'darken',
        'pixelate',
    )
    splits: int = 5
    iters: int = 200
    batch_size: int = 16
    lr: float = 3e-4
    weight_decay: float = 0.01
    seed: int = 0


@dataclass(frozen=True)
class Head:
    """One compared head: a label, its pyiqa network options for a :class:`Setup` and pyiqa training model.

    Life-IQA's heads train with :class:`~pyiqa_lifeiqa.models.lifeiqa_model.LifeIQAModel`, which adds
    the MoE auxiliary losses to the same loss (zero for a single-expert head); the others with
    pyiqa's ``GeneralIQAModel``.
    """

    label: str
    network: Callable[[Setup], dict]
    model_type: str = 'GeneralIQAModel'


def shared_options(setup: Setup) -> dict:
    """The network options every head takes alike: its crops and whether its backbone is pretrained."""
    return {
        'crop_size': setup.crop_size,
        'test_sample': setup.test_sample,
        'working_size': setup.working_size,
        'backbone_pretrain': setup.backbone_pretrain,
    }


def lifeiqa_network(**overrides) -> Callable[[Setup], dict]:
    """Network options of LifeIQA on the setup's backbone and width, with ``overrides``."""

    def network(setup: Setup) -> dict:
        return {
            'type': 'LifeIQA',
            'backbone': setup.backbone,
            'embed_dim': setup.embed_dim,
            'num_heads': setup.num_heads,
            'num_experts': setup.num_experts,
            'drop_path_rate': 0.0,
            **shared_options(setup),
            **overrides,
        }

    return network


def topiq_network(train_bn: bool = True) -> Callable[[Setup], dict]:
    """Network options of pyiqa's TOPIQ NR head at the setup's width (see :class:`baselines.TopiqNRScratch`)."""

    def network(setup: Setup) -> dict:
        return {
            'type': 'TopiqNRScratch',
            'semantic_model_name': setup.backbone,
            'inter_dim': setup.embed_dim,
            'num_heads': setup.num_heads,
            'train_bn': train_bn,
            **shared_options(setup),
        }

    return network


def gap_network(setup: Setup) -> dict:
    """Network options of global average pooling + linear (:class:`baselines.GAPLinearIQA`)."""
    return {
        'type': 'GAPLinearIQA',
        'backbone': setup.backbone,
        **shared_options(setup),
    }


HEADS = {
    'lifeiqa': Head('Life-IQA (GCN + MoE)', lifeiqa_network(), 'LifeIQAModel'),
    'topiq_nr': Head('TOPIQ NR head', topiq_network()),
    'vanilla_decoder': Head('vanilla Transformer decoder', lifeiqa_network(decoder='vanilla'), 'LifeIQAModel'),
    'gap_linear': Head('GAP + linear', gap_network),
    'gcn_to_self_attn': Head(
        'ablation: GCN -> self-attention', lifeiqa_network(query_mixer='self_attn'), 'LifeIQAModel'
    ),
    'moe_to_ffn': Head('ablation: MoE -> FFN', lifeiqa_network(num_experts=1), 'LifeIQAModel'),
    'topiq_nr_frozen_bn': Head('TOPIQ NR head, backbone BatchNorm frozen (CFANet as shipped)', topiq_network(False)),
}


# The comparison run by default; the frozen-BatchNorm TOPIQ only shows what CFANet's default does from scratch.
DEFAULT_HEADS = [name for name in HEADS if name != 'topiq_nr_frozen_bn']
