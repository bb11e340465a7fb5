"""Shared pytest fixtures."""

from pathlib import Path
from types import SimpleNamespace

import pytest


@pytest.fixture
def weight_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """Empty weight folders in ``tmp_path`` replace every place weights are searched or cached.

    Returns a namespace with the folders ``env``, ``package`` (the package's shipped weights)
    and ``cache`` (pyiqa's cache). ``LIFEIQA_WEIGHTS_DIR`` is unset: set it to ``env`` to use it.
    """
    from pyiqa_lifeiqa.weights import resolve

    dirs = SimpleNamespace(**{name: tmp_path / f'weights_{name}' for name in ('env', 'package', 'cache')})
    for folder in vars(dirs).values():
        folder.mkdir()
    monkeypatch.delenv(resolve.ENV_WEIGHTS_DIR, raising=False)
    monkeypatch.setattr(resolve, 'PACKAGE_WEIGHTS_DIR', dirs.package)
    monkeypatch.setattr(resolve, 'CACHE_DIR', dirs.cache)
    return dirs


@pytest.fixture
def tiny_lifeiqa_config() -> dict:
    """A LifeIQA config that builds and runs in well under a second on a CPU (pass backbone_pretrain=False)."""
    return dict(backbone='resnet18', embed_dim=32, num_heads=4, num_experts=2, depth=2, test_sample=2)
