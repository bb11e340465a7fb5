"""pyiqa's general expectations, checked for every lifeiqa* metric entry (pyiqa_lifeiqa/configs.py).

Each metric is created through ``pyiqa.create_metric`` exactly as a user would, with a weight
file the test writes for that metric's configuration (random weights, same architecture).
"""

import pyiqa
import pytest
import torch
from pyiqa.archs import build_network
from safetensors.torch import save_file

from pyiqa_lifeiqa.configs import METRIC_CONFIGS

# Fewer eval crops keep the Swin-B metrics affordable on a CPU; the protocol is unchanged.
FAST = {'test_sample': 2}


@pytest.fixture(scope='module', params=sorted(METRIC_CONFIGS))
def weights(request, tmp_path_factory) -> tuple[str, str]:
    """(metric name, a weight file with that metric's architecture and random values)."""
    name = request.param
    opts = {**METRIC_CONFIGS[name]['metric_opts'], 'pretrained': False, 'backbone_pretrain': False}
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp(name) / f'{name}.safetensors'
    save_file(build_network(opts).state_dict(), str(path))
    return name, str(path)


@pytest.fixture(scope='module')
def metric(weights):
    name, path = weights
    return pyiqa.create_metric(name, device='cpu', pretrained_model_path=path, **FAST)


@pytest.fixture(scope='module')
def loss_metric(weights):
    name, path = weights
    return pyiqa.create_metric(name, as_loss=True, device='cpu', pretrained_model_path=path, **FAST)


def test_metric_is_no_reference_and_higher_is_better(metric):
    assert metric.metric_mode == 'NR'
    assert metric.lower_better is False
    assert not metric.net.training


@pytest.mark.parametrize('shape', [(2, 3, 224, 224), (2, 3, 384, 512)])
def test_forward_gives_one_finite_score_per_image(metric, shape):
    scores = metric(torch.rand(shape))
    assert scores.shape == (2, 1)
    assert torch.isfinite(scores).all()


def test_single_image_scores_the_same_alone_and_in_a_batch(metric):
    torch.manual_seed(3)
    batch = torch.rand(3, 3, 256, 320)
    together = metric(batch)
    alone = torch.cat([metric(batch[i : i + 1]) for i in range(3)])
    assert torch.allclose(together, alone, atol=1e-5)


def test_as_loss_gives_finite_nonzero_input_gradients(loss_metric):
    x = torch.rand(2, 3, 224, 224, requires_grad=True)
    loss = loss_metric(x)
    assert loss.dim() == 0
    loss.backward()
    assert torch.isfinite(x.grad).all()
    assert x.grad.abs().sum() > 0


def test_loss_weight_and_reduction_are_honoured(loss_metric):
    x = torch.rand(2, 3, 224, 224)
    try:
        loss_metric.loss_reduction = 'none'
        per_image = loss_metric(x)
        loss_metric.loss_reduction = 'sum'
        total = loss_metric(x)
        loss_metric.loss_reduction = 'mean'
        loss_metric.loss_weight = torch.tensor([[1.0], [0.0]])  # a weighted mean over images
        first_only = loss_metric(x)
    finally:
        loss_metric.loss_reduction, loss_metric.loss_weight = 'mean', None
    assert per_image.shape == (2, 1)
    assert torch.allclose(total, per_image.sum(), atol=1e-5)
    assert torch.allclose(first_only, per_image[0, 0], atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_scores_match_cpu(metric, monkeypatch):
    # in full float32: cuDNN's convolutions default to TF32 (10-bit mantissa), a speed choice of the user's
    monkeypatch.setattr(torch.backends.cudnn, 'allow_tf32', False)
    monkeypatch.setattr(torch.backends.cuda.matmul, 'allow_tf32', False)
    x = torch.rand(2, 3, 256, 256)
    cpu = metric(x)
    metric.to('cuda')
    try:
        gpu = metric(x.to('cuda')).cpu()
    finally:
        metric.to('cpu')
    assert torch.allclose(cpu, gpu, rtol=1e-4, atol=1e-4), (cpu, gpu)
