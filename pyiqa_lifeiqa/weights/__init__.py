"""Life-IQA weights: the registry of weight sets, finding their files, reading and writing them.

The names below are imported on first use, so ``pyiqa_lifeiqa.weights.registry`` can be read
without importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> submodule that defines it
_EXPORTS = {
    'DEFAULT_WEIGHT_SET': 'registry',
    'WEIGHT_SETS': 'registry',
    'WeightSet': 'registry',
    'get_weight_set': 'registry',
    'WeightsChecksumError': 'resolve',
    'WeightsNotFoundError': 'resolve',
    'resolve_weight_file': 'resolve',
    'CheckpointError': 'checkpoint',
    'UnsafeCheckpointError': 'checkpoint',
    'WeightsMismatchError': 'checkpoint',
    'load_state_dict_strict': 'checkpoint',
    'load_weights_into': 'checkpoint',
    'model_config': 'checkpoint',
    'read_config': 'checkpoint',
    'read_state_dict': 'checkpoint',
    'save_weights': 'checkpoint',
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    return getattr(importlib.import_module(f'{__name__}.{_EXPORTS[name]}'), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
