"""Specification of the weight-set registry (pyiqa_lifeiqa/weights/registry.py)."""

import re
import subprocess
import sys

import pytest

from pyiqa_lifeiqa.archs.config import LifeIQAConfig
from pyiqa_lifeiqa.configs import METRIC_CONFIGS
from pyiqa_lifeiqa.weights.registry import DEFAULT_WEIGHT_SET, WEIGHT_SETS, get_weight_set, resolve_config


def test_each_set_has_a_file_name_of_its_own_in_safetensors_and_the_default_is_one_of_them():
    assert DEFAULT_WEIGHT_SET in WEIGHT_SETS
    names = [ws.filename for ws in WEIGHT_SETS.values()]
    assert len(set(names)) == len(names) and all(name.endswith('.safetensors') for name in names)


def test_a_set_that_can_be_downloaded_has_the_hash_the_download_is_checked_against():
    assert all(ws.sha256 is not None for ws in WEIGHT_SETS.values() if ws.url is not None)


def test_hashes_are_hex_sha256_when_given():
    for ws in WEIGHT_SETS.values():
        assert ws.sha256 is None or re.fullmatch('[0-9a-f]{64}', ws.sha256)
        assert ws.size is None or ws.size > 0


def test_every_set_describes_its_network_with_a_config():
    for ws in WEIGHT_SETS.values():
        assert isinstance(ws.config, LifeIQAConfig), ws.name
        assert ws.description


def test_each_metric_names_its_weight_set_as_its_network():
    # LifeIQA(config=NAME) builds that weight set's network (tests/archs/test_config.py): never listed again
    for metric, entry in METRIC_CONFIGS.items():
        opts = entry['metric_opts']
        assert opts['config'] == metric  # with pretrained, the name also chooses the weights
        assert set(opts) == {'type', 'config', 'pretrained'}


def test_unknown_set_raises_value_error_listing_known_sets():
    with pytest.raises(ValueError, match=r"unknown weight set 'nope'.*lifeiqa, lifeiqa-koniq"):
        get_weight_set('nope')


def test_a_weight_sets_name_gives_its_network_and_its_weights_unless_others_are_named():
    default = WEIGHT_SETS[DEFAULT_WEIGHT_SET]
    assert resolve_config(DEFAULT_WEIGHT_SET) == (default.config, DEFAULT_WEIGHT_SET)
    assert resolve_config(DEFAULT_WEIGHT_SET, 'mine') == (default.config, 'mine')
    smaller = default.config.updated(max_size=512)
    assert resolve_config(DEFAULT_WEIGHT_SET, max_size=512) == (smaller, DEFAULT_WEIGHT_SET)
    assert resolve_config(default.config.to_dict()) == (default.config, None)  # a config written out
    assert resolve_config(None, embed_dim=96) == (LifeIQAConfig(embed_dim=96), None)  # the paper's, changed
    with pytest.raises(ValueError, match="unknown weight set 'nope'"):
        resolve_config('nope')


def test_registry_imports_without_torch():
    code = 'import sys, pyiqa_lifeiqa.weights.registry; print([m for m in ("torch", "pyiqa") if m in sys.modules])'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == '[]'
