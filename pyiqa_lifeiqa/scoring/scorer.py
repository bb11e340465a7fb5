"""Scoring batches of decoded files with a pyiqa metric.

For a Life-IQA metric the data loader workers do everything but the network: they check each
image and take its crops as the arch's ``forward`` does
(:func:`~pyiqa_lifeiqa.archs.lifeiqa_arch.prepare_crops`), so the crops of a whole batch of
images, whatever their sizes, go through the network in one forward pass
(:meth:`~pyiqa_lifeiqa.archs.lifeiqa_arch.LifeIQA.score_crop_sets`). Any other no-reference
metric gets whole images, scored together where they share a size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import torch
from torch import nn

from pyiqa_lifeiqa.archs.lifeiqa_arch import LifeIQA, prepare_crops
from pyiqa_lifeiqa.scoring.files import DecodedFile, ImageFiles, Prepare, file_loader

# what scoring a batch gives each file: its score, or why it could not be scored
Outcome = float | str


class BatchScorer:
    """Scores lists of :class:`DecodedFile` with a pyiqa no-reference metric.

    Args:
        metric: A metric made by ``pyiqa.create_metric`` (not ``as_loss``).
    """

    def __init__(self, metric: nn.Module):
        self.metric = metric
        self.net = metric.net if isinstance(metric.net, LifeIQA) else None
        self.device = torch.device(metric.device)
        if self.net is not None:
            # channels-last convolutions run faster on CPUs and GPUs alike; scores change by < 1e-6
            self.net.backbone.to(memory_format=torch.channels_last)

    @property
    def prepare(self) -> Prepare | None:
        """What each data loader worker does to a decoded image (picklable), or None."""
        if self.net is None:
            return None
        return partial(_crops_only, crop_policy=self.net.crop_policy, dtype=self.net.mean.dtype)

    def __call__(self, batch: list[DecodedFile]) -> list[Outcome]:
        """Score a batch; a file that failed to decode keeps its error, and if scoring the batch
        together fails, each file is scored alone so that only the failing ones are lost."""
        usable = [item for item in batch if item.error is None]
        try:
            scores = dict(zip((item.index for item in usable), self._score(usable), strict=True))
        except (ValueError, RuntimeError):
            scores = {item.index: self._score_alone(item) for item in usable}
        return [item.error if item.error is not None else scores[item.index] for item in batch]

    def score_files(
        self,
        files: Sequence[Path],
        batch_size: int,
        workers: int,
        on_batch: Callable[[list[tuple[DecodedFile, Outcome]]], None],
        max_pixels: int | None = None,
    ) -> None:
        """Score files in order, ``batch_size`` at a time, decoded by ``workers`` processes (0: here).

        ``on_batch`` gets each batch's files and outcomes as soon as they are scored; larger
        images than ``max_pixels`` are refused (:func:`~pyiqa_lifeiqa.io.open_image`).
        """
        for batch in file_loader(ImageFiles(files, self.prepare, max_pixels), batch_size, workers):
            on_batch(list(zip(batch, self(batch), strict=True)))

    def _score_alone(self, item: DecodedFile) -> Outcome:
        try:
            return self._score([item])[0]
        except (ValueError, RuntimeError) as error:
            return str(error)

    def _score(self, items: list[DecodedFile]) -> list[Outcome]:
        return [_finite(score) for score in self._metric_scores(items)]

    @torch.inference_mode()
    def _metric_scores(self, items: list[DecodedFile]) -> list[float]:
        if not items:
            return []
        if self.net is not None:
            crops = torch.cat([item.data for item in items]).to(self.device)
            # the cuDNN settings pyiqa's InferenceModel scores under, so that scores match create_metric's
            with torch.backends.cudnn.flags(enabled=True, benchmark=False, deterministic=True):
                scores, _ = self.net.score_crop_sets(crops, [item.data.shape[0] for item in items])
            return scores.reshape(-1).tolist()
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for i, item in enumerate(items):
            by_shape.setdefault(tuple(item.data.shape), []).append(i)
        scores: list[float] = [0.0] * len(items)
        for positions in by_shape.values():
            images = torch.cat([items[i].data for i in positions]).to(self.device)
            for i, score in zip(positions, self.metric(images).reshape(-1).tolist(), strict=True):
                scores[i] = score
        return scores


def _finite(score: float) -> Outcome:
    return score if math.isfinite(score) else f'the metric gave a non-finite score ({score})'


def _crops_only(image: torch.Tensor, crop_policy: Callable, dtype: torch.dtype) -> torch.Tensor:
    """The crops (K, 3, crop, crop) of one image (1, C, H, W), as :meth:`LifeIQA.forward` takes them."""
    return prepare_crops(image, crop_policy, dtype)[0]
