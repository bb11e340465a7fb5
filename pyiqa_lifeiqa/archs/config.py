"""The one description of a Life-IQA network: :class:`LifeIQAConfig` (plain data; no torch).

The arch builds from it, the weight registry names one per weight set, ``lifeiqa convert``
derives its options from its fields, recipes name a weight set's config instead of repeating
it, and weight files record it, so that loading can compare what a file was saved from with
what is being built.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

QUERY_MIXERS = ('gcn', 'self_attn')
DECODERS = ('lifeiqa', 'vanilla')
# Constructor arguments that change training only; older weight files recorded some of them.
TRAINING_ONLY = ('drop_path_rate', 'dropout', 'balance_loss')
# How an image is scored, not what the weights learned: a caller may choose them for any weights.
SCORING_PROTOCOL = ('test_sample', 'working_size', 'max_size')


class ConfigError(ValueError):
    """A config field is unknown, or its value is not allowed; the message names the field."""


@dataclass(frozen=True)
class LifeIQAConfig:
    """Everything that fixes a Life-IQA network's tensors and how it scores an image.

    The defaults are the paper's (Swin-B, D=384). Two configs that differ in any field give
    different networks or different scores; training-only settings (:data:`TRAINING_ONLY`) are
    not part of it.

    Attributes:
        backbone: timm model name (any ``features_only`` model; its channel counts come from
            ``feature_info``).
        embed_dim: Width D of the decoder and the head.
        num_queries: Learned quality queries.
        depth: Decoder layers.
        num_heads: Cross-attention heads.
        num_experts: Experts in the head's MoE (1 gives a plain MLP head: the "MoE replaced by
            FFN" ablation).
        top_k: Experts per token.
        grid_size: The memory stage is average-pooled onto a grid_size x grid_size grid.
        learnable_adjacency: Learn the GCN adjacency (paper text) instead of the fixed
            normalised form (authors' code).
        query_mixer: ``'gcn'`` or ``'self_attn'`` (the "GCN replaced by self-attention" ablation).
        decoder: ``'lifeiqa'`` or ``'vanilla'`` (a same-width pre-norm Transformer decoder with
            self-attention, cross-attention and FFN, as the paper's baseline).
        crop_size: Side of the square crops fed to the backbone.
        test_sample: Least number of crops per image in eval mode. The crops cover the whole
            image, from the top-left to the bottom-right corner
            (:func:`~pyiqa_lifeiqa.archs.crops.crop_positions`); their scores are averaged.
        working_size: Before cropping (in eval and in training), every image's shorter side is
            resized to this many pixels (antialiased, aspect ratio kept), so scores compare
            across image sizes. None keeps the native size (an image whose shorter side is below
            ``crop_size`` is upsampled to it).
        max_size: With ``working_size`` None, an image whose longer side exceeds this many pixels
            is first shrunk to it (antialiased, aspect ratio kept), which bounds the cost of very
            large images. None: no limit.
    """

    backbone: str = 'swin_base_patch4_window7_224'
    embed_dim: int = 384
    num_queries: int = 6
    depth: int = 4
    num_heads: int = 6
    num_experts: int = 4
    top_k: int = 2
    grid_size: int = 7
    learnable_adjacency: bool = False
    query_mixer: str = 'gcn'
    decoder: str = 'lifeiqa'
    crop_size: int = 224
    test_sample: int = 10
    working_size: int | None = None
    max_size: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.backbone, str) or not self.backbone:
            raise ConfigError(f'backbone must be a timm model name, got {self.backbone!r}')
        if not isinstance(self.learnable_adjacency, bool):
            raise ConfigError(f'learnable_adjacency must be true or false, got {self.learnable_adjacency!r}')
        for name in ('working_size', 'max_size'):
            if getattr(self, name) is not None:
                _positive(name, getattr(self, name))
        for name in ('embed_dim', 'num_queries', 'depth', 'num_heads', 'num_experts', 'top_k', 'grid_size'):
            _positive(name, getattr(self, name))
        _positive('crop_size', self.crop_size)
        _positive('test_sample', self.test_sample)
        if self.embed_dim % self.num_heads:
            raise ConfigError(f'embed_dim ({self.embed_dim}) must be a multiple of num_heads ({self.num_heads})')
        if self.num_experts > 1 and self.top_k > self.num_experts:  # one expert: a plain MLP head, top_k unused
            raise ConfigError(f'top_k ({self.top_k}) must not exceed num_experts ({self.num_experts})')
        if self.query_mixer not in QUERY_MIXERS:
            raise ConfigError(f'query_mixer must be one of {QUERY_MIXERS}, got {self.query_mixer!r}')
        if self.decoder not in DECODERS:
            raise ConfigError(f'decoder must be one of {DECODERS}, got {self.decoder!r}')
        if self.working_size is not None and self.working_size < self.crop_size:
            raise ConfigError(f'working_size ({self.working_size}) must be at least crop_size ({self.crop_size})')
        if self.max_size is not None and self.max_size < self.crop_size:
            raise ConfigError(f'max_size ({self.max_size}) must be at least crop_size ({self.crop_size})')

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> LifeIQAConfig:
        """A config from a mapping of its fields (e.g. the one a weight file records).

        Missing fields keep their defaults; :data:`TRAINING_ONLY` entries are ignored.

        Raises:
            ConfigError: An entry is not a config field (all unknown names are listed).
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known - set(TRAINING_ONLY))
        if unknown:
            raise ConfigError(f'not LifeIQA config fields: {", ".join(unknown)}; the fields are {", ".join(known)}')
        return cls(**{key: value for key, value in values.items() if key in known})

    def updated(self, **changes: Any) -> LifeIQAConfig:
        """A copy with ``changes`` (field names) applied; unknown names are a :class:`ConfigError`."""
        unknown = sorted(set(changes) - {f.name for f in fields(self)})
        if unknown:
            raise ConfigError(f'not LifeIQA config fields: {", ".join(unknown)}')
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (JSON- and YAML-ready)."""
        return asdict(self)

    def differences(self, other: LifeIQAConfig, ignore: Collection[str] = ()) -> list[str]:
        """``'field (a vs b)'``, this config's value first, for every field but ``ignore`` whose values differ."""
        return [
            f'{f.name} ({getattr(self, f.name)!r} vs {getattr(other, f.name)!r})'
            for f in fields(self)
            if f.name not in ignore and getattr(self, f.name) != getattr(other, f.name)
        ]


def _positive(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f'{name} must be a positive integer, got {value!r}')
