"""Specification of LifeIQALoss (pyiqa_lifeiqa/losses.py) on the tiny ``lifeiqa-test`` metric (224 crops)."""

import pyiqa
import pytest
import torch
from pyiqa.losses import build_loss

from pyiqa_lifeiqa.losses import LifeIQALoss

CROP = 224  # the tiny metric's crop size: a 224x224 image is its own only view


@pytest.fixture
def loss(lifeiqa_test_metric) -> LifeIQALoss:
    return LifeIQALoss(lifeiqa_test_metric, device='cpu')


@pytest.fixture
def metric(lifeiqa_test_metric):
    return pyiqa.create_metric(lifeiqa_test_metric, device='cpu')


def image(seed: int, size: tuple[int, int] = (CROP, CROP)) -> torch.Tensor:
    return torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(seed))


def test_option_files_can_name_it_through_pyiqas_loss_registry(lifeiqa_test_metric):
    built = build_loss({'type': 'LifeIQALoss', 'metric': lifeiqa_test_metric, 'loss_weight': 0.5, 'device': 'cpu'})
    assert isinstance(built, LifeIQALoss) and built.loss_weight == 0.5


def test_without_a_target_it_is_minus_the_weighted_score(lifeiqa_test_metric, metric):
    x = image(0)
    single_view = LifeIQALoss(lifeiqa_test_metric, loss_weight=0.5, views=1, flip=False, rescale=0, device='cpu')
    assert single_view(x).item() == pytest.approx(-0.5 * metric(x).item(), abs=1e-5)


def test_it_is_differentiable_end_to_end_and_the_metric_stays_frozen(loss):
    x = image(0, (200, 260)).requires_grad_(True)
    loss(x).backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in loss.net.parameters())
    loss.train()
    assert not loss.net.training


def test_minimising_it_raises_the_metrics_score(loss, metric):
    x = image(1, (160, 240)).requires_grad_(True)
    before = metric(x.detach()).item()
    optimizer = torch.optim.Adam([x], lr=0.01)
    for _ in range(5):
        optimizer.zero_grad()
        loss(x).backward()
        optimizer.step()
        x.data.clamp_(0, 1)
    assert metric(x.detach()).item() > before


def test_the_hinge_penalises_only_the_shortfall_below_the_targets_score(lifeiqa_test_metric, metric):
    hinge = LifeIQALoss(lifeiqa_test_metric, loss_weight=2.0, views=1, flip=False, rescale=0, device='cpu')
    a, b = image(2), image(3)
    low, high = sorted((a, b), key=lambda x: metric(x).item())
    shortfall = metric(high).item() - metric(low).item()
    assert shortfall > 0

    assert hinge(low, high).item() == pytest.approx(2.0 * shortfall, abs=1e-5)
    pred = high.clone().requires_grad_(True)
    stopped = hinge(pred, low)  # already above the target: nothing to gain
    stopped.backward()
    assert stopped.item() == 0 and torch.count_nonzero(pred.grad) == 0


def test_views_are_random_per_call_and_shared_by_pred_and_target(loss):
    x = image(4, (200, 300))
    torch.manual_seed(0)
    first = loss(x).item()
    second = loss(x).item()
    assert first != second  # fresh crops and flips each call
    assert loss(x, x.clone()).item() == 0  # the same views of the same image: no shortfall


@pytest.mark.parametrize(
    ('call', 'message'),
    [
        (lambda loss: loss(image(0), image(1, (CROP, 200))), 'differs from pred shape'),
        (lambda loss: loss((image(0) * 255).to(torch.uint8)), 'floating-point'),
        (lambda loss: loss(image(0)[0]), '4-D'),
        (lambda loss: loss(image(0)[:0]), 'empty batch'),
    ],
)
def test_bad_inputs_are_refused_with_the_reason(loss, call, message):
    with pytest.raises(ValueError, match=message):
        call(loss)


def test_any_finite_input_is_a_loss_and_0_255_data_warns_at_the_first_step(loss):
    with pytest.warns(UserWarning, match='divide 0-255 images by 255'):
        loss((image(0) * 255).requires_grad_())
    raw = (torch.randn_like(image(1)) * 2).requires_grad_()  # far outside [0, 1], as an untrained network gives
    loss(raw).backward()
    assert torch.isfinite(raw.grad).all()


def test_nan_input_is_refused_as_a_loss(lifeiqa_test_metric):
    fresh = LifeIQALoss(lifeiqa_test_metric, device='cpu')
    with pytest.raises(ValueError, match='NaN'):
        fresh(torch.full_like(image(0), float('nan')).requires_grad_())


def test_bad_options_are_refused(lifeiqa_test_metric):
    with pytest.raises(ValueError, match='views must be at least 1'):
        LifeIQALoss(lifeiqa_test_metric, views=0, device='cpu')
    with pytest.raises(ValueError, match='not a Life-IQA metric'):
        LifeIQALoss('piqe', device='cpu')


def test_other_weights_for_the_metric_are_loaded_from_pretrained_model_path(
    lifeiqa_test_metric, tiny_lifeiqa_config, tmp_path
):
    from pyiqa.archs import build_network
    from safetensors.torch import save_file

    torch.manual_seed(1)  # weights other than the metric's own (seed 0)
    other = tmp_path / 'other.safetensors'
    save_file(build_network({'type': 'LifeIQA', **tiny_lifeiqa_config, 'backbone_pretrain': False}).state_dict(), other)
    x = image(0)
    own, loaded = (
        LifeIQALoss(lifeiqa_test_metric, views=1, flip=False, rescale=0, device='cpu', pretrained_model_path=path)
        for path in (None, other)
    )
    expected = -pyiqa.create_metric(lifeiqa_test_metric, device='cpu', pretrained_model_path=str(other))(x).item()
    assert loaded(x).item() == pytest.approx(expected, abs=1e-5)
    assert loaded(x).item() != pytest.approx(own(x).item(), abs=1e-4)
