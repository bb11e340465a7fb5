"""Specification of the one description of a Life-IQA network (pyiqa_lifeiqa/archs/config.py)."""

import dataclasses

import pytest

from pyiqa_lifeiqa.archs.config import ConfigError, LifeIQAConfig
from pyiqa_lifeiqa.archs.lifeiqa_arch import LifeIQA
from pyiqa_lifeiqa.weights.registry import WEIGHT_SETS


def test_the_config_is_frozen_and_round_trips_through_a_dict():
    config = LifeIQAConfig(backbone='resnet18', embed_dim=32, num_heads=4, working_size=256)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.crop_size = 128
    assert LifeIQAConfig.from_dict(config.to_dict()) == config


def test_unknown_fields_are_named_and_training_only_settings_ignored():
    with pytest.raises(ConfigError, match='not LifeIQA config fields: crop, experts'):
        LifeIQAConfig.from_dict({'experts': 2, 'crop': 3})
    # older weight files recorded the head's dropout, which does not change the network's scores
    assert LifeIQAConfig.from_dict({'dropout': 0.1, 'num_experts': 2}) == LifeIQAConfig(num_experts=2)
    with pytest.raises(ConfigError, match='not LifeIQA config fields: dropout'):
        LifeIQAConfig().updated(dropout=0.0)


@pytest.mark.parametrize(
    ('changes', 'message'),
    [
        ({'embed_dim': 0}, 'embed_dim must be a positive integer'),
        ({'backbone': 5}, 'backbone must be a timm model name'),
        ({'learnable_adjacency': 'no'}, 'learnable_adjacency must be true or false'),
        ({'working_size': 0}, 'working_size must be a positive integer'),
        ({'num_experts': 2, 'top_k': 3}, r'top_k \(3\) must not exceed num_experts \(2\)'),
        ({'depth': 2.0}, 'depth must be a positive integer'),
        ({'embed_dim': 30, 'num_heads': 4}, r'embed_dim \(30\) must be a multiple of num_heads \(4\)'),
        ({'query_mixer': 'mlp'}, 'query_mixer must be one of'),
        ({'decoder': 'detr'}, 'decoder must be one of'),
        ({'crop_size': 224, 'working_size': 192}, r'working_size \(192\) must be at least crop_size \(224\)'),
        ({'max_size': 0}, 'max_size must be a positive integer'),
        ({'crop_size': 224, 'max_size': 192}, r'max_size \(192\) must be at least crop_size \(224\)'),
    ],
)
def test_values_the_network_cannot_take_are_refused_naming_the_field(changes, message):
    with pytest.raises(ConfigError, match=message):
        LifeIQAConfig(**changes)


def test_differences_name_each_differing_field_with_both_values():
    assert LifeIQAConfig(test_sample=3).differences(LifeIQAConfig()) == ['test_sample (3 vs 10)']
    assert LifeIQAConfig().differences(LifeIQAConfig()) == []


def test_the_arch_takes_a_config_a_weight_set_name_or_fields(tiny_lifeiqa_config):
    config = LifeIQAConfig(**tiny_lifeiqa_config)
    assert LifeIQA(config, backbone_pretrain=False).config == config
    assert LifeIQA(**tiny_lifeiqa_config, backbone_pretrain=False).config == config  # as pyiqa passes them
    assert LifeIQA(config, crop_size=96, backbone_pretrain=False).config == config.updated(crop_size=96)
    assert LifeIQA(config.to_dict(), backbone_pretrain=False).config == config  # as an option file may write it
    named = LifeIQA('lifeiqa', backbone_pretrain=False)
    assert named.config == WEIGHT_SETS['lifeiqa'].config
    with pytest.raises(ConfigError, match='not LifeIQA config fields: num_expert'):
        LifeIQA(config, num_expert=2)


def test_a_weight_sets_name_also_names_the_weights_it_loads(weight_dirs):
    from pyiqa_lifeiqa.weights.resolve import WeightsNotFoundError

    with pytest.raises(WeightsNotFoundError, match="weight set 'lifeiqa-koniq' not found"):
        # no file for it here, and not the default set's file instead (a small backbone: built fast)
        LifeIQA('lifeiqa-koniq', backbone='resnet18', embed_dim=32, num_heads=4, pretrained=True)
