"""Specification of LifeIQAModel (pyiqa_lifeiqa/models/lifeiqa_model.py): pyiqa's GeneralIQAModel for Life-IQA."""

import math

import pytest
import torch
from pyiqa.models import build_model

from pyiqa_lifeiqa.models.lifeiqa_model import no_weight_decay

ITERS_PER_EPOCH = 2


def build(tiny_lifeiqa_config: dict, tmp_path, **train) -> object:
    """A LifeIQAModel on the CPU for the tiny LifeIQA (2 experts, top 2), as pyiqa's pipeline builds it."""
    opt = {
        'model_type': 'LifeIQAModel',
        'is_train': True,
        'dist': False,
        'rank': 0,
        'world_size': 1,
        'num_gpu': 0,
        'network': {'type': 'LifeIQA', **tiny_lifeiqa_config, 'crop_size': 32, 'backbone_pretrain': False},
        'path': {'pretrain_network': None, 'experiments_root': str(tmp_path), 'models': str(tmp_path)},
        'train': {
            'optim': {'type': 'AdamW', 'lr': 1e-3, 'weight_decay': 0.01},
            'scheduler': {'type': 'MultiStepLR', 'milestones': [100], 'gamma': 0.1},
            'total_iter': 100,
            'mos_loss_opt': {'type': 'SmoothL1Loss', 'loss_weight': 1.0},
            **train,
        },
        'val': {'metrics': {'srcc': {'type': 'calculate_srcc'}}},
    }
    torch.manual_seed(0)
    return build_model(opt)


def feed(model, size: int = 32) -> None:
    generator = torch.Generator().manual_seed(1)
    img = torch.rand(4, 3, size, size, generator=generator)
    model.feed_data({'img': img, 'mos_label': torch.tensor([[0.1], [0.4], [0.6], [0.9]])})


def param(model, name: str) -> torch.Tensor:
    return dict(model.net.named_parameters())[name]


def test_loss_adds_the_weighted_moe_auxiliary_losses_and_logs_them(tiny_lifeiqa_config, tmp_path):
    model = build(tiny_lifeiqa_config, tmp_path, aux_loss={'load_balance_weight': 0.5, 'router_z_weight': 0.25})
    feed(model)
    model.optimize_parameters(1)
    log = model.get_current_log()
    # with 2 experts, both chosen for every token, each gets half of the assignments, so the Switch
    # load-balance loss is E * sum(0.5 * P_e) = 1 whatever the router's probabilities
    assert log['l_load_balance'] == pytest.approx(0.5 * 1.0)
    assert log['moe_share/expert_0'] == log['moe_share/expert_1'] == 0.5
    assert log['l_router_z'] > 0
    assert log['l_mos'] > 0
    assert 'train_metrics/srcc' in log


def test_default_auxiliary_weights_are_the_papers(tiny_lifeiqa_config, tmp_path):
    model = build(tiny_lifeiqa_config, tmp_path)
    assert model.aux_weights == {'load_balance': 0.01, 'router_z': 0.001}


@pytest.mark.parametrize('router_z_weight', [0.0, 1.0])
def test_router_is_trained_by_the_z_loss_only_when_it_is_weighted(tiny_lifeiqa_config, tmp_path, router_z_weight):
    # No MOS loss, no load-balance loss, no weight decay: only the z-loss can move the router.
    model = build(
        tiny_lifeiqa_config,
        tmp_path,
        optim={'type': 'AdamW', 'lr': 1e-2, 'weight_decay': 0.0},
        mos_loss_opt={'type': 'SmoothL1Loss', 'loss_weight': 0.0},
        aux_loss={'load_balance_weight': 0.0, 'router_z_weight': router_z_weight},
    )
    router = param(model, 'head.moe.router.linear.weight')
    before = router.detach().clone()
    feed(model)
    model.optimize_parameters(1)
    assert torch.equal(router, before) == (router_z_weight == 0.0)


