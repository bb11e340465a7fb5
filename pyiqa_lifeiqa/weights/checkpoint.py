"""Read Life-IQA weight files in every accepted format, load them strictly, save clean ones.

Accepted formats (told apart by content, not by file name):

- safetensors files (those written by :func:`save_weights` also record the model config and a
  hash of their tensors, both checked at load);
- torch pickles, read with ``torch.load(weights_only=True)`` only: a pickle that would run code
  is refused, never executed;
- a plain state dict, or one wrapped as ``{'params': ...}`` (pyiqa training checkpoints),
  ``'params_ema'``, ``'state_dict'`` or ``'model'``, with or without the ``module.`` prefix of
  ``DistributedDataParallel`` and the ``_orig_mod.`` one of ``torch.compile`` (timm's
  ``clean_state_dict`` strips them);
- state dicts of the authors' training code (converted, see :mod:`pyiqa_lifeiqa.weights.authors`).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file
from safetensors.torch import save as serialize
from timm.models import clean_state_dict
from torch import nn

from pyiqa_lifeiqa.archs.config import LifeIQAConfig
from pyiqa_lifeiqa.weights.authors import convert_authors_state_dict, is_authors_state_dict
from pyiqa_lifeiqa.weights.registry import DEFAULT_WEIGHT_SET, get_weight_set
from pyiqa_lifeiqa.weights.resolve import resolve_weight_file

# Keys under which training checkpoints wrap the state dict, in order of preference (pyiqa's first).
WRAPPER_KEYS = ('params', 'params_ema', 'state_dict', 'model')
CONFIG_METADATA_KEY = 'lifeiqa_config'
TENSORS_HASH_KEY = 'lifeiqa_tensors_sha256'
MAX_LISTED_KEYS = 10


class CheckpointError(ValueError):
    """A weight file cannot be read, or holds no usable state dict."""


class UnsafeCheckpointError(CheckpointError):
    """A pickle was refused because loading it could run code; nothing in it was executed."""


class WeightsMismatchError(CheckpointError):
    """Weights do not fit the model: missing or unexpected keys, different shapes, or a recorded config that differs."""


def is_safetensors_file(path: Path) -> bool:
    """True when the file's content is a safetensors file, whatever its name.

    A safetensors file starts with the 8-byte little-endian length of a JSON header that opens
    with ``{``; torch checkpoints start with a zip (``PK``) or pickle (``0x80``) signature.
    """
    with open(path, 'rb') as f:
        head = f.read(9)
    return len(head) == 9 and head[8:9] == b'{' and 0 < int.from_bytes(head[:8], 'little') <= path.stat().st_size - 8


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(path, device='cpu')
    except SafetensorError as error:
        raise CheckpointError(f'cannot read {path}: the safetensors file is truncated or corrupt ({error})') from None


def _read_pickle(path: Path) -> Any:
    try:
        with open(path, 'rb') as f:  # a file object: torch.load would pick a format by the file name
            return torch.load(f, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as error:
        if 'Weights only load failed' not in str(error):
            raise CheckpointError(f'cannot read {path}: the file is truncated or corrupt ({error})') from None
        detail = next((line.strip() for line in str(error).splitlines() if 'Unsupported' in line), '')
        raise UnsafeCheckpointError(
            f'refused to load {path}: it holds objects that torch.load(weights_only=True) does not allow, and '
            f'unpickling them could run arbitrary code. Nothing in it was executed. {detail}'
        ) from None
    except Exception as error:  # torch raises RuntimeError, EOFError, KeyError... for damaged files
        raise CheckpointError(
            f'cannot read {path}: the file is truncated or corrupt, or not a torch checkpoint '
            f'({type(error).__name__}: {error})'
        ) from None


def _unwrap(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    """The state dict inside a checkpoint: the object itself or one of its ``WRAPPER_KEYS`` entries."""
    while isinstance(obj, Mapping):
        if obj and all(isinstance(k, str) and torch.is_tensor(v) for k, v in obj.items()):
            return dict(obj)
        key = next((k for k in WRAPPER_KEYS if isinstance(obj.get(k), Mapping)), None)
        if key is None:
            break
        obj = obj[key]
    found = f'a dict with keys {sorted(map(str, obj))[:MAX_LISTED_KEYS]}' if isinstance(obj, Mapping) else type(obj)
    raise CheckpointError(
        f'no state dict in {path}: expected a dict of tensors, possibly under one of {list(WRAPPER_KEYS)}; '
        f'found {found}'
    )


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a weight file in any accepted format and return a state dict with ``LifeIQA`` names.

    Args:
        path: A safetensors file or a torch checkpoint, told apart by content, not by name.

    Returns:
        The state dict, on the CPU, without ``module.``/``_orig_mod.`` prefixes; authors'
        checkpoints converted.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        UnsafeCheckpointError: A pickle that torch's weights-only loader refuses.
        CheckpointError: The file is truncated or corrupt, or holds no state dict.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint {path} does not exist or is not a file')
    raw = _read_safetensors(path) if is_safetensors_file(path) else _read_pickle(path)
    state_dict = clean_state_dict(_unwrap(raw, path))
    if not is_authors_state_dict(state_dict):
        return state_dict
    try:
        return convert_authors_state_dict(state_dict)
    except ValueError as error:
        raise CheckpointError(f"cannot convert the authors' checkpoint {path}: {error}") from None


def _metadata(path: Path) -> dict[str, str]:
    """The metadata of a safetensors file ({} for a torch pickle or a file without any)."""
    if not is_safetensors_file(path):
        return {}
    try:
        with safe_open(path, framework='pt') as f:
            return f.metadata() or {}
    except SafetensorError as error:
        raise CheckpointError(f'cannot read {path}: the safetensors file is truncated or corrupt ({error})') from None


def read_config(path: str | os.PathLike) -> LifeIQAConfig | None:
    """The ``LifeIQA`` config recorded in a file written by :func:`save_weights`, or None if there is none.

    Raises:
        CheckpointError: The recorded config is not valid JSON or names unknown fields.
    """
    recorded = _metadata(Path(path)).get(CONFIG_METADATA_KEY)
    if recorded is None:
        return None
    try:
        return LifeIQAConfig.from_dict(json.loads(recorded))
    except ValueError as error:  # JSONDecodeError and ConfigError are ValueErrors
        raise CheckpointError(f'{path} records a config that cannot be read: {error}') from None


def tensors_sha256(state_dict: Mapping[str, torch.Tensor]) -> str:
    """Hex SHA-256 of a state dict's names, dtypes, shapes and bytes, in sorted name order."""
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        tensor = state_dict[key].detach().cpu().contiguous()
        digest.update(f'{key}|{tensor.dtype}|{tuple(tensor.shape)}|'.encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save_weights(model: nn.Module, path: str | os.PathLike, config: LifeIQAConfig | None = None) -> Path:
    """Write ``model``'s state dict as a safetensors file that records its config and a hash of its tensors.

    The file is written under a temporary name in the same folder and renamed, so a failed
    write leaves no partial file behind; it gets the permissions of any new file.

    Args:
        model: The model to save (a ``LifeIQA``).
        path: Output file; must end in ``.safetensors``.
        config: The config to record; default: ``model.config``.

    Returns:
        ``path`` as a Path.
    """
    path = Path(path)
    if path.suffix != '.safetensors':
        raise ValueError(f'weights are saved as safetensors: the file name must end in .safetensors, got {path}')
    tensors = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}
    metadata = {
        CONFIG_METADATA_KEY: json.dumps((config or model.config).to_dict()),
        TENSORS_HASH_KEY: tensors_sha256(tensors),
    }
    tmp_path = path.with_name(f'.{path.name}.{os.getpid()}.tmp')
    try:
        with open(tmp_path, 'wb') as f:  # open() gives a new file's usual permissions (safetensors' own: 0600)
            f.write(serialize(tensors, metadata=metadata))
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)
    return path


