"""Convert state dicts of the authors' Life-IQA training code to this package's names.

The authors' model keeps the timm Swin under ``pretrain_model.*`` and the same modules again
under ``backbone_stages.*`` (dropped here: duplicates). Their head names map one to one onto
``LifeIQA``'s, except that the GCN weights are stored transposed (``(in, out)``) and each
expert of the MoE is a separate module where ``LifeIQA`` stacks them into ``w1, b1, w2, b2``.

timm's Swin moved each PatchMerging ``downsample`` from the end of stages 0-2 (older timm) to
the start of stages 1-3 (current timm); a checkpoint written with the old layout (it has
``layers.0.downsample``) has its downsample modules moved one stage on.
"""

from __future__ import annotations

import re
from collections import defaultdict

import torch

# Top-level names that only the authors' model uses.
AUTHORS_ROOTS = frozenset({'pretrain_model', 'backbone_stages', 'bunch_embedding', 'bunch_decoder', 'MOE'})

# (pattern, replacement) applied to the first matching key; the GCN weights and the experts
# are handled separately.
RENAMES = [
    (r'pretrain_model\.patch_embed\.(.+)', r'backbone.patch_embed.\1'),
    (r'pretrain_model\.layers\.(\d+)\.(.+)', r'backbone.layers_\1.\2'),
    (r'proj_layer3\.(.+)', r'memory_proj.\1'),
    (r'proj_layer4\.(.+)', r'global_proj.\1'),
    (r'bunch_embedding', r'queries'),
    (r'bunch_decoder\.layers\.(\d+)\.multihead_attn\.(.+)', r'decoder.\1.cross_attn.\2'),
    (r'bunch_decoder\.layers\.(\d+)\.norm2\.(.+)', r'decoder.\1.norm.\2'),
    (r'MOE\.router\.linear\.(.+)', r'head.moe.router.linear.\1'),
    (r'MOE\.net\.0\.(.+)', r'head.moe.fc1.\1'),
    (r'MOE\.net\.2\.(.+)', r'head.moe.fc2.\1'),
    (r'norm3\.(.+)', r'head.norm.\1'),
    (r'gamma', r'head.gamma'),
    (r'fc\.(.+)', r'head.fc.\1'),
]
GCN_KEY = re.compile(r'bunch_decoder\.layers\.(\d+)\.GCN\.gcn([123])\.(weight|bias)')
EXPERT_KEY = re.compile(r'MOE\.experts\.(\d+)\.net\.([03])\.(weight|bias)')
OLD_DOWNSAMPLE_KEY = re.compile(r'backbone\.layers_(\d+)\.downsample\.(.+)')
# expert layer index in the authors' nn.Sequential -> our stacked parameter names
EXPERT_PARAMS = {('0', 'weight'): 'w1', ('0', 'bias'): 'b1', ('3', 'weight'): 'w2', ('3', 'bias'): 'b2'}


def is_authors_state_dict(state_dict: dict[str, torch.Tensor]) -> bool:
    """Whether the keys are those of the authors' training code (``module.`` prefix already removed)."""
    return any(key.split('.', 1)[0] in AUTHORS_ROOTS for key in state_dict)


def _stack_experts(experts: dict[str, dict[int, torch.Tensor]]) -> dict[str, torch.Tensor]:
    stacked = {}
    for name, by_expert in experts.items():
        if sorted(by_expert) != list(range(len(by_expert))):
            raise ValueError(f'MoE experts are not numbered 0..E-1 for {name}: found experts {sorted(by_expert)}')
        stacked[f'head.moe.{name}'] = torch.stack([by_expert[e] for e in range(len(by_expert))])
    return stacked


def convert_authors_state_dict(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename an authors' state dict to ``LifeIQA`` names.

    Args:
        state_dict: The authors' state dict, without the ``module.`` prefix.

    Returns:
        The converted state dict. Keys that match no rule are kept unchanged, so that loading
        reports them as unexpected.

    Raises:
        ValueError: The MoE experts are not numbered consecutively from 0.
    """
    old_timm_layout = any(key.startswith('pretrain_model.layers.0.downsample.') for key in state_dict)
    converted: dict[str, torch.Tensor] = {}
    experts: dict[str, dict[int, torch.Tensor]] = defaultdict(dict)
    for key, value in state_dict.items():
        if key.startswith('backbone_stages.'):
            continue
        if match := GCN_KEY.fullmatch(key):
            layer, index, kind = match.groups()
            converted[f'decoder.{layer}.mixer.layers.{int(index) - 1}.{kind}'] = (
                value.t().contiguous() if kind == 'weight' else value
            )
            continue
        if match := EXPERT_KEY.fullmatch(key):
            expert, layer, kind = match.groups()
            experts[EXPERT_PARAMS[layer, kind]][int(expert)] = value
            continue
        for pattern, replacement in RENAMES:
            new_key, found = re.subn(f'^{pattern}$', replacement, key)
            if found:
                key = new_key
                break
        if old_timm_layout and (match := OLD_DOWNSAMPLE_KEY.fullmatch(key)):
            key = f'backbone.layers_{int(match[1]) + 1}.downsample.{match[2]}'
        converted[key] = value
    converted.update(_stack_experts(experts))
    return converted
