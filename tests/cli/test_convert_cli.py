"""Specification of `lifeiqa convert` (pyiqa_lifeiqa/cli/convert.py)."""

import hashlib
import json
import os

import pytest
import torch

from pyiqa_lifeiqa.archs.lifeiqa_arch import LifeIQA
from pyiqa_lifeiqa.cli import main
from pyiqa_lifeiqa.weights.checkpoint import read_config, save_weights


def flags(config: dict) -> list[str]:
    """A config as `lifeiqa convert` options."""
    return [arg for key, value in config.items() for arg in (f'--{key.replace("_", "-")}', str(value))]


@pytest.fixture
def model(tiny_lifeiqa_config) -> LifeIQA:
    torch.manual_seed(0)
    return LifeIQA(**tiny_lifeiqa_config, backbone_pretrain=False).eval()


@pytest.fixture
def pyiqa_checkpoint(model, tmp_path):
    """A pyiqa training checkpoint with the DDP prefix, as `torch.save` would write it."""
    path = tmp_path / 'net_best.pth'
    torch.save({'params': {f'module.{k}': v for k, v in model.state_dict().items()}}, path)
    return path


def fails(argv: list[str], capsys) -> str:
    """Run the CLI, expect exit status 2, return its error message."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    return capsys.readouterr().err


def test_convert_pyiqa_checkpoint_to_safetensors_with_same_scores(
    model, pyiqa_checkpoint, tiny_lifeiqa_config, tmp_path, capsys
):
    out = tmp_path / 'converted.safetensors'
    before = pyiqa_checkpoint.read_bytes()
    assert main(['convert', str(pyiqa_checkpoint), str(out), *flags(tiny_lifeiqa_config)]) == 0

    printed = capsys.readouterr().out
    assert f'sha256 {hashlib.sha256(out.read_bytes()).hexdigest()}' in printed
    assert json.loads(printed.split('config: ', 1)[1]) == model.config.to_dict() == read_config(out).to_dict()
    assert pyiqa_checkpoint.read_bytes() == before
    loaded = LifeIQA(**tiny_lifeiqa_config, pretrained_model_path=str(out)).eval()
    x = torch.rand(2, 3, 96, 80)
    assert torch.equal(loaded(x), model(x))


def test_weight_set_config_is_the_base_and_options_override_it(model, pyiqa_checkpoint, tmp_path):
    # lifeiqa-koniq gives num_experts=2 (the tiny config's); the options replace its Swin-B backbone.
    out = tmp_path / 'out.safetensors'
    tiny = flags({'backbone': 'resnet18', 'embed_dim': 32, 'num_heads': 4, 'depth': 2, 'test_sample': 2})
    assert main(['convert', str(pyiqa_checkpoint), str(out), '--weight-set', 'lifeiqa-koniq', *tiny]) == 0
    assert read_config(out).num_experts == 2


def test_config_recorded_in_input_is_used_without_options(model, tmp_path):
    save_weights(model, tmp_path / 'in.safetensors')
    assert main(['convert', str(tmp_path / 'in.safetensors'), str(tmp_path / 'out.safetensors')]) == 0
    assert read_config(tmp_path / 'out.safetensors') == model.config


def test_metric_config_that_does_not_fit_is_reported_and_nothing_written(pyiqa_checkpoint, tmp_path, capsys):
    out = tmp_path / 'out.safetensors'
    message = fails(['convert', str(pyiqa_checkpoint), str(out), '--metric', 'lifeiqa-koniq'], capsys)
    assert 'lifeiqa convert: error: weights from' in message and 'do not fit the model' in message
    assert 'missing keys' in message and 'num_experts' in message
    assert not out.exists()


def test_unknown_metric_is_reported(pyiqa_checkpoint, tmp_path, capsys):
    message = fails(['convert', str(pyiqa_checkpoint), str(tmp_path / 'o.safetensors'), '--metric', 'x'], capsys)
    assert "unknown metric 'x'" in message and 'lifeiqa-koniq' in message


def test_output_must_be_safetensors(pyiqa_checkpoint, tmp_path, capsys):
    message = fails(['convert', str(pyiqa_checkpoint), str(tmp_path / 'out.pth')], capsys)
    assert 'OUT must end in .safetensors' in message
    assert not (tmp_path / 'out.pth').exists()


def test_input_is_never_overwritten_even_with_force(model, tmp_path, capsys):
    path = save_weights(model, tmp_path / 'w.safetensors')
    before = path.read_bytes()
    message = fails(['convert', str(path), str(tmp_path / '.' / 'w.safetensors'), '--force'], capsys)
    assert 'refusing to overwrite the input' in message
    assert path.read_bytes() == before


def test_existing_output_needs_force(pyiqa_checkpoint, tiny_lifeiqa_config, tmp_path, capsys):
    out = tmp_path / 'out.safetensors'
    out.write_bytes(b'keep me')
    assert 'already exists; pass --force' in fails(['convert', str(pyiqa_checkpoint), str(out)], capsys)
    assert out.read_bytes() == b'keep me'
    assert main(['convert', str(pyiqa_checkpoint), str(out), '--force', *flags(tiny_lifeiqa_config)]) == 0
    assert read_config(out).backbone == 'resnet18'


def test_malicious_input_is_refused_and_not_run(tmp_path, capsys):
    marker = tmp_path / 'payload_ran'

    class Payload:
        def __reduce__(self):
            return os.system, (f'touch {marker}',)

    torch.save({'params': Payload()}, tmp_path / 'evil.pth')
    message = fails(['convert', str(tmp_path / 'evil.pth'), str(tmp_path / 'out.safetensors')], capsys)
    assert 'refused to load' in message and 'Nothing in it was executed' in message
    assert not marker.exists() and not (tmp_path / 'out.safetensors').exists()


def test_missing_input_and_bad_backbone_are_reported(pyiqa_checkpoint, tmp_path, capsys):
    message = fails(['convert', str(tmp_path / 'nope.pth'), str(tmp_path / 'o.safetensors')], capsys)
    assert 'nope.pth does not exist' in message
    message = fails(['convert', str(pyiqa_checkpoint), str(tmp_path / 'o.safetensors'), '--backbone', 'nonet'], capsys)
    assert 'cannot build LifeIQA' in message and 'nonet' in message
