"""The named Life-IQA weight sets: which file each is, how to check it, which model it fits.

Plain data, no torch: this module is cheap to import (the CLI and error messages read it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyiqa_lifeiqa.archs.config import LifeIQAConfig

DEFAULT_WEIGHT_SET = 'lifeiqa'


@dataclass(frozen=True)
class WeightSet:
    """One named weight file for the ``LifeIQA`` arch.

    Attributes:
        name: Registry key, the ``weight_set`` argument of ``LifeIQA``.
        filename: File name searched for in the weight directories and the cache.
        sha256: Hex SHA-256 of the file, checked whenever the file is found or downloaded;
            None while no file has been published.
        size: File size in bytes, checked before hashing; None if unknown.
        url: Where the file can be downloaded (http, https or file URL); None if nowhere.
        config: The network the file belongs to.
        description: What the weights are and how they were (or can be) trained.
        recipe: Name of the ``lifeiqa train`` recipe that produces the file, if one does.
        score_range: Rough range of the scores, as pyiqa's model list shows it.
    """

    name: str
    filename: str
    sha256: str | None = None
    size: int | None = None
    url: str | None = None
    config: LifeIQAConfig = field(default_factory=LifeIQAConfig)
    description: str = ''
    recipe: str | None = None
    score_range: str = '~0, ~1'


WEIGHT_SETS: dict[str, WeightSet] = {
    ws.name: ws
    for ws in (
        WeightSet(
            name='lifeiqa',
            filename='lifeiqa_default.safetensors',
            sha256='840da6de42f3d24d3d33445fc01651f3c6e6f286b0d819c648e5d974891f79ff',
            size=15658520,
            config=LifeIQAConfig(
                backbone='tf_efficientnet_lite0',
                embed_dim=128,
                num_heads=4,
                num_queries=6,
                depth=4,
                num_experts=4,
                top_k=2,
                crop_size=160,
                test_sample=6,
                working_size=None,
                max_size=1536,
            ),
            description=(
                "Default model, shipped in the package: the paper's head at width 128 on timm's "
                'tf_efficientnet_lite0, fine-tuned from its ImageNet weights on synthetic distortions of real '
                'photographs at the sizes people score (patches of photographs resized to 384-1536 px, pseudo-MOS '
                'from gmsd, nlpd and vsi), first with the default_model recipe, then on new views with JPEG at '
                'everyday qualities with default_model_stage2, then on new views with everyday sensor noise with '
                'default_model_stage3; scores images at their own size (longer side capped '
                'at 1536 px). See the README model card.'
            ),
            recipe='default_model_stage3',
        ),
        WeightSet(
            name='lifeiqa-koniq',
            filename='lifeiqa_koniq10k_swinb.safetensors',
            config=LifeIQAConfig(backbone='swin_base_patch4_window7_224', num_experts=2, test_sample=40),
            description=(
                "Life-IQA trained on KonIQ-10k with the authors' KonIQ recipe (Swin-B, 2 experts, depth 4). "
                'The authors released no trained weights: train them yourself.'
            ),
            recipe='koniq10k',
            score_range='~1, ~100',
        ),
    )
}


def get_weight_set(name: str) -> WeightSet:
    """Look a weight set up by name.

    Args:
        name: Registry key.

    Returns:
        The weight set.

    Raises:
        ValueError: ``name`` is not a registered weight set (the message lists the known ones).
    """
    try:
        return WEIGHT_SETS[name]
    except KeyError:
        raise ValueError(f'unknown weight set {name!r}; known weight sets: {", ".join(sorted(WEIGHT_SETS))}') from None


def resolve_config(
    config: LifeIQAConfig | Mapping[str, Any] | str | None, weight_set: str | None = None, **fields: Any
) -> tuple[LifeIQAConfig, str | None]:
    """The network that ``LifeIQA``'s arguments describe, and the weight set it loads when pretrained.

    Args:
        config: A config; a mapping of its fields (e.g. one written out in an option file); a
            weight set's name, which gives that weight set's config and makes it the weight set
            to load unless ``weight_set`` names another; or None, the paper's defaults.
        weight_set: The weight set to load, if named.
        **fields: Config fields that override ``config``'s.

    Raises:
        ConfigError: An unknown field, or a value the config does not allow.
        ValueError: ``config`` names no weight set.
    """
    if isinstance(config, str):
        weight_set = weight_set or config
        config = get_weight_set(config).config
    elif isinstance(config, Mapping):
        config = LifeIQAConfig.from_dict(config)
    return (config or LifeIQAConfig()).updated(**fields), weight_set
