"""Finding image files and reading them into the [0, 1] tensors that pyiqa metrics take.

Images are read as pyiqa reads them (PIL, converted to RGB, ``to_tensor``), so a score computed
from :func:`load_image` equals the one pyiqa computes from the same path, except for 16-bit
grayscale images: PIL's ``convert('RGB')`` clips their values above 255 to white, so they are
scaled from [0, 65535] here instead. Every failure raises
:class:`ImageReadError` naming the file and the reason; no file is ever written.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFile, UnidentifiedImageError
from torchvision.datasets.folder import IMG_EXTENSIONS
from torchvision.transforms.functional import to_tensor

# torchvision's image extensions, and GIF (its first frame is scored)
IMAGE_EXTENSIONS = (*IMG_EXTENSIONS, '.gif')


class ImageReadError(ValueError):
    """A file could not be read as an image.

    Attributes:
        path: The file.
        reason: Why it could not be read, in words.
    """

    def __init__(self, path: str | os.PathLike, reason: str):
        super().__init__(f'{path}: {reason}')
        self.path = Path(path)
        self.reason = reason


def find_image_files(path: str | os.PathLike) -> list[Path]:
    """The image files a path names.

    Args:
        path: A file (returned as is, whatever its extension) or a folder, searched recursively
            for files with an image extension (:data:`IMAGE_EXTENSIONS`, any case).

    Returns:
        The files, sorted (deterministic for a folder).

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.rglob('*') if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not path.exists():
        raise FileNotFoundError(f'no such file or folder: {path}')
    return [path]


def open_image(path: str | os.PathLike, max_pixels: int | None = None) -> Image.Image:
    """Open an image file lazily: its header is read and checked, its pixels are not decoded.

    Use it as a context manager (``with open_image(p) as img``) to close the file.

    Args:
        path: The image file.
        max_pixels: Refuse images of more pixels (possible decompression bombs); None: PIL's
            ``Image.MAX_IMAGE_PIXELS`` (89.5 M by default), 0: no limit.

    Returns:
        The opened PIL image.

    Raises:
        ImageReadError: The file is missing, a folder, empty, unreadable, not an image PIL can
            read, or over the pixel limit (PIL only warns up to twice its limit; this refuses).
    """
    path = Path(path)
    try:
        if path.is_dir():
            raise ImageReadError(path, 'is a folder, not an image file')
        if path.stat().st_size == 0:
            raise ImageReadError(path, 'empty file')
        limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels or None
        img = _open_unlimited(path)
    except FileNotFoundError:
        raise ImageReadError(path, 'no such file') from None
    except UnidentifiedImageError:
        raise ImageReadError(path, 'not an image (or a format PIL cannot read)') from None
    except OSError as error:
        raise ImageReadError(path, f'cannot read the file: {error.strerror or error}') from None
    if limit is not None and img.width * img.height > limit:
        img.close()
        raise ImageReadError(
            path,
            f'refused as a possible decompression bomb: {img.width}x{img.height} = {img.width * img.height} pixels, '
            f'over the limit of {limit} (max_pixels / --max-pixels raises it, 0 removes it)',
        )
    return img


def _open_unlimited(path: Path) -> Image.Image:
    """``Image.open`` without PIL's own pixel limit (:func:`open_image` applies its own)."""
    saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        return Image.open(path)
    finally:
        Image.MAX_IMAGE_PIXELS = saved


# PIL modes of 16-bit grayscale images (PNG, TIFF); 'I' is 32-bit but holds 16-bit PNG values.
SIXTEEN_BIT_MODES = ('I;16', 'I;16B', 'I;16L', 'I')
SIXTEEN_BIT_MAX = 65535


def load_image(path: str | os.PathLike, max_pixels: int | None = None) -> torch.Tensor:
    """Read an image file into an RGB tensor in [0, 1].

    Grayscale, palette, CMYK and alpha images are converted by PIL's ``convert('RGB')`` (alpha
    is dropped); 16-bit grayscale images are scaled from [0, 65535] to [0, 1] and repeated over
    the three channels. Truncated files are refused even where another library has switched on PIL's
    global ``ImageFile.LOAD_TRUNCATED_IMAGES`` (importing pyiqa's dataset modules does).

    Args:
        path: The image file.
        max_pixels: The pixel limit of :func:`open_image`.

    Returns:
        Float tensor of shape (1, 3, H, W).

    Raises:
        ImageReadError: See :func:`open_image`; also when the pixel data cannot be decoded
            (corrupt or truncated file).
    """
    with open_image(path, max_pixels) as img, _refuse_truncated():
        mode = img.mode
        try:
            pixels = np.asarray(img, dtype=np.float32) if mode in SIXTEEN_BIT_MODES else img.convert('RGB')
        except Exception as error:  # decoders of untrusted data fail in many ways: report them all as one
            raise ImageReadError(path, f'corrupt or truncated image data ({error})') from None
    if mode not in SIXTEEN_BIT_MODES:
        return to_tensor(pixels).unsqueeze(0)
    if pixels.min() < 0 or pixels.max() > SIXTEEN_BIT_MAX:
        raise ImageReadError(path, f'{mode} pixel values outside 0-{SIXTEEN_BIT_MAX}')
    return torch.from_numpy(pixels / SIXTEEN_BIT_MAX).expand(1, 3, *pixels.shape).contiguous()


@contextmanager
def _refuse_truncated() -> Iterator[None]:
    """Decode with PIL's default strictness, whatever the global flag says meanwhile."""
    saved, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved
