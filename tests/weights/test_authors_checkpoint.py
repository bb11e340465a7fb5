"""Specification of loading checkpoints of the authors' training code (pyiqa_lifeiqa/weights/authors.py).

The tests build a real (small-headed) Swin-T LifeIQA, write its weights with the authors' names
(reference section 5), DDP ``module.`` prefix and ``backbone_stages`` duplicates included, and
require that loading the converted file gives the same weights and the same scores.
"""

import re

import pytest
import torch

from pyiqa_lifeiqa.archs.lifeiqa_arch import LifeIQA
from pyiqa_lifeiqa.weights.authors import convert_authors_state_dict, is_authors_state_dict
from pyiqa_lifeiqa.weights.checkpoint import CheckpointError, load_weights_into, read_state_dict

SWIN = dict(backbone='swin_tiny_patch4_window7_224', embed_dim=32, num_heads=4, depth=2, test_sample=1)

# our name -> the authors' name, for the head (the inverse of the converter's renames)
HEAD_NAMES = [
    (r'memory_proj\.(.+)', r'proj_layer3.\1'),
    (r'global_proj\.(.+)', r'proj_layer4.\1'),
    (r'queries', r'bunch_embedding'),
    (r'decoder\.(\d+)\.cross_attn\.(.+)', r'bunch_decoder.layers.\1.multihead_attn.\2'),
    (r'decoder\.(\d+)\.norm\.(.+)', r'bunch_decoder.layers.\1.norm2.\2'),
    (r'head\.moe\.router\.(.+)', r'MOE.router.\1'),
    (r'head\.moe\.fc1\.(.+)', r'MOE.net.0.\1'),
    (r'head\.moe\.fc2\.(.+)', r'MOE.net.2.\1'),
    (r'head\.norm\.(.+)', r'norm3.\1'),
    (r'head\.gamma', r'gamma'),
    (r'head\.fc\.(.+)', r'fc.\1'),
]
EXPERT_LAYERS = {'w1': 'net.0.weight', 'b1': 'net.0.bias', 'w2': 'net.3.weight', 'b2': 'net.3.bias'}


def authors_backbone_name(key: str, old_timm_layout: bool) -> str:
    """backbone.patch_embed.* / backbone.layers_i.* -> pretrain_model.*, downsample moved back for old timm."""
    if key.startswith('backbone.patch_embed.'):
        return key.replace('backbone.', 'pretrain_model.', 1)
    stage, rest = re.fullmatch(r'backbone\.layers_(\d)\.(.+)', key).groups()
    if old_timm_layout and rest.startswith('downsample.'):
        stage = int(stage) - 1
    return f'pretrain_model.layers.{stage}.{rest}'


def backbone_stage_copy(key: str) -> str:
    """pretrain_model.* -> its duplicate under backbone_stages.*."""
    if key.startswith('pretrain_model.patch_embed.'):
        return key.replace('pretrain_model.patch_embed.', 'backbone_stages.0.0.')
    stage, rest = re.fullmatch(r'pretrain_model\.layers\.(\d)\.(.+)', key).groups()
    return f'backbone_stages.0.1.{rest}' if stage == '0' else f'backbone_stages.{stage}.{rest}'


def to_authors_state_dict(model: LifeIQA, old_timm_layout: bool) -> dict[str, torch.Tensor]:
    """``model``'s weights as the authors' DDP training code would save them.

    The backbone_stages duplicates are zeros here, so that a converter using them would change
    the scores. Old timm also saved the relative-position indices and attention masks.
    """
    sd = dict(model.state_dict())
    if old_timm_layout:
        sd.update((name, buf) for name, buf in model.named_buffers() if name.startswith('backbone.') and name not in sd)
    out = {}
    for key, value in sd.items():
        if key.startswith('backbone.'):
            name = authors_backbone_name(key, old_timm_layout)
            out[name] = value
            out[backbone_stage_copy(name)] = torch.zeros_like(value)
        elif match := re.fullmatch(r'decoder\.(\d+)\.mixer\.layers\.(\d)\.(weight|bias)', key):
            layer, index, kind = match.groups()
            out[f'bunch_decoder.layers.{layer}.GCN.gcn{int(index) + 1}.{kind}'] = value.T if kind == 'weight' else value
        elif match := re.fullmatch(r'head\.moe\.(w1|b1|w2|b2)', key):
            for e, expert in enumerate(value):
                out[f'MOE.experts.{e}.{EXPERT_LAYERS[match[1]]}'] = expert
        else:
            name = next(re.sub(f'^{p}$', r, key) for p, r in HEAD_NAMES if re.fullmatch(p, key))
            out[name] = value
    return {f'module.{key}': value.clone() for key, value in out.items()}


