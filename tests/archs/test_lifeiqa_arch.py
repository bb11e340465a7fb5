"""Specification of the LifeIQA architecture (pyiqa_lifeiqa/archs/lifeiqa_arch.py)."""

import socket
import warnings

import pytest
import torch
from pyiqa.utils.registry import ARCH_REGISTRY
from torch.utils.flop_counter import FlopCounterMode

from pyiqa_lifeiqa.archs.lifeiqa_arch import LifeIQA, MoE, QueryGCN, normalized_adjacency

TINY = dict(backbone='resnet18', embed_dim=32, num_heads=4, backbone_pretrain=False, test_sample=4)


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope='module')
def tiny() -> LifeIQA:
    torch.manual_seed(0)
    return LifeIQA(**TINY).eval()


def test_registered_in_pyiqa_arch_registry():
    assert ARCH_REGISTRY.get('LifeIQA') is LifeIQA


@pytest.mark.parametrize(
    'num_experts, expected',
    [(4, 94_950_334), (8, 99_678_146), (1, 91_404_090)],
    ids=['paper-E4', 'authors-default-E8', 'plain-MLP-E1'],
)
def test_exact_parameter_counts_with_swin_b(num_experts, expected):
    model = LifeIQA(num_experts=num_experts, backbone_pretrain=False)
    assert n_params(model) == expected
    assert n_params(model.backbone) == 86_741_176


