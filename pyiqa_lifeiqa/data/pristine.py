"""The pristine images a synthetic set starts from: a folder of images, or scikit-image's photographs."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from pyiqa_lifeiqa.io import IMAGE_EXTENSIONS

# Colour photographs shipped inside scikit-image (no pooch download); stereo_motorcycle is the left view.
SKIMAGE_PHOTOS = (
    'astronaut',
    'chelsea',
    'coffee',
    'rocket',
    'stereo_motorcycle',
    'hubble_deep_field',
    'immunohistochemistry',
    'retina',
)

Reference = tuple[str, Callable[[], Image.Image]]


def pristine_images(folder: str | Path | None) -> list[Reference]:
    """The pristine images of ``folder`` (sorted by file name) or scikit-image's photographs, as lazy loaders."""
    if folder is None:
        return [(name, partial(skimage_photo, name)) for name in SKIMAGE_PHOTOS]
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f'images folder {folder} does not exist or is not a folder')
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not paths:
        raise ValueError(f'images folder {folder} holds no images ({", ".join(IMAGE_EXTENSIONS)})')
    for path in paths:
        try:
            with Image.open(path) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError) as error:
            raise ValueError(f'cannot read image {path}: {error}') from error
    return [(path.stem, partial(_open_rgb, path)) for path in paths]


def _open_rgb(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).convert('RGB')


def skimage_photo(name: str) -> Image.Image:
    """One of scikit-image's bundled colour photographs (:data:`SKIMAGE_PHOTOS`) as an RGB image, offline."""
    import skimage.data

    image = getattr(skimage.data, name)()
    return Image.fromarray(image[0] if isinstance(image, tuple) else image).convert('RGB')