def test_biases_and_norms_get_no_weight_decay(tiny_lifeiqa_config, tmp_path):
    model = build(tiny_lifeiqa_config, tmp_path)
    decay_of = {id(p): group['weight_decay'] for group in model.optimizer.param_groups for p in group['params']}
    named = dict(model.net.named_parameters())
    assert set(decay_of) == {id(p) for p in named.values()}  # every parameter is optimised, once
    for name in ('head.moe.b1', 'head.moe.b2', 'head.norm.weight', 'head.gamma', 'memory_proj.bias', 'head.fc.bias'):
        assert decay_of[id(named[name])] == 0.0, name
    for name in ('head.moe.w1', 'head.moe.router.linear.weight', 'memory_proj.weight', 'queries'):
        assert decay_of[id(named[name])] == 0.01, name
    exempt = no_weight_decay(model.net)
    assert all(decay_of[id(p)] == (0.0 if n in exempt else 0.01) for n, p in named.items())
    assert model.net.no_weight_decay() == {'head.moe.b1', 'head.moe.b2'}  # the arch's own list (timm's convention)


def test_per_module_learning_rates_of_pyiqa_still_apply(tiny_lifeiqa_config, tmp_path):
    model = build(tiny_lifeiqa_config, tmp_path, optim={'type': 'AdamW', 'lr': 1e-3, 'lr_backbone': 1e-5})
    lr_of = {id(p): group['lr'] for group in model.optimizer.param_groups for p in group['params']}
    named = dict(model.net.named_parameters())
    assert lr_of[id(named['backbone.conv1.weight'])] == lr_of[id(named['backbone.bn1.bias'])] == 1e-5
    assert lr_of[id(named['head.moe.w1'])] == lr_of[id(named['head.moe.b1'])] == 1e-3


