"""The pseudo-MOS of a synthetic set: pyiqa full-reference scores against the pristine image, fused.

The pseudo-MOS (higher = better): each metric is oriented so that higher is better (negated
where pyiqa's ``lower_better``), z-scored over the whole dataset, the z-scores are averaged, and
the average is min-max scaled over the dataset to [0, 1] (:func:`fuse_scores`). So 1 is the best
and 0 the worst image of one dataset, and values compare only within it. GMSD, VIF, MS-SSIM and
NLPD see luminance only, so a set labelled by them alone scores colour-only distortions
(``desaturate``, ``color_diffusion``) close to their pristine images; FSIM (its chromatic form)
and VSI also compare colour. MS-SSIM is pyiqa's, computed in float32 (see
:func:`_ms_ssim_float32`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and torch are imported where they are used: the CLI reads FR_METRICS cheaply
    import numpy as np
    import torch

# The metrics the shipped default model's set was labelled with: fast on a CPU, and VSI sees colour.
FR_METRICS = ('gmsd', 'nlpd', 'vsi')

Scorer = Callable[['torch.Tensor', 'torch.Tensor'], 'torch.Tensor']


def fuse_scores(raw: np.ndarray, lower_better: Sequence[bool]) -> np.ndarray:
    """Fuse raw FR scores into one pseudo-MOS in [0, 1], higher = better.

    Each metric (column) is negated if lower is better, z-scored over all rows (a constant
    column contributes 0), the z-scores are averaged per row, and the average is min-max
    scaled over all rows to [0, 1] (all 1 if every row is equal).

    Args:
        raw: ``rows x metrics`` raw scores.
        lower_better: Per metric, whether a lower raw score means better quality.

    Returns:
        The pseudo-MOS of each row.
    """
    import numpy as np

    raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim != 2 or raw.shape[1] != len(lower_better):
        raise ValueError(f'expected a rows x {len(lower_better)} score array, got shape {raw.shape}')
    if not np.isfinite(raw).all():
        raise ValueError('FR scores contain NaN or infinity')
    oriented = np.where(np.asarray(lower_better, dtype=bool), -raw, raw)
    spread = oriented.std(axis=0)
    fused = ((oriented - oriented.mean(axis=0)) / np.where(spread > 0, spread, 1.0)).mean(axis=1)
    span = fused.max() - fused.min()
    return (fused - fused.min()) / span if span > 0 else np.ones_like(fused)


def create_metrics(names: Sequence[str], device: str | torch.device) -> list[tuple[Scorer, bool]]:
    """Each named pyiqa FR metric as ``(scorer(distorted, reference), lower_better)``."""
    import pyiqa

    metrics = [pyiqa.create_metric(name, device=device) for name in names]
    return [
        (partial(_ms_ssim_float32, metric.net) if name == 'ms_ssim' else metric, metric.lower_better)
        for name, metric in zip(names, metrics, strict=True)
    ]


def check_metrics(names: list[str]) -> None:
    from pyiqa.default_model_configs import DEFAULT_CONFIGS

    if not names or len(set(names)) != len(names):
        raise ValueError(f'metrics must be distinct pyiqa FR metric names, got {names!r}')
    bad = [name for name in names if DEFAULT_CONFIGS.get(name, {}).get('metric_mode') != 'FR']
    if bad:
        raise ValueError(f'not a pyiqa full-reference metric: {", ".join(bad)} (default: {", ".join(FR_METRICS)})')


def _ms_ssim_float32(net: torch.nn.Module, distorted: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """pyiqa's MS-SSIM with its options, in float32.

    pyiqa's ``MS_SSIM.forward`` casts to float64, whose convolutions are about 8x slower on a
    CPU; in float32 the scores differ by about 1e-6.
    """
    from pyiqa.archs.ssim_arch import ms_ssim, preprocess_rgb

    x, y = (
        preprocess_rgb(image, net.test_y_channel, net.data_range, net.color_space) for image in (distorted, reference)
    )
    return ms_ssim(x, y, data_range=net.data_range, downsample=net.downsample, is_prod=net.is_prod)


def _to_tensor(pictures: list[np.ndarray], device: str | torch.device) -> torch.Tensor:
    import numpy as np
    import torch

    return torch.from_numpy(np.stack(pictures)).permute(0, 3, 1, 2).to(device=device, dtype=torch.float32) / 255.0


def score_against(
    scorers: list[tuple[Scorer, bool]], pictures: list[np.ndarray], pristine: np.ndarray, device: str | torch.device
) -> np.ndarray:
    """``len(pictures) x len(scorers)`` raw scores of ``pictures`` against ``pristine``."""
    import numpy as np
    import torch

    distorted = _to_tensor(pictures, device)
    reference = _to_tensor([pristine], device).expand_as(distorted)
    with torch.no_grad():
        scores = [scorer(distorted, reference).reshape(-1).double().cpu().numpy() for scorer, _ in scorers]
    return np.stack(scores, axis=1)
