"""Specification of reading, saving and loading weight files (pyiqa_lifeiqa/weights/checkpoint.py)."""

import dataclasses
import os
import pickle

import pyiqa
import pytest
import torch
from safetensors.torch import save_file

from pyiqa_lifeiqa.archs.config import LifeIQAConfig
from pyiqa_lifeiqa.archs.lifeiqa_arch import LifeIQA
from pyiqa_lifeiqa.weights.checkpoint import (
    CheckpointError,
    UnsafeCheckpointError,
    WeightsMismatchError,
    load_weights_into,
    read_config,
    read_state_dict,
    save_weights,
)
from pyiqa_lifeiqa.weights.registry import WEIGHT_SETS
from pyiqa_lifeiqa.weights.resolve import WeightsNotFoundError


def build(config: dict, seed: int = 0) -> LifeIQA:
    torch.manual_seed(seed)
    return LifeIQA(**config, backbone_pretrain=False).eval()


@pytest.fixture
def model(tiny_lifeiqa_config) -> LifeIQA:
    return build(tiny_lifeiqa_config)


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


class Payload:
    """Unpickling this runs a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def test_save_weights_round_trip_records_config(model, tmp_path):
    path = save_weights(model, tmp_path / 'w.safetensors')
    assert path == tmp_path / 'w.safetensors'
    assert os.listdir(tmp_path) == ['w.safetensors']  # no temporary file left
    state_dict = read_state_dict(path)
    assert state_dict.keys() == model.state_dict().keys()
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state_dict.items())
    assert read_config(path) == model.config


@pytest.mark.parametrize('umask', [0o022, 0o077])
def test_saved_weights_get_the_usual_permissions_of_a_new_file(model, tmp_path, umask):
    previous = os.umask(umask)
    try:
        path = save_weights(model, tmp_path / 'w.safetensors')
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as open(path, 'w') would give, not 0600


def test_save_weights_records_an_explicit_config(model, tmp_path):
    save_weights(model, tmp_path / 'w.safetensors', config=LifeIQAConfig(num_experts=2))
    assert read_config(tmp_path / 'w.safetensors') == LifeIQAConfig(num_experts=2)


def test_damage_inside_the_tensors_of_a_saved_file_is_refused(model, tmp_path):
    path = save_weights(model, tmp_path / 'w.safetensors')
    data = bytearray(path.read_bytes())
    data[-64:-32] = bytes(b ^ 0x01 for b in data[-64:-32])  # finite values still: only the hash can tell
    damaged = tmp_path / 'damaged.safetensors'
    damaged.write_bytes(bytes(data))
    assert all(torch.isfinite(v).all() for v in read_state_dict(damaged).values() if v.is_floating_point())
    fresh = build(model.config.to_dict(), seed=1)
    with pytest.raises(CheckpointError, match='differ from the hash recorded when it was saved'):
        load_weights_into(fresh, path=damaged)
    with pytest.raises(CheckpointError, match='damaged'):
        LifeIQA(model.config, pretrained_model_path=str(damaged))


def test_save_weights_needs_safetensors_suffix(model, tmp_path):
    with pytest.raises(ValueError, match='must end in .safetensors'):
        save_weights(model, tmp_path / 'w.pth')
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    'changes',
    [
        {},
        {'num_experts': 1},
        {'num_experts': 3, 'top_k': 1, 'num_queries': 4, 'depth': 1},
        {'learnable_adjacency': True, 'crop_size': 96, 'test_sample': 3},
        {'query_mixer': 'self_attn', 'grid_size': 3},
        {'decoder': 'vanilla'},
    ],
    ids=['tiny', 'mlp-head', 'other-sizes', 'learnable-adjacency', 'self-attn', 'vanilla'],
)
def test_the_model_config_rebuilds_the_same_model(tiny_lifeiqa_config, changes):
    original = build({**tiny_lifeiqa_config, **changes}, seed=0)
    config = original.config.to_dict()
    assert {k: config[k] for k in changes} == changes
    rebuilt = build(config, seed=1)
    rebuilt.load_state_dict(original.state_dict())
    x = torch.rand(2, 3, 120, 100)
    assert torch.equal(rebuilt(x), original(x))


def test_read_config_is_none_for_files_without_one(model, tmp_path):
    save_file(model.state_dict(), tmp_path / 'plain.safetensors')
    torch.save(model.state_dict(), tmp_path / 'plain.pth')
    assert read_config(tmp_path / 'plain.safetensors') is None
    assert read_config(tmp_path / 'plain.pth') is None


@pytest.mark.parametrize(
    'wrap',
    [
        lambda sd: sd,
        lambda sd: {'params': sd},
        lambda sd: {'params_ema': sd},
        lambda sd: {'state_dict': sd, 'epoch': 3},
        lambda sd: {'model': sd, 'optimizer': {'state': {}, 'param_groups': [{'lr': 0.1}]}, 'epoch': 30},
        lambda sd: {'model': {f'module.{k}': v for k, v in sd.items()}},
        lambda sd: {f'module.{k}': v for k, v in sd.items()},
    ],
    ids=['plain', 'pyiqa-params', 'params-ema', 'state-dict', 'model-with-optimizer', 'ddp-in-model', 'ddp'],
)
def test_accepted_torch_checkpoint_layouts(model, tmp_path, wrap):
    torch.save(wrap(model.state_dict()), tmp_path / 'ckpt.pth')
    state_dict = read_state_dict(tmp_path / 'ckpt.pth')
    assert state_dict.keys() == model.state_dict().keys()
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state_dict.items())


def test_pyiqa_params_is_preferred_over_ema(model, tmp_path):
    ema = {k: v + 1 if v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save({'params_ema': ema, 'params': model.state_dict()}, tmp_path / 'ckpt.pth')
    assert torch.equal(read_state_dict(tmp_path / 'ckpt.pth')['queries'], model.queries)


def test_pyiqa_training_checkpoint_loads_into_model(model, tiny_lifeiqa_config, tmp_path):
    torch.save({'params': model.state_dict()}, tmp_path / 'net_g_latest.pth')
    fresh = build(tiny_lifeiqa_config, seed=1)
    assert load_weights_into(fresh, path=tmp_path / 'net_g_latest.pth') == tmp_path / 'net_g_latest.pth'
    assert_same_weights(fresh, model)


def test_file_without_state_dict_is_rejected(tmp_path):
    torch.save({'epoch': 3, 'optimizer': {'lr': 0.1}}, tmp_path / 'ckpt.pth')
    with pytest.raises(CheckpointError, match=r"no state dict in .*ckpt.pth.*'params'.*'epoch', 'optimizer'"):
        read_state_dict(tmp_path / 'ckpt.pth')
    torch.save([torch.ones(1)], tmp_path / 'list.pth')
    with pytest.raises(CheckpointError, match="found <class 'list'>"):
        read_state_dict(tmp_path / 'list.pth')


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy-pickle'])
def test_pickle_that_would_run_code_is_refused_and_not_executed(tmp_path, legacy):
    marker = tmp_path / 'payload_ran'
    path = tmp_path / 'evil.pth'
    obj = {'params': {'queries': torch.ones(1)}, 'x': Payload(marker)}
    if legacy:
        path.write_bytes(pickle.dumps(obj, protocol=2))
    else:
        torch.save(obj, path)
    with pytest.raises(UnsafeCheckpointError, match='refused to load .*evil.pth.*Nothing in it was executed'):
        read_state_dict(path)
    assert not marker.exists()


def test_malicious_pickle_through_load_weights_into_is_refused(model, tmp_path):
    marker = tmp_path / 'payload_ran'
    torch.save(Payload(marker), tmp_path / 'evil.pth')
    with pytest.raises(UnsafeCheckpointError):
        load_weights_into(model, path=tmp_path / 'evil.pth')
    assert not marker.exists()


@pytest.mark.parametrize('suffix', ['.pth', '.safetensors'])
@pytest.mark.parametrize('keep', [0.5, 0.0], ids=['truncated', 'empty'])
def test_truncated_or_empty_file_is_a_clear_error_naming_the_file(model, tmp_path, suffix, keep):
    path = tmp_path / f'w{suffix}'
    if suffix == '.pth':
        torch.save(model.state_dict(), path)
    else:
        save_weights(model, path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CheckpointError, match='truncated or corrupt') as info:
        read_state_dict(path)
    assert str(path) in str(info.value)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        read_state_dict(tmp_path / 'nothing.pth')


def test_shape_mismatch_lists_key_both_shapes_and_config_hint(tiny_lifeiqa_config, tmp_path):
    four = build({**tiny_lifeiqa_config, 'num_experts': 4})
    save_weights(four, tmp_path / 'four.safetensors')
    two = build(tiny_lifeiqa_config)
    before = {k: v.clone() for k, v in two.state_dict().items()}
    with pytest.raises(WeightsMismatchError) as info:
        load_weights_into(two, path=tmp_path / 'four.safetensors')
    message = str(info.value)
    assert 'shape mismatches (6)' in message
    assert 'head.moe.w1: model (2, 128, 32), file (4, 128, 32)' in message
    assert 'num_experts' in message and "'num_experts': 4" in message  # the hint and the recorded config
    assert 'missing keys' not in message and 'unexpected keys' not in message
    assert all(torch.equal(v, before[k]) for k, v in two.state_dict().items())  # nothing was loaded


def test_missing_and_unexpected_keys_are_listed_and_long_lists_shortened(tiny_lifeiqa_config, tmp_path):
    deep = build({**tiny_lifeiqa_config, 'depth': 3})
    torch.save({'params': deep.state_dict()}, tmp_path / 'deep.pth')
    with pytest.raises(WeightsMismatchError, match=r'unexpected keys \(12\): decoder\.2\.mixer.*and 2 more'):
        load_weights_into(build(tiny_lifeiqa_config), path=tmp_path / 'deep.pth')
    with pytest.raises(WeightsMismatchError, match=r'missing keys \(12\): decoder\.3\.'):
        load_weights_into(build({**tiny_lifeiqa_config, 'depth': 4}), path=tmp_path / 'deep.pth')


def test_weights_with_nan_are_rejected(model, tiny_lifeiqa_config, tmp_path):
    state_dict = model.state_dict()
    state_dict['head.fc.weight'][0, 3] = float('nan')
    torch.save(state_dict, tmp_path / 'nan.pth')
    with pytest.raises(CheckpointError, match=r'nan.pth hold NaN or infinite values in head\.fc\.weight$'):
        load_weights_into(build(tiny_lifeiqa_config), path=tmp_path / 'nan.pth')


def test_weight_set_file_is_found_and_loaded(model, tiny_lifeiqa_config, weight_dirs, monkeypatch):
    # the shipped file's hash is registered; this test's stand-in file has another
    monkeypatch.setitem(WEIGHT_SETS, 'lifeiqa', dataclasses.replace(WEIGHT_SETS['lifeiqa'], sha256=None, size=None))
    save_weights(model, weight_dirs.package / 'lifeiqa_default.safetensors')
    fresh = build(tiny_lifeiqa_config, seed=1)
    assert load_weights_into(fresh) == weight_dirs.package / 'lifeiqa_default.safetensors'
    assert_same_weights(fresh, model)


def test_arch_pretrained_model_path_loads_weights(model, tiny_lifeiqa_config, tmp_path):
    save_weights(model, tmp_path / 'w.safetensors')
    loaded = LifeIQA(**tiny_lifeiqa_config, pretrained_model_path=str(tmp_path / 'w.safetensors'))
    assert_same_weights(loaded, model)


def test_create_metric_without_weights_raises_helpful_not_found(weight_dirs):
    with pytest.raises(WeightsNotFoundError) as info:
        pyiqa.create_metric('lifeiqa', device='cpu')
    message = str(info.value)
    assert "'lifeiqa_default.safetensors' of weight set 'lifeiqa' not found" in message
    assert str(weight_dirs.package) in message and str(weight_dirs.cache) in message
    assert 'LIFEIQA_WEIGHTS_DIR' in message and 'pretrained_model_path=' in message and 'lifeiqa train' in message


@pytest.mark.parametrize('name', ['weights.pth', 'weights.bin', 'weights'])
def test_a_safetensors_file_is_read_whatever_its_name(model, tmp_path, name):
    saved = save_weights(model, tmp_path / 'w.safetensors')
    renamed = saved.rename(tmp_path / name)
    state_dict = read_state_dict(renamed)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state_dict.items())
    assert read_config(renamed) == read_config(tmp_path / name)


def test_a_torch_checkpoint_named_safetensors_is_read_as_a_torch_checkpoint(model, tmp_path):
    path = tmp_path / 'really_a_pickle.safetensors'
    torch.save(model.state_dict(), path)
    assert read_state_dict(path).keys() == model.state_dict().keys()
    assert read_config(path) is None


def test_a_recorded_config_that_differs_where_no_shape_shows_it_is_refused(tiny_lifeiqa_config, tmp_path):
    recorded = {'crop_size': 192, 'test_sample': 3, 'working_size': 256}
    save_weights(build({**tiny_lifeiqa_config, **recorded}), tmp_path / 'w.safetensors')
    torch.manual_seed(0)
    other = LifeIQA(LifeIQAConfig(**tiny_lifeiqa_config), backbone_pretrain=False)  # same shapes, nothing chosen
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(WeightsMismatchError) as info:
        load_weights_into(other, path=tmp_path / 'w.safetensors')
    message = str(info.value)
    assert '(file vs model): ' in message
    assert 'crop_size (192 vs 224)' in message and 'test_sample (3 vs 2)' in message
    assert 'working_size (256 vs None)' in message
    assert all(torch.equal(v, before[k]) for k, v in other.state_dict().items())  # nothing was loaded
    same = build({**tiny_lifeiqa_config, **recorded}, seed=1)
    load_weights_into(same, path=tmp_path / 'w.safetensors')


def test_a_scoring_protocol_the_caller_chose_holds_with_any_weights_but_other_fields_must_match(
    tiny_lifeiqa_config, tmp_path
):
    saved = build({**tiny_lifeiqa_config, 'crop_size': 192, 'test_sample': 3})
    save_weights(saved, tmp_path / 'w.safetensors')
    chosen = LifeIQA(
        **{**tiny_lifeiqa_config, 'crop_size': 192, 'test_sample': 5, 'working_size': 256},
        pretrained_model_path=str(tmp_path / 'w.safetensors'),
        backbone_pretrain=False,
    )
    assert (chosen.config.test_sample, chosen.config.working_size) == (5, 256)  # as asked, not as recorded
    assert_same_weights(chosen, saved)
    with pytest.raises(WeightsMismatchError, match=r'built differently \(file vs model\): crop_size \(192 vs 224\)\.'):
        LifeIQA(**tiny_lifeiqa_config, pretrained_model_path=str(tmp_path / 'w.safetensors'), backbone_pretrain=False)