def lr_trajectory(model, iters: int) -> list[float]:
    """The learning rate of each of ``iters`` training iterations, with pyiqa's epoch-end updates in between."""
    lrs = []
    for current_iter in range(1, iters + 1):
        feed(model)
        model.optimize_parameters(current_iter)
        lrs.append(model.get_current_learning_rate()[0])
        if current_iter % ITERS_PER_EPOCH == 0:  # what pyiqa's train loop does after each epoch
            model.update_learning_rate(current_iter // ITERS_PER_EPOCH + 1, warmup_iter=3)
    return lrs


def test_timm_step_schedule_warms_up_linearly_then_decays_every_iteration(tiny_lifeiqa_config, tmp_path):
    scheduler = {
        'type': 'TimmScheduler',
        'sched': 'step',
        'decay_epochs': 2,
        'decay_rate': 0.1,
        'warmup_epochs': 1,
        'warmup_lr': 0.0,
    }
    # pyiqa's pipeline sets total_iter = total_epoch x iterations per epoch before it builds the model
    model = build(tiny_lifeiqa_config, tmp_path, scheduler=scheduler, total_epoch=5, total_iter=5 * ITERS_PER_EPOCH)
    lrs = lr_trajectory(model, 5 * ITERS_PER_EPOCH)
    # warm-up over epoch 1, then x0.1 every 2 epochs (counted from the start, warm-up included)
    assert lrs == pytest.approx([0.0, 0.5e-3] + [1e-3] * 2 + [1e-4] * 4 + [1e-5] * 2)


def test_timm_cosine_schedule_anneals_to_min_lr(tiny_lifeiqa_config, tmp_path):
    scheduler = {'type': 'TimmScheduler', 'sched': 'cosine', 'warmup_epochs': 1, 'warmup_lr': 1e-5, 'min_lr': 1e-6}
    total = 3 * ITERS_PER_EPOCH
    model = build(tiny_lifeiqa_config, tmp_path, scheduler=scheduler, total_epoch=3, total_iter=total)
    lrs = lr_trajectory(model, total)
    assert lrs[0] == pytest.approx(1e-5)
    for t in range(ITERS_PER_EPOCH, total):
        assert lrs[t] == pytest.approx(1e-6 + 0.5 * (1e-3 - 1e-6) * (1 + math.cos(math.pi * t / total)))


def test_timm_scheduler_state_is_saved_with_pyiqas_training_state(tiny_lifeiqa_config, tmp_path):
    scheduler = {'type': 'TimmScheduler', 'sched': 'step', 'decay_epochs': 1, 'warmup_epochs': 0}
    model = build(tiny_lifeiqa_config, tmp_path, scheduler=scheduler, total_epoch=2, total_iter=2 * ITERS_PER_EPOCH)
    assert model.schedulers == [model.iter_scheduler]
    state = model.schedulers[0].state_dict()
    assert 'optimizer' not in state and state['decay_t'] == ITERS_PER_EPOCH


def test_timm_scheduler_needs_the_training_length_in_epochs(tiny_lifeiqa_config, tmp_path):
    with pytest.raises(ValueError, match='total_epoch'):
        build(tiny_lifeiqa_config, tmp_path, scheduler={'type': 'TimmScheduler', 'sched': 'step'})


def test_gradients_are_clipped_to_grad_clip(tiny_lifeiqa_config, tmp_path):
    # plain SGD with lr 1 moves the parameters by exactly the (clipped) gradient
    model = build(tiny_lifeiqa_config, tmp_path, optim={'type': 'SGD', 'lr': 1.0}, grad_clip=1e-3)
    before = [p.detach().clone() for p in model.net.parameters()]
    feed(model)
    model.optimize_parameters(1)
    step = torch.cat([(p.detach() - b).flatten() for p, b in zip(model.net.parameters(), before, strict=True)])
    assert 0 < step.norm() <= 1e-3 * 1.001


def test_validation_scores_with_the_deterministic_eval_crops_and_keeps_training_mode(tiny_lifeiqa_config, tmp_path):
    model = build(tiny_lifeiqa_config, tmp_path)
    feed(model, size=48)
    model.test()
    first = model.output_score.clone()
    model.test()
    assert torch.equal(model.output_score, first)
    assert first.shape == (4, 1)
    assert model.net.training
    model.net.eval()
    with torch.no_grad():
        assert torch.allclose(model.net(model.img_input), first)


def test_a_batch_of_image_groups_is_fed_and_trained_as_one_batch_of_images(tiny_lifeiqa_config, tmp_path):
    model = build(tiny_lifeiqa_config, tmp_path)
    groups = torch.rand(2, 3, 3, 32, 32, generator=torch.Generator().manual_seed(1))  # ReferenceGroupDataset's
    labels = torch.tensor([[[0.9], [1.0], [0.2]], [[0.5], [1.0], [0.7]]])
    model.feed_data({'img': groups, 'mos_label': labels})
    assert torch.equal(model.img_input, groups.reshape(6, 3, 32, 32))
    assert torch.equal(model.gt_mos, labels.reshape(6, 1))
    model.optimize_parameters(1)
    assert model.output_score.shape == (6, 1)


def test_input_gradient_penalty_trains_the_network_to_be_less_sensitive_to_pixels(tiny_lifeiqa_config, tmp_path):
    model = build(tiny_lifeiqa_config, tmp_path, input_gradient_penalty=100.0)
    penalties = []
    for it in range(1, 9):
        feed(model)
        model.optimize_parameters(it)
        penalties.append(model.get_current_log()['l_input_gradient'])
    assert penalties[0] > 0
    assert penalties[-1] < 0.5 * penalties[0]  # the penalty's own gradient reaches the weights
    assert not model.img_input.requires_grad  # the batch itself is left as fed


def test_without_input_gradient_penalty_no_second_backward_is_taken(tiny_lifeiqa_config, tmp_path):
    model = build(tiny_lifeiqa_config, tmp_path)
    feed(model)
    model.optimize_parameters(1)
    assert 'l_input_gradient' not in model.get_current_log()


def test_a_negative_input_gradient_penalty_is_refused(tiny_lifeiqa_config, tmp_path):
    with pytest.raises(ValueError, match='input_gradient_penalty'):
        build(tiny_lifeiqa_config, tmp_path, input_gradient_penalty=-1.0)
