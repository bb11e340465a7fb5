"""Where a weight set's file is, or could come from, found with file-system look-ups only.

No torch and no pyiqa here: pyiqa's config loading asks this which lifeiqa metrics to list
(:func:`available`), so it must stay a few ``stat`` calls. :mod:`~pyiqa_lifeiqa.weights.resolve`
searches the same places in the same order and checks what it finds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyiqa_lifeiqa.weights.registry import WeightSet

ENV_WEIGHTS_DIR = 'LIFEIQA_WEIGHTS_DIR'
OFFLINE_ENV_VAR = 'HF_HUB_OFFLINE'
PACKAGE_WEIGHTS_DIR = Path(__file__).resolve().parent / 'files'


def _pyiqa_cache_dir() -> Path:
    """pyiqa's cache, ``torch.hub.get_dir()/pyiqa``, found as torch finds it when torch is not loaded yet."""
    hub = sys.modules.get('torch.hub')
    if hub is not None:
        return Path(hub.get_dir()) / 'pyiqa'
    cache = os.getenv('XDG_CACHE_HOME', os.path.join('~', '.cache'))
    return Path(os.path.expanduser(os.getenv('TORCH_HOME', os.path.join(cache, 'torch')))) / 'hub' / 'pyiqa'


CACHE_DIR = _pyiqa_cache_dir()


def offline_reason() -> str | None:
    """The setting that forbids downloads (``'HF_HUB_OFFLINE=1'``), or None if downloads are allowed."""
    value = os.environ.get(OFFLINE_ENV_VAR, '')
    return f'{OFFLINE_ENV_VAR}={value}' if value.strip().lower() in ('1', 'true', 'yes', 'on') else None


def search_dirs() -> list[tuple[str, Path | None]]:
    """(label, folder) in search order; folder None when ``LIFEIQA_WEIGHTS_DIR`` is not set."""
    env_dir = os.environ.get(ENV_WEIGHTS_DIR)
    return [
        (f'${ENV_WEIGHTS_DIR}', Path(env_dir).expanduser() if env_dir else None),
        ('weights shipped in pyiqa_lifeiqa', PACKAGE_WEIGHTS_DIR),
        ('pyiqa cache', CACHE_DIR),
    ]


def candidates(weight_set: WeightSet) -> list[tuple[str, Path | None]]:
    """(place, the weight set's file there) in search order; the file is None where the place is not set."""
    return [(label, None if folder is None else folder / weight_set.filename) for label, folder in search_dirs()]


def available(weight_set: WeightSet) -> str | None:
    """Where the weight set's file can be had, unchecked: ``'<place>: <path>'`` for the first local
    file, ``'download: <url>'`` when it has a URL and downloads are allowed, None when neither."""
    for label, file in candidates(weight_set):
        if file is not None and file.is_file():
            return f'{label}: {file}'
    if weight_set.url is not None and not offline_reason():
        return f'download: {weight_set.url}'
    return None
