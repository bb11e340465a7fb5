"""Specification of the image-file dataset (pyiqa_lifeiqa/scoring/files.py)."""

import numpy as np
import torch
from PIL import Image

from pyiqa_lifeiqa.io import load_image
from pyiqa_lifeiqa.scoring.files import ImageFiles, file_loader


def half(image: torch.Tensor) -> torch.Tensor:
    if image.shape[-1] < 20:
        raise ValueError('too narrow')
    return image / 2


def make_files(tmp_path):
    good = []
    for i in range(5):
        path = tmp_path / f'{i}.png'
        Image.fromarray(np.full((24, 30 + i, 3), 40 * i, dtype=np.uint8)).save(path)
        good.append(path)
    narrow = tmp_path / 'narrow.png'
    Image.fromarray(np.zeros((24, 10, 3), dtype=np.uint8)).save(narrow)
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(b'not a jpeg')
    return [good[0], broken, good[1], narrow, *good[2:]]


def test_items_come_in_order_prepared_or_with_the_reason_they_failed(tmp_path):
    files = make_files(tmp_path)
    for workers in (0, 2):
        items = [item for batch in file_loader(ImageFiles(files, half), 3, workers) for item in batch]
        assert [(item.index, item.path) for item in items] == list(enumerate(files))
        for item in items:
            if item.path.name == 'broken.jpg':
                assert item.data is None and 'not an image' in item.error
            elif item.path.name == 'narrow.png':
                assert item.data is None and item.error == 'too narrow'
            else:
                assert item.error is None
                assert torch.equal(item.data, load_image(item.path) / 2)


def test_without_prepare_items_are_the_decoded_images(tmp_path):
    files = make_files(tmp_path)[:1]
    (item,) = ImageFiles(files)
    assert torch.equal(item.data, load_image(files[0]))