def build(seed: int, **changes) -> LifeIQA:
    torch.manual_seed(seed)
    return LifeIQA(**SWIN, **changes, backbone_pretrain=False).eval()


@pytest.mark.parametrize(
    'old_timm_layout, num_experts',
    [(False, 2), (True, 2), (False, 1)],
    ids=['current-timm-moe', 'old-timm-moe', 'current-timm-single-expert'],
)
def test_authors_checkpoint_gives_identical_weights_and_scores(tmp_path, old_timm_layout, num_experts):
    original = build(0, num_experts=num_experts)
    authors = to_authors_state_dict(original, old_timm_layout)
    assert ('module.pretrain_model.layers.0.downsample.reduction.weight' in authors) == old_timm_layout
    torch.save({'model': authors, 'epoch': 29}, tmp_path / 'best.pth')

    assert read_state_dict(tmp_path / 'best.pth').keys() >= original.state_dict().keys()
    converted = build(1, num_experts=num_experts)
    load_weights_into(converted, path=tmp_path / 'best.pth')

    expected = original.state_dict()
    assert all(torch.equal(value, expected[key]) for key, value in converted.state_dict().items())
    x = torch.rand(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(converted(x), original(x))


def test_gcn_weights_are_transposed_and_experts_stacked():
    sd = {
        'bunch_decoder.layers.0.GCN.gcn1.weight': torch.arange(6.0).view(3, 2),
        'bunch_decoder.layers.0.GCN.gcn1.bias': torch.ones(2),
        'MOE.experts.1.net.0.weight': torch.full((4, 3), 1.0),
        'MOE.experts.0.net.0.weight': torch.full((4, 3), 0.0),
    }
    converted = convert_authors_state_dict(sd)
    assert torch.equal(converted['decoder.0.mixer.layers.0.weight'], torch.arange(6.0).view(3, 2).T)
    assert torch.equal(converted['decoder.0.mixer.layers.0.bias'], torch.ones(2))
    assert converted['head.moe.w1'].shape == (2, 4, 3)
    assert converted['head.moe.w1'][1].eq(1).all() and converted['head.moe.w1'][0].eq(0).all()


def test_unknown_authors_keys_are_kept_for_the_loader_to_report():
    converted = convert_authors_state_dict({'bunch_embedding': torch.zeros(1, 6, 8), 'extra.thing': torch.zeros(1)})
    assert set(converted) == {'queries', 'extra.thing'}


def test_detection_needs_authors_only_names():
    assert is_authors_state_dict({'bunch_embedding': torch.zeros(1)})
    assert is_authors_state_dict({'pretrain_model.patch_embed.proj.weight': torch.zeros(1)})
    assert not is_authors_state_dict({'queries': torch.zeros(1), 'head.fc.weight': torch.zeros(1)})


def test_gap_in_expert_numbering_is_a_clear_error(tmp_path):
    sd = {'bunch_embedding': torch.zeros(1, 6, 8), 'MOE.experts.0.net.0.bias': torch.zeros(4)}
    sd['MOE.experts.2.net.0.bias'] = torch.zeros(4)
    torch.save(sd, tmp_path / 'gap.pth')
    with pytest.raises(CheckpointError, match=r"authors' checkpoint .*gap.pth.*found experts \[0, 2\]"):
        read_state_dict(tmp_path / 'gap.pth')