def test_building_without_weights_makes_no_network_call(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError('network access attempted')

    monkeypatch.setattr(socket.socket, 'connect', refuse)
    monkeypatch.setattr(socket, 'create_connection', refuse)
    LifeIQA(pretrained=False, backbone_pretrain=False)


def test_fixed_adjacency_is_normalised_all_ones_graph():
    adj = normalized_adjacency(6)
    assert torch.allclose(adj.diagonal(), torch.full((6,), 2 / 7))
    off_diagonal = adj[~torch.eye(6, dtype=torch.bool)]
    assert torch.allclose(off_diagonal, torch.full((30,), 1 / 7))
    for n in (1, 3, 11):
        a = normalized_adjacency(n)
        assert a.shape == (n, n) and torch.allclose(a, a.T)


def test_adjacency_is_a_buffer_by_default_and_a_parameter_when_learnable():
    fixed = QueryGCN(32, 5)
    learnable = QueryGCN(32, 5, learnable_adjacency=True)
    assert 'adjacency' not in dict(fixed.named_parameters())
    assert 'adjacency' not in fixed.state_dict()
    assert dict(learnable.named_parameters())['adjacency'].shape == (5, 5)
    torch.manual_seed(0)  # unseeded, one full-suite run drew weights and crop for which the gradient was 0
    model = LifeIQA(**TINY, num_queries=5, learnable_adjacency=True)
    model(torch.rand(1, 3, 64, 64)).sum().backward()
    assert model.decoder[0].mixer.adjacency.grad.abs().sum() > 0


def naive_moe(moe: MoE, x: torch.Tensor) -> torch.Tensor:
    """Each token goes through its top-k experts only, one expert at a time."""
    logits = moe.router.linear(x)
    top_logits, top_idx = logits.topk(moe.router.top_k, dim=-1)
    weights = top_logits.softmax(dim=-1)
    out = torch.zeros_like(x)
    for e in range(moe.num_experts):
        token, slot = (top_idx == e).nonzero(as_tuple=True)
        h = torch.relu(x[token] @ moe.w1[e].T + moe.b1[e]) @ moe.w2[e].T + moe.b2[e]
        out.index_add_(0, token, weights[token, slot, None] * h)
    return out


@pytest.mark.parametrize('num_experts, top_k', [(4, 2), (8, 2), (2, 1), (3, 3)])
def test_batched_moe_equals_naive_per_expert_dispatch(num_experts, top_k):
    torch.manual_seed(num_experts * 10 + top_k)
    moe = MoE(48, num_experts, top_k).eval()
    x = torch.randn(2, 7, 48)
    out, _ = moe(x)
    assert torch.allclose(out, naive_moe(moe, x.reshape(-1, 48)).reshape(x.shape), atol=1e-5)


def test_moe_auxiliary_losses_follow_switch_and_st_moe_definitions():
    torch.manual_seed(0)
    moe = MoE(16, 4, 2)
    paper = MoE(16, 4, 2, balance_loss='paper')
    paper.load_state_dict(moe.state_dict())
    x = torch.randn(30, 16)
    _, aux = moe(x)
    _, paper_aux = paper(x)
    logits = moe.router.linear(x)
    top_logits, top_idx = logits.topk(2, dim=-1)
    gates = torch.zeros_like(logits).scatter(-1, top_idx, top_logits.softmax(-1))
    counts = torch.zeros_like(logits).scatter(-1, top_idx, 1.0)
    # Switch / GShard: share of the assignments per expert x mean router probability before top-k.
    assert torch.isclose(aux['load_balance'], 4 * (counts.mean(0) / 2 * logits.softmax(-1).mean(0)).sum())
    # The authors' code: post-top-k gates x mean top-k counts.
    assert torch.isclose(paper_aux['load_balance'], 4 * (gates.mean(0) * counts.mean(0)).sum())
    assert torch.isclose(aux['router_z'], torch.logsumexp(logits, -1).pow(2).mean())
    assert torch.allclose(aux['expert_share'], counts.mean(0) / 2)
    assert torch.isclose(aux['expert_share'].sum(), torch.tensor(1.0))


def test_unknown_balance_loss_is_rejected():
    with pytest.raises(ValueError, match='balance_loss'):
        MoE(16, 4, 2, balance_loss='gshard')


def test_switch_load_balance_loss_is_one_under_perfect_balance():
    moe = MoE(4, 4, 2)
    with torch.no_grad():
        moe.router.linear.weight.zero_()
        moe.router.linear.bias.zero_()
    # Equal logits (probability 1/4 each) and a balanced choice: each expert gets a quarter of the assignments.
    chosen = torch.zeros(8, 4)
    for t in range(8):
        chosen[t, [(t % 2) * 2, (t % 2) * 2 + 1]] = 1.0
    moe.router.forward = lambda tokens: (chosen / 2, chosen, torch.zeros(8, 4))
    _, aux = moe(torch.zeros(8, 4))
    assert torch.isclose(aux['load_balance'], torch.tensor(1.0))


def test_paper_load_balance_loss_equals_k_under_perfect_balance():
    moe = MoE(4, 4, 2, balance_loss='paper')
    with torch.no_grad():
        moe.router.linear.weight.zero_()
        moe.router.linear.bias.zero_()
    # With equal logits every expert gets probability 1/2 when chosen; force a balanced choice.
    x = torch.zeros(8, 4)
    gates = torch.zeros(8, 4)
    chosen = torch.zeros(8, 4)
    for t in range(8):
        pair = [(t % 2) * 2, (t % 2) * 2 + 1]
        gates[t, pair] = 0.5
        chosen[t, pair] = 1.0
    moe.router.forward = lambda tokens: (gates, chosen, torch.zeros(8, 4))
    _, aux = moe(x)
    assert torch.isclose(aux['load_balance'], torch.tensor(2.0))


def collapsed_moe(balance_loss: str) -> MoE:
    """A router that sends every token to experts 0 and 1."""
    torch.manual_seed(0)
    moe = MoE(8, 4, 2, balance_loss=balance_loss)
    with torch.no_grad():
        moe.router.linear.weight.mul_(0.01)
        moe.router.linear.bias.copy_(torch.tensor([2.0, 1.5, -1.0, -1.0]))
    return moe


def test_paper_load_balance_loss_is_at_its_maximum_and_gives_no_gradient_once_every_token_picks_the_same_experts():
    # The paper's P_e is the post-top-k gate, whose chosen entries sum to 1 for every token: when all
    # tokens pick the same k experts the loss is E (its maximum) whatever the logits, so no weight on
    # it can move the router back (the earlier default model's state).
    moe = collapsed_moe('paper')
    _, aux = moe(torch.randn(64, 8))
    aux['load_balance'].backward()
    assert torch.isclose(aux['load_balance'], torch.tensor(4.0))
    assert moe.router.linear.weight.grad.abs().max() < 1e-6
    assert moe.router.linear.bias.grad.abs().max() < 1e-6


def test_switch_load_balance_loss_pushes_a_collapsed_router_towards_the_idle_experts():
    moe = collapsed_moe('switch')
    _, aux = moe(torch.randn(64, 8))
    assert torch.equal(aux['expert_share'], torch.tensor([0.5, 0.5, 0.0, 0.0]))
    aux['load_balance'].backward()
    bias_grad = moe.router.linear.bias.grad
    # Gradient descent lowers the logits of the overloaded experts and raises those of the idle ones.
    assert (bias_grad[:2] > 1e-3).all() and (bias_grad[2:] < 0).all()


def test_single_expert_head_is_a_plain_mlp_with_zero_aux_losses():
    model = LifeIQA(**TINY, num_experts=1)
    assert not hasattr(model.head.moe, 'router')
    _, aux = model(torch.rand(2, 3, 64, 64), return_aux=True)
    assert aux['load_balance'].item() == 0 and aux['router_z'].item() == 0
    assert aux['expert_share'].tolist() == [1.0]


@pytest.mark.parametrize('shape', [(2, 3, 224, 224), (2, 3, 384, 512), (1, 3, 100, 150)])
def test_forward_returns_one_score_per_image(tiny, shape):
    with torch.no_grad():
        scores = tiny(torch.rand(shape))
    assert scores.shape == (shape[0], 1)
    assert torch.isfinite(scores).all()


def test_aux_losses_only_when_asked(tiny):
    x = torch.rand(2, 3, 96, 96)
    assert torch.is_tensor(tiny(x))
    scores, aux = tiny(x, return_aux=True)
    assert scores.shape == (2, 1)
    assert set(aux) == {'load_balance', 'router_z', 'expert_share'}
    assert all(torch.isfinite(v).all() for v in aux.values())


def test_eval_is_deterministic_and_batch_independent(tiny):
    torch.manual_seed(1)
    images = torch.rand(3, 3, 300, 260)
    with torch.no_grad():
        batch = tiny(images)
        again = tiny(images)
        single = torch.cat([tiny(images[i : i + 1]) for i in range(3)])
    assert torch.equal(batch, again)
    assert torch.allclose(batch, single, atol=1e-5)


def test_eval_averages_covering_crops_and_training_takes_one_random_crop():
    model = LifeIQA(**{**TINY, 'crop_size': 64, 'test_sample': 4})
    seen = []
    original = model.score_crops
    model.score_crops = lambda crops: (seen.append(crops.shape), original(crops))[1]
    model.eval()
    model(torch.rand(2, 3, 128, 160))  # 2 rows x 3 columns of 64 cover 128 x 160
    model.train()
    model(torch.rand(2, 3, 128, 160))
    assert seen == [(12, 3, 64, 64), (2, 3, 64, 64)]


def test_working_size_makes_the_score_nearly_independent_of_the_image_size():
    model = LifeIQA(**{**TINY, 'crop_size': 64, 'test_sample': 4, 'working_size': 96}).eval()
    torch.manual_seed(0)
    image = torch.nn.functional.interpolate(torch.rand(1, 3, 12, 16), size=(384, 512), mode='bicubic').clamp(0, 1)
    with torch.no_grad():
        scores = [
            model(torch.nn.functional.interpolate(image, scale_factor=f, antialias=True, mode='bilinear'))
            for f in (0.25, 0.5, 1.0)
        ]
    native = LifeIQA(**{**TINY, 'crop_size': 64, 'test_sample': 4}).eval()
    native.load_state_dict(model.state_dict())
    with torch.no_grad():
        native_scores = [
            native(torch.nn.functional.interpolate(image, scale_factor=f, antialias=True, mode='bilinear'))
            for f in (0.25, 0.5, 1.0)
        ]
    spread = max(scores) - min(scores)
    assert spread < 0.1 * (max(native_scores) - min(native_scores))


def test_working_size_below_the_crop_size_is_rejected():
    with pytest.raises(ValueError, match='working_size'):
        LifeIQA(**{**TINY, 'crop_size': 64, 'working_size': 32})


def test_input_gradients_are_finite_and_nonzero(tiny):
    x = torch.rand(2, 3, 120, 140, requires_grad=True)
    tiny(x).sum().backward()
    assert torch.isfinite(x.grad).all()
    assert x.grad.abs().sum() > 0


@pytest.mark.parametrize('backbone', ['swin_tiny_patch4_window7_224', 'convnext_atto', 'resnet18'])
def test_channels_last_and_channels_first_backbones(backbone):
    model = LifeIQA(backbone=backbone, embed_dim=32, num_heads=4, backbone_pretrain=False).eval()
    channels = model.backbone.feature_info.channels()[-2:]
    assert model.memory_proj.in_features == channels[0]
    assert model.global_proj.in_channels == channels[1]
    with torch.no_grad():
        assert model(torch.rand(1, 3, 224, 224)).shape == (1, 1)


def test_grayscale_tensor_is_scored_as_rgb(tiny):
    gray = torch.rand(1, 1, 96, 96)
    with torch.no_grad():
        assert torch.allclose(tiny(gray), tiny(gray.expand(-1, 3, -1, -1)))


@pytest.mark.parametrize(
    'x, message',
    [
        (torch.rand(3, 96, 96), '4-D'),
        (torch.rand(1, 4, 96, 96), 'alpha'),
        (torch.rand(1, 2, 96, 96), '2 channels'),
        (torch.rand(1, 3, 8, 96), 'too small'),
        (torch.full((1, 3, 96, 96), float('nan')), 'NaN'),
        (torch.full((1, 3, 96, 96), float('inf')), 'infinite'),
        (torch.randint(0, 256, (1, 3, 96, 96), dtype=torch.uint8), 'divide by 255'),
        (torch.rand(1, 3, 96, 96) * 255, r'values in \[0, 1\], got .* \(divide 0-255 images by 255\)'),
        (torch.rand(1, 3, 96, 96) * 2 - 1, r'values in \[0, 1\]'),
        (torch.rand(0, 3, 96, 96), 'empty batch'),
    ],
    ids=['3d', 'rgba', 'two-channels', 'tiny', 'nan', 'inf', 'uint8', '0-255 floats', 'minus-one-to-one', 'empty'],
)
def test_bad_input_raises_a_clear_error(tiny, x, message):
    with pytest.raises(ValueError, match=message):
        tiny(x)


def test_scores_read_need_values_in_0_1_but_a_gradient_step_takes_any_finite_values():
    model = LifeIQA(**TINY).eval()
    with pytest.raises(ValueError, match=r'values in \[0, 1\], got .* \(divide 0-255 images by 255\)'):
        model(torch.rand(1, 3, 96, 96) * 255)  # a score being read: refused
    raw = torch.randn(2, 3, 96, 96, requires_grad=True)  # a restoration network's raw output, as a loss
    model(raw).sum().backward()
    assert torch.isfinite(raw.grad).all() and raw.grad.abs().sum() > 0


def test_a_gradient_step_refuses_nan_and_warns_once_of_0_255_data_on_its_first_call():
    model = LifeIQA(**TINY).eval()
    with pytest.warns(UserWarning, match='divide 0-255 images by 255'):
        model((torch.rand(1, 3, 96, 96) * 255).requires_grad_())
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # one warning, not one a step
        model((torch.rand(1, 3, 96, 96) * 255).requires_grad_())
    with pytest.raises(ValueError, match='NaN'):
        LifeIQA(**TINY).eval()(torch.full((1, 3, 96, 96), float('nan'), requires_grad=True))
    nan = torch.full((1, 3, 96, 96), float('nan'))
    model(nan.clone().requires_grad_())  # later gradient steps: no device-to-host sync in each
    with pytest.raises(ValueError, match='NaN'):
        model(nan)  # scores being read: always checked
    with torch.no_grad(), pytest.raises(ValueError, match='NaN'):
        model.train()(nan)


def test_an_unclamped_restoration_output_is_still_scored(tiny):
    assert torch.isfinite(tiny(torch.rand(1, 3, 96, 96) * 1.2 - 0.1)).all()


def test_non_tensor_input_raises_type_error(tiny):
    with pytest.raises(TypeError, match='torch.Tensor'):
        tiny([[0.5]])


def test_invalid_moe_config_is_rejected():
    with pytest.raises(ValueError, match='top_k'):
        LifeIQA(**TINY, num_experts=2, top_k=3)
    with pytest.raises(ValueError, match='num_experts'):
        LifeIQA(**TINY, num_experts=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_matches_cpu(tiny):
    x = torch.rand(2, 3, 160, 200)
    with torch.no_grad():
        cpu = tiny(x)
        gpu = tiny.to('cuda')(x.to('cuda')).cpu()
    tiny.to('cpu')
    assert torch.allclose(cpu, gpu, atol=1e-4)


def decoder_cost(decoder: str) -> tuple[int, float]:
    """Parameters and MFLOPs (torch's FLOP counter) of the 4-layer D=384 decoder on 6 queries, 49 tokens."""
    model = LifeIQA(decoder=decoder, backbone_pretrain=False)
    x, memory = torch.rand(1, 6, 384), torch.rand(1, 49, 384)
    # Counted with autograd on: torch's fused inference fast path for attention is not counted.
    with FlopCounterMode(display=False) as counter:
        for layer in model.decoder:
            x = layer(x, memory)
    return n_params(model.decoder), counter.get_total_flops() / 1e6


def test_decoder_cost_matches_the_reference_against_a_vanilla_decoder():
    params, mflops = decoder_cost('lifeiqa')
    vanilla_params, vanilla_mflops = decoder_cost('vanilla')
    assert params == 4 * 721_824
    assert mflops == pytest.approx(136, rel=0.01)
    assert vanilla_params == pytest.approx(9.47e6, rel=0.001)
    assert vanilla_mflops == pytest.approx(215, rel=0.02)


def test_self_attention_ablation_replaces_only_the_gcn():
    ablated = LifeIQA(**TINY, query_mixer='self_attn')
    assert not any(isinstance(m, QueryGCN) for m in ablated.modules())
    assert ablated(torch.rand(1, 3, 64, 64)).shape == (1, 1)
    with pytest.raises(ValueError, match='query_mixer'):
        LifeIQA(**TINY, query_mixer='mlp')
    with pytest.raises(ValueError, match='decoder'):
        LifeIQA(**TINY, decoder='deformable')


def test_a_float64_tensor_scores_as_its_float32_copy(tiny):
    x = torch.rand(2, 3, 96, 96, dtype=torch.float64)
    with torch.no_grad():
        assert torch.equal(tiny(x), tiny(x.float()))


def test_quality_map_spreads_the_scores_of_the_crops_that_forward_averages(tiny):
    # the 4 crops of 224 that forward takes of a 448x448 image are its quadrants: each is one crop's score
    x = torch.rand(2, 3, 448, 448, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        local = tiny.quality_map(x)
        quadrants = [local[..., r : r + 224, c : c + 224] for r in (0, 224) for c in (0, 224)]
        scores = torch.stack([q[:, 0, 0, 0] for q in quadrants], dim=1)
        assert local.shape == (2, 1, 448, 448)
        assert all(
            torch.equal(q, s[:, None, None, None].expand_as(q)) for q, s in zip(quadrants, scores.T, strict=True)
        )
        assert torch.allclose(scores.mean(dim=1, keepdim=True), tiny(x), atol=1e-5)


def test_quality_map_has_the_input_size_whatever_size_the_image_is_scored_at():
    model = LifeIQA(**{**TINY, 'working_size': 256}).eval()
    x = torch.rand(1, 3, 300, 500)
    with torch.no_grad():
        coarse, fine = model.quality_map(x), model.quality_map(x, stride=64, crops_per_batch=3)
    assert coarse.shape == fine.shape == (1, 1, 300, 500)
    assert torch.isfinite(fine).all() and fine.std() > 0


def test_quality_map_of_one_crop_is_its_score_even_under_a_working_size():
    model = LifeIQA(**{**TINY, 'working_size': 256}).eval()
    x = torch.rand(1, 3, 224, 224)  # exactly one crop: scored whole, not resized to 256 first
    with torch.no_grad():
        local = model.quality_map(x)
        assert torch.allclose(local, model(x).view(1, 1, 1, 1).expand_as(local), atol=1e-5)


def test_quality_map_refuses_what_forward_refuses_and_a_stride_beyond_the_crop(tiny):
    with pytest.raises(ValueError, match=r'values in \[0, 1\]'):
        tiny.quality_map(torch.full((1, 3, 224, 224), 2.0))
    with pytest.raises(ValueError, match='stride must be between 1'):
        tiny.quality_map(torch.rand(1, 3, 224, 300), stride=225)
