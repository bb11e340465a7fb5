"""A torch ``Dataset`` of image files whose items are decoded, checked and prepared in its workers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from pyiqa_lifeiqa.io import ImageReadError, load_image

# prepare(image (1, 3, H, W) in [0, 1]) -> what the scorer takes; raises ValueError for an unusable image
Prepare = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class DecodedFile:
    """One file of an :class:`ImageFiles` dataset.

    Attributes:
        index: Position of the file in the dataset.
        path: The file.
        data: The prepared image, or None if the file could not be used.
        error: Why the file could not be used, or None.
    """

    index: int
    path: Path
    data: torch.Tensor | None = None
    error: str | None = None


class ImageFiles(Dataset):
    """Image files, read with :func:`~pyiqa_lifeiqa.io.load_image` and passed through ``prepare``.

    Args:
        files: The image files.
        prepare: Applied to each decoded image (in the worker that decoded it); identity if None.
        max_pixels: The pixel limit of :func:`~pyiqa_lifeiqa.io.open_image` (None: PIL's).
    """

    def __init__(self, files: Sequence[Path], prepare: Prepare | None = None, max_pixels: int | None = None):
        self.files = list(files)
        self.prepare = prepare
        self.max_pixels = max_pixels

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> DecodedFile:
        path = self.files[index]
        try:
            image = load_image(path, self.max_pixels)
            return DecodedFile(index, path, self.prepare(image) if self.prepare else image)
        except ImageReadError as error:
            return DecodedFile(index, path, error=error.reason)
        except ValueError as error:  # prepare refused the image (e.g. too small for the metric)
            return DecodedFile(index, path, error=str(error))


def _one_thread(_worker_id: int) -> None:
    # Each worker decodes one file at a time; intra-op threads would only compete with the model's.
    torch.set_num_threads(1)


def file_loader(dataset: ImageFiles, batch_size: int, workers: int) -> DataLoader:
    """A loader of lists of :class:`DecodedFile` in the dataset's order, decoded by ``workers`` processes (0: here)."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=False,
        num_workers=workers,
        collate_fn=list,
        worker_init_fn=_one_thread if workers else None,
    )
