"""The device a job runs on when none is named."""

from __future__ import annotations


def default_device() -> str:
    """``'cuda'`` if a CUDA device is available, else ``'cpu'``."""
    import torch

    return 'cuda' if torch.cuda.is_available() else 'cpu'
