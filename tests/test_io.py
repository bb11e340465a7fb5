"""Specification of image finding and reading (pyiqa_lifeiqa/io.py)."""

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from pyiqa.utils.img_util import imread2tensor

from pyiqa_lifeiqa.io import ImageReadError, find_image_files, load_image, open_image


def noise_image(path: Path, size: tuple[int, int] = (40, 30), mode: str = 'RGB', seed: int = 0) -> Path:
    """Save a random image of ``size`` (width, height) in ``mode``; the format follows the suffix."""
    channels = {'RGB': 3, 'RGBA': 4, 'L': 1}[mode]
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    Image.fromarray(pixels.squeeze(-1) if channels == 1 else pixels, mode).save(path)
    return path


def truncated_jpeg(path: Path) -> Path:
    """A real JPEG cut off in the middle of its pixel data."""
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buffer, 'JPEG')
    data = buffer.getvalue()
    path.write_bytes(data[: len(data) // 2])
    return path


def test_rgb_image_is_read_exactly_as_pyiqa_reads_it(tmp_path):
    path = noise_image(tmp_path / 'a.png')
    tensor = load_image(path)
    assert tensor.shape == (1, 3, 30, 40)
    assert tensor.dtype == torch.float32
    assert torch.equal(tensor[0], imread2tensor(str(path), rgb=True))


def test_grayscale_image_becomes_three_equal_channels(tmp_path):
    tensor = load_image(noise_image(tmp_path / 'gray.png', mode='L'))
    assert tensor.shape == (1, 3, 30, 40)
    assert torch.equal(tensor[:, 0], tensor[:, 1]) and torch.equal(tensor[:, 1], tensor[:, 2])


def test_alpha_channel_is_dropped(tmp_path):
    path = noise_image(tmp_path / 'rgba.png', mode='RGBA')
    tensor = load_image(path)
    assert tensor.shape == (1, 3, 30, 40)
    rgb = torch.from_numpy(np.asarray(Image.open(path))[..., :3].copy()).permute(2, 0, 1).float() / 255
    assert torch.equal(tensor[0], rgb)


def test_values_lie_in_0_1(tmp_path):
    tensor = load_image(noise_image(tmp_path / 'a.jpg'))
    assert tensor.min() >= 0 and tensor.max() <= 1


@pytest.mark.parametrize(
    ('make', 'reason'),
    [
        (lambda p: None, 'no such file'),
        (lambda p: p.write_bytes(b''), 'empty file'),
        (lambda p: p.write_text('not pixels at all'), 'not an image'),
        (truncated_jpeg, 'truncated'),
        (Path.mkdir, 'is a folder'),
    ],
    ids=['missing', 'empty', 'text', 'truncated', 'folder'],
)
def test_unreadable_files_raise_image_read_error_naming_file_and_reason(tmp_path, make, reason):
    path = tmp_path / 'bad.jpg'
    make(path)
    with pytest.raises(ImageReadError, match=reason) as error:
        load_image(path)
    assert error.value.path == path
    assert str(path) in str(error.value)
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize('pixels', [41 * 40, 60 * 60], ids=['over-limit (PIL warns)', 'over-twice-limit (PIL raises)'])
def test_images_over_the_pixel_limit_are_refused_as_decompression_bombs(tmp_path, monkeypatch, pixels):
    path = noise_image(tmp_path / 'big.png', size=(pixels // 40, 40))
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 1000)
    with pytest.raises(ImageReadError, match='decompression bomb'):
        load_image(path)


def test_open_image_reads_the_size_without_decoding(tmp_path):
    path = truncated_jpeg(tmp_path / 'cut.jpg')
    with open_image(path) as img:
        assert img.size == (64, 64)


def test_reading_changes_no_file(tmp_path):
    good, bad = noise_image(tmp_path / 'a.png'), truncated_jpeg(tmp_path / 'cut.jpg')
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (good, bad)}
    load_image(good)
    with pytest.raises(ImageReadError):
        load_image(bad)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (good, bad)} == before


def test_folders_are_searched_recursively_sorted_by_image_extension(tmp_path):
    for name in ('b.png', 'a/z.JPG', 'a/deep/c.webp', 'notes.txt', 'a/scores.csv', 'noext'):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b'x')
    (tmp_path / 'folder.png').mkdir()  # a folder with an image suffix is not a file
    assert find_image_files(tmp_path) == [tmp_path / 'a/deep/c.webp', tmp_path / 'a/z.JPG', tmp_path / 'b.png']


def test_a_file_is_returned_whatever_its_extension(tmp_path):
    path = tmp_path / 'photo.raw'
    path.write_bytes(b'x')
    assert find_image_files(path) == [path]


def test_a_missing_path_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match='no such file or folder'):
        find_image_files(tmp_path / 'nowhere')


def test_truncated_file_is_refused_even_when_pil_is_told_to_accept_them(tmp_path, monkeypatch):
    from PIL import ImageFile

    from pyiqa_lifeiqa.io import ImageReadError, load_image

    Image.new('RGB', (64, 64), 'red').save(tmp_path / 'full.jpg', quality=95)
    data = (tmp_path / 'full.jpg').read_bytes()
    (tmp_path / 'cut.jpg').write_bytes(data[: len(data) // 2])
    monkeypatch.setattr(ImageFile, 'LOAD_TRUNCATED_IMAGES', True)  # what importing pyiqa's AVA dataset does
    with pytest.raises(ImageReadError, match='truncated'):
        load_image(tmp_path / 'cut.jpg')
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


def test_a_16_bit_grayscale_png_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 255, 256], [32768, 65000, 65535]], dtype=np.uint16)
    path = tmp_path / 'gray16.png'
    Image.fromarray(values).save(path)
    with Image.open(path) as image:
        assert image.mode in ('I;16', 'I')  # how PIL opens it
    x = load_image(path)
    assert x.shape == (1, 3, 2, 3) and x.dtype == torch.float32
    assert torch.allclose(x[0, 0], torch.from_numpy(values / 65535.0).float())
    assert torch.equal(x[0, 0], x[0, 2])


def test_max_pixels_raises_lowers_or_removes_the_pixel_limit(tmp_path, monkeypatch):
    path = noise_image(tmp_path / 'big.png', size=(41, 40))  # 1,640 pixels
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 1000)
    assert load_image(path, max_pixels=2000).shape == (1, 3, 40, 41)
    assert load_image(path, max_pixels=0).shape == (1, 3, 40, 41)
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 10**6)
    with pytest.raises(ImageReadError, match='1640 pixels, over the limit of 1000'):
        load_image(path, max_pixels=1000)
    assert Image.MAX_IMAGE_PIXELS == 10**6  # PIL's own limit is left as it was