def _listed(keys: list[str]) -> str:
    shown = ', '.join(keys[:MAX_LISTED_KEYS])
    return shown + (f', ... and {len(keys) - MAX_LISTED_KEYS} more' if len(keys) > MAX_LISTED_KEYS else '')


def _mismatch_message(source: str | Path, missing: list[str], unexpected: list[str], shapes: list[str]) -> str:
    sections = {'missing keys': missing, 'unexpected keys': unexpected, 'shape mismatches': shapes}
    problems = ''.join(f'\n  {title} ({len(items)}): {_listed(items)}' for title, items in sections.items() if items)
    hint = (
        'The model was probably built with a different config than the weights were saved from '
        '(e.g. backbone, num_experts, embed_dim, depth, num_queries, learnable_adjacency).'
    )
    recorded = read_config(source) if isinstance(source, Path) else None
    if recorded is not None:
        hint += f' The file records the config {recorded.to_dict()}.'
    return f'weights from {source} do not fit the model:{problems}\n{hint}'


def load_state_dict_strict(
    model: nn.Module, state_dict: Mapping[str, torch.Tensor], source: str | Path, hash_checked: bool = False
) -> None:
    """Load ``state_dict`` into ``model``; every key must be present with the model's shape.

    Keys of non-persistent backbone buffers (``relative_position_index``, ``attn_mask``: older
    timm versions saved them) are dropped when the model does not keep them.

    Args:
        model: Target model.
        state_dict: Weights with the model's names.
        source: Where the weights come from, for the error message; a safetensors file that
            records its config adds that config to the message.
        hash_checked: The file's own sha256 was verified already (a weight set's file): its
            tensors need no second hash.

    Raises:
        WeightsMismatchError: Missing or unexpected keys or different shapes; one message lists
            them all, with a hint that the model config differs from the file's.
        CheckpointError: A weight holds NaN or infinite values, or the tensors differ from the
            hash the file recorded when it was saved (:func:`check_tensors_hash`).
        WeightsMismatchError: The file records a config that differs from the model's
            (:func:`check_recorded_config`; checked after the keys and shapes).
    """
    if isinstance(source, Path) and not hash_checked:
        check_tensors_hash(state_dict, source)  # as read: before any key is dropped below
    expected = model.state_dict()
    transient = {name for name, _ in model.named_buffers() if name.startswith('backbone.')} - set(expected)
    state_dict = {key: value for key, value in state_dict.items() if key not in transient}
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    shapes = [
        f'{key}: model {tuple(expected[key].shape)}, file {tuple(value.shape)}'
        for key, value in state_dict.items()
        if key in expected and value.shape != expected[key].shape
    ]
    if missing or unexpected or shapes:
        raise WeightsMismatchError(_mismatch_message(source, missing, unexpected, shapes))
    non_finite = [key for key, value in state_dict.items() if value.is_floating_point() and not value.isfinite().all()]
    if non_finite:
        raise CheckpointError(f'weights from {source} hold NaN or infinite values in {_listed(non_finite)}')
    if isinstance(source, Path):
        check_recorded_config(model, source)
    model.load_state_dict(state_dict, strict=True)


