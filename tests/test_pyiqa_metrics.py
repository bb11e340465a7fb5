"""pyiqa's general contract, as pyiqa's own ``tests/test_metric_general.py`` holds every metric that
``pyiqa.list_models()`` returns to it, checked for every lifeiqa metric (pyiqa_lifeiqa/configs.py).

Each metric is listed and created through pyiqa exactly as a user would: the default one with its
shipped weights; one whose weights are not shipped with a weight file of its architecture (random
values) put where a user puts theirs, ``$LIFEIQA_WEIGHTS_DIR``.
"""

import pyiqa
import pytest
import torch
from pyiqa.archs import build_network
from pyiqa.default_model_configs import DEFAULT_CONFIGS
from safetensors.torch import save_file

from pyiqa_lifeiqa import registration
from pyiqa_lifeiqa.configs import METRIC_CONFIGS
from pyiqa_lifeiqa.weights.locate import ENV_WEIGHTS_DIR, available
from pyiqa_lifeiqa.weights.registry import WEIGHT_SETS

# Fewer eval crops keep the Swin-B metrics affordable on a CPU; the protocol is unchanged.
FAST = {'test_sample': 2}


@pytest.fixture(scope='module', params=sorted(METRIC_CONFIGS))
def listed(request, tmp_path_factory):
    """The name of a lifeiqa metric that pyiqa lists, its weights found as a user's would be."""
    name = request.param
    weight_set = WEIGHT_SETS[name]
    with pytest.MonkeyPatch.context() as patch:
        if not available(weight_set):
            folder = tmp_path_factory.mktemp(name)
            opts = {**METRIC_CONFIGS[name]['metric_opts'], 'pretrained': False, 'backbone_pretrain': False}
            torch.manual_seed(0)
            save_file(build_network(opts).state_dict(), str(folder / weight_set.filename))
            patch.setenv(ENV_WEIGHTS_DIR, str(folder))
            assert name not in pyiqa.list_models()  # no weights, not listed
            patch.setitem(DEFAULT_CONFIGS, name, None)  # so that the entry is removed again afterwards
            del DEFAULT_CONFIGS[name]
            registration.extend_default_configs(pyiqa.default_model_configs)  # what pyiqa's next start-up does
        assert name in pyiqa.list_models()
        yield name


@pytest.fixture(scope='module')
def metric(listed):
    return pyiqa.create_metric(listed, device='cpu', **FAST)


@pytest.fixture(scope='module')
def loss_metric(listed):
    return pyiqa.create_metric(listed, as_loss=True, device='cpu', **FAST)


def test_forward_on_pyiqas_test_input_gives_finite_scores(listed):
    scores = pyiqa.create_metric(listed, device='cpu')(torch.rand(2, 3, 224, 224))
    assert scores.shape in ((2,), (2, 1))
    assert torch.isfinite(scores).all()


def test_as_loss_back_propagates_a_finite_gradient_from_unbounded_input(listed):
    x = torch.randn(2, 3, 224, 224, requires_grad=True)  # as pyiqa's test_gradient_backward gives it
    pyiqa.create_metric(listed, as_loss=True, device='cpu')(x).sum().backward()
    assert torch.isfinite(x.grad).all()
    assert x.grad.abs().sum() > 0


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