def load_weights_into(model: nn.Module, weight_set: str | None = None, path: str | os.PathLike | None = None) -> Path:
    """Find, read and strictly load a weight file into ``model``.

    Args:
        model: A ``LifeIQA`` model.
        weight_set: Registry name of the weight set; None means the default set ``'lifeiqa'``.
        path: Weight file or URL to use instead of the weight set's file.

    Returns:
        The file that was loaded.

    Raises:
        WeightsNotFoundError: No file found (the message says where it looked and what to do).
        CheckpointError: The file cannot be read, does not fit the model, or records a config
            that differs from the model's.
    """
    file = resolve_weight_file(weight_set, path)
    registered = path is None and get_weight_set(weight_set or DEFAULT_WEIGHT_SET).sha256 is not None
    load_state_dict_strict(model, read_state_dict(file), source=file, hash_checked=registered)
    return file


def check_tensors_hash(state_dict: Mapping[str, torch.Tensor], file: Path) -> None:
    """Compare a file's tensors with the hash :func:`save_weights` recorded in it (if any).

    Catches damage inside the tensors, which no shape check sees and which a file given by path
    (not found through a weight set, whose sha256 is known) would otherwise load silently.

    Raises:
        CheckpointError: The tensors differ from the recorded hash.
    """
    recorded = _metadata(file).get(TENSORS_HASH_KEY)
    if recorded is not None and tensors_sha256(state_dict) != recorded:
        raise CheckpointError(
            f'the tensors in {file} differ from the hash recorded when it was saved: the file is damaged; '
            'get a fresh copy'
        )


def check_recorded_config(model: nn.Module, file: Path) -> None:
    """Compare the config a weight file records (if any) with the model's.

    Fields that no tensor shape reveals (``crop_size``, ``test_sample``, ``working_size``, ...)
    would otherwise change every score silently. The scoring-protocol fields the model's caller
    chose explicitly (``model.chosen_protocol``, e.g. ``create_metric('lifeiqa',
    working_size=None)``) are the caller's choice, not a mismatch.

    Raises:
        WeightsMismatchError: The configs differ; the message names each field, both values.
    """
    recorded = read_config(file)
    built = getattr(model, 'config', None)
    if recorded is None or not isinstance(built, LifeIQAConfig):
        return
    differing = recorded.differences(built, ignore=getattr(model, 'chosen_protocol', ()))
    if differing:
        raise WeightsMismatchError(
            f'weights from {file} were saved from a model built differently (file vs model): '
            f'{", ".join(differing)}. Build the model with the values the file records '
            "(or leave those options at the weight set's)."
        )
