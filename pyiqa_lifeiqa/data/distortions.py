"""KADID-10k-like image distortions at a continuous severity.

Every distortion maps an RGB ``float32`` image in [0, 1] (``H x W x 3``), a severity ``t`` in
[0, 1] (0 = mildest level, 1 = strongest) and a numpy ``Generator`` to a distorted image of the
same shape. :func:`distort` wraps them with ``uint8`` input and output. Random choices (noise
fields, blur angles, patch positions) come only from the generator, so a generator seeded the
same way for every level of a series gives the same random pattern at growing strength.

Parameters are in pixels and were tuned on 384x512 images (KADID-10k's size). The types follow
KADID-10k (Lin et al., 2019) plus down-up resampling, JPEG and noise at everyday levels and composed
chains; the implementations are OpenCV, Pillow and numpy operations, not the KADID MATLAB code.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

Distortion = Callable[[np.ndarray, float, np.random.Generator], np.ndarray]

DISTORTIONS: dict[str, Distortion] = {}


def _register(name: str) -> Callable[[Distortion], Distortion]:
    def add(fn: Distortion) -> Distortion:
        DISTORTIONS[name] = fn
        return fn

    return add


def severities(levels: int) -> list[float]:
    """Severities of ``levels`` levels, evenly spaced from mildest (0) to strongest (1); one level is 0.5."""
    if levels < 1:
        raise ValueError(f'levels must be at least 1, got {levels}')
    return [0.5] if levels == 1 else np.linspace(0.0, 1.0, levels).tolist()


def distort(image: np.ndarray, name: str, severity: float, rng: np.random.Generator) -> np.ndarray:
    """Apply the distortion ``name`` to a ``uint8`` RGB image.

    Args:
        image: ``H x W x 3`` ``uint8`` RGB image.
        name: A key of :data:`DISTORTIONS`.
        severity: In [0, 1]; 0 is the mildest level, 1 the strongest.
        rng: Source of every random choice of the distortion.

    Returns:
        The distorted ``H x W x 3`` ``uint8`` image.
    """
    if name not in DISTORTIONS:
        raise KeyError(f'unknown distortion {name!r}; choose from {", ".join(DISTORTIONS)}')
    if not 0.0 <= severity <= 1.0:
        raise ValueError(f'severity must be in [0, 1], got {severity}')
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'expected an H x W x 3 uint8 image, got {image.dtype} {image.shape}')
    out = DISTORTIONS[name](image.astype(np.float32) / 255.0, severity, rng)
    return _to_uint8(out)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def _lerp(low: float, high: float, t: float) -> float:
    return low + (high - low) * t


def _geom(low: float, high: float, t: float) -> float:
    return low * (high / low) ** t


def _odd(size: float) -> int:
    return int(np.ceil(size)) // 2 * 2 + 1


def _filter(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return cv2.filter2D(image, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)


def _via_pil(image: np.ndarray, fn: Callable[[Image.Image], Image.Image]) -> np.ndarray:
    return np.asarray(fn(Image.fromarray(_to_uint8(image))).convert('RGB'), dtype=np.float32) / 255.0


def _encode_decode(image: np.ndarray, **save_args) -> np.ndarray:
    def codec(pil: Image.Image) -> Image.Image:
        buffer = io.BytesIO()
        pil.save(buffer, **save_args)
        return Image.open(io.BytesIO(buffer.getvalue()))

    return _via_pil(image, codec)


def _luma(image: np.ndarray) -> np.ndarray:
    return image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _scale_lab(image: np.ndarray, lightness: float = 1.0, chroma: float = 1.0) -> np.ndarray:
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    lab[..., 0] *= lightness
    lab[..., 1:] *= chroma
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def _resize(image: np.ndarray, width: int, height: int, interpolation: int) -> np.ndarray:
    return cv2.resize(image, (max(1, width), max(1, height)), interpolation=interpolation)


# ---- blur ---------------------------------------------------------------------------------


@_register('gaussian_blur')
def gaussian_blur(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian blur, sigma 0.7 to 6 px."""
    return cv2.GaussianBlur(image, (0, 0), _geom(0.7, 6.0, t), borderType=cv2.BORDER_REFLECT)


@_register('lens_blur')
def lens_blur(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Defocus: a uniform disk kernel of radius 1.5 to 9 px."""
    radius = _geom(1.5, 9.0, t)
    r = int(np.ceil(radius))
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    return _filter(image, (x**2 + y**2 <= radius**2).astype(np.float32))


@_register('motion_blur')
def motion_blur(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Linear motion blur of 3 to 30 px at a random angle."""
    size = _odd(_geom(3.0, 30.0, t))
    kernel = np.zeros((size, size), np.float32)
    kernel[size // 2, :] = 1.0
    rotation = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), rng.uniform(0.0, 180.0), 1.0)
    return _filter(image, cv2.warpAffine(kernel, rotation, (size, size), flags=cv2.INTER_LINEAR))


# ---- colour -------------------------------------------------------------------------------


@_register('color_diffusion')
def color_diffusion(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian blur of the Lab chroma channels only, sigma 1.5 to 16 px."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    lab[..., 1:] = cv2.GaussianBlur(lab[..., 1:], (0, 0), _geom(1.5, 16.0, t), borderType=cv2.BORDER_REFLECT)
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


@_register('color_shift')
def color_shift(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Misregistered channels: green and blue shifted 1 to 12 px in opposite random directions."""
    angle = rng.uniform(0.0, 2.0 * np.pi)
    dx, dy = _geom(1.0, 12.0, t) * np.array([np.cos(angle), np.sin(angle)])
    out = image.copy()
    for channel, sign in ((1, 1.0), (2, -1.0)):
        shift = np.float32([[1, 0, sign * dx], [0, 1, sign * dy]])
        out[..., channel] = cv2.warpAffine(
            image[..., channel], shift, image.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
    return out


@_register('color_quantization')
def color_quantization(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Median-cut palette of 48 down to 4 colours, no dithering."""
    colors = round(_geom(48.0, 4.0, t))
    return _via_pil(image, lambda pil: pil.quantize(colors, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE))


@_register('desaturate')
def desaturate(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Blend towards grey: 30 % to 100 % of the way."""
    grey = _luma(image)[..., None]
    return grey + (1.0 - _lerp(0.3, 1.0, t)) * (image - grey)


@_register('oversaturate')
def oversaturate(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Lab chroma multiplied by 1.5 to 5."""
    return _scale_lab(image, chroma=_geom(1.5, 5.0, t))


@_register('color_block')
def color_block(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """2 to 40 uniformly coloured 24 px squares at random places."""
    height, width = image.shape[:2]
    block = min(24, height, width)
    most = 40
    ys = rng.integers(0, height - block + 1, most)
    xs = rng.integers(0, width - block + 1, most)
    colors = rng.random((most, 3), dtype=np.float32)
    out = image.copy()
    for y, x, color in list(zip(ys, xs, colors, strict=True))[: round(_lerp(2, most, t))]:
        out[y : y + block, x : x + block] = color
    return out


# ---- compression --------------------------------------------------------------------------


@_register('jpeg')
def jpeg(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Pillow JPEG, quality 40 down to 3 (4:2:0 chroma subsampling)."""
    return _encode_decode(image, format='JPEG', quality=round(_geom(40.0, 3.0, t)))


@_register('jpeg_mild')
def jpeg_mild(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Pillow JPEG at the qualities photographs are saved with, 90 down to 40 (4:2:0 chroma subsampling)."""
    return _encode_decode(image, format='JPEG', quality=round(_geom(90.0, 40.0, t)))


@_register('jpeg2000')
def jpeg2000(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Pillow (OpenJPEG) JPEG 2000 at compression ratio 20 to 400."""
    return _encode_decode(image, format='JPEG2000', quality_mode='rates', quality_layers=[_geom(20.0, 400.0, t)])


# ---- noise --------------------------------------------------------------------------------


@_register('gaussian_noise')
def gaussian_noise(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Additive white Gaussian noise, independent per channel, sigma 0.01 to 0.15."""
    return image + _geom(0.01, 0.15, t) * rng.standard_normal(image.shape, dtype=np.float32)


@_register('noise_mild')
def noise_mild(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Additive white Gaussian noise at the everyday levels of a camera sensor, sigma 0.008 to 0.04 (2 to 10 of 255)."""
    return image + _geom(0.008, 0.04, t) * rng.standard_normal(image.shape, dtype=np.float32)


@_register('color_noise')
def color_noise(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """White Gaussian noise on the YCrCb chroma channels only, sigma 0.02 to 0.25."""
    ycc = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)
    ycc[..., 1:] += _geom(0.02, 0.25, t) * rng.standard_normal((*image.shape[:2], 2), dtype=np.float32)
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)


@_register('impulse_noise')
def impulse_noise(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Salt-and-pepper noise on 0.3 % to 10 % of the pixels (all channels)."""
    hit = rng.random(image.shape[:2]) < _geom(0.003, 0.1, t)
    salt = rng.random(image.shape[:2]) < 0.5
    out = image.copy()
    out[hit] = salt[hit, None].astype(np.float32)
    return out


@_register('speckle_noise')
def speckle_noise(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Multiplicative Gaussian noise ``x * (1 + n)``, sigma 0.05 to 0.6."""
    return image * (1.0 + _geom(0.05, 0.6, t) * rng.standard_normal(image.shape, dtype=np.float32))


@_register('denoise')
def denoise(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise (sigma 0.03 to 0.2) removed again by OpenCV's non-local means: smeared detail."""
    sigma = _geom(0.03, 0.2, t)
    noisy = _to_uint8(image + sigma * rng.standard_normal(image.shape, dtype=np.float32))
    strength = 255.0 * sigma
    return cv2.fastNlMeansDenoisingColored(noisy, None, strength, strength, 7, 21).astype(np.float32) / 255.0


# ---- brightness and contrast --------------------------------------------------------------


@_register('brighten')
def brighten(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Gamma curve ``x ** (1 / g)``, g 1.2 to 3.5."""
    return image ** (1.0 / _lerp(1.2, 3.5, t))


@_register('darken')
def darken(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Gamma curve ``x ** g``, g 1.2 to 3.5."""
    return image ** _lerp(1.2, 3.5, t)


@_register('mean_shift')
def mean_shift(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """A constant 0.04 to 0.35 added or (random sign) subtracted, clipped."""
    return image + rng.choice([-1.0, 1.0]) * _lerp(0.04, 0.35, t)


@_register('contrast')
def contrast(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Contrast reduced towards the mean grey level, to 75 % down to 15 %."""
    mean = image.mean()
    return mean + _lerp(0.75, 0.15, t) * (image - mean)


@_register('sharpen')
def sharpen(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Over-sharpening: unsharp mask (sigma 1.5 px) of amount 1 to 8."""
    blurred = cv2.GaussianBlur(image, (0, 0), 1.5, borderType=cv2.BORDER_REFLECT)
    return image + _geom(1.0, 8.0, t) * (image - blurred)


@_register('posterize')
def posterize(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Uniform quantisation of each channel to 16 down to 3 levels."""
    steps = round(_geom(16.0, 3.0, t)) - 1
    return np.round(image * steps) / steps


# ---- spatial ------------------------------------------------------------------------------


@_register('jitter')
def jitter(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Each pixel sampled from a random offset of up to 0.6 to 5 px (uniform per axis)."""
    height, width = image.shape[:2]
    offsets = rng.uniform(-1.0, 1.0, (2, height, width)).astype(np.float32) * _geom(0.6, 5.0, t)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return cv2.remap(image, xs + offsets[0], ys + offsets[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


@_register('patch_shift')
def patch_shift(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Non-eccentricity patches: 5 to 120 random 16 px patches replaced by a neighbour 4-16 px away."""
    height, width = image.shape[:2]
    patch, most, reach = min(16, height // 4, width // 4), 120, 16
    ys = rng.integers(reach, height - patch - reach + 1, most)
    xs = rng.integers(reach, width - patch - reach + 1, most)
    shifts = rng.integers(4, reach + 1, (most, 2)) * rng.choice([-1, 1], (most, 2))
    out = image.copy()
    for y, x, (dy, dx) in list(zip(ys, xs, shifts, strict=True))[: round(_geom(5, most, t))]:
        out[y : y + patch, x : x + patch] = image[y + dy : y + dy + patch, x + dx : x + dx + patch]
    return out


def _down_up(image: np.ndarray, factor: float, upsampling: int) -> np.ndarray:
    """Area down-sampling by ``factor``, then up-sampling back to the image's size with ``upsampling``."""
    height, width = image.shape[:2]
    small = _resize(image, round(width / factor), round(height / factor), cv2.INTER_AREA)
    return _resize(small, width, height, upsampling)


@_register('pixelate')
def pixelate(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Blocks of 2 to 16 px: area down-sampling, then nearest-neighbour up-sampling."""
    return _down_up(image, _geom(2.0, 16.0, t), cv2.INTER_NEAREST)


@_register('resample')
def resample(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Down-scaling by 1.5 to 8 (area), then bilinear up-scaling back."""
    return _down_up(image, _geom(1.5, 8.0, t), cv2.INTER_LINEAR)


# ---- composed -----------------------------------------------------------------------------


@_register('composed')
def composed(image: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Everyday degradation chains: 1 to 3 of blur, resampling, noise and JPEG, in that order.

    As in ARNIQA's degradation model and Real-ESRGAN's pipeline, the operations a series uses and
    their relative strengths are drawn from ``rng`` (so every level of a series applies the same
    chain), and the severity scales them all: Gaussian blur sigma 0.5 to 3 px, down-up resampling
    by 1.25 to 4, Gaussian noise sigma 0.005 to 0.08, JPEG quality 90 down to 10.
    """
    chosen = np.sort(rng.choice(4, size=int(rng.integers(1, 4)), replace=False))
    strengths = t * rng.uniform(0.5, 1.0, size=4)
    noise = rng.standard_normal(image.shape, dtype=np.float32)
    for step in chosen:
        s = strengths[step]
        if step == 0:
            image = cv2.GaussianBlur(image, (0, 0), _geom(0.5, 3.0, s), borderType=cv2.BORDER_REFLECT)
        elif step == 1:
            image = _down_up(image, _geom(1.25, 4.0, s), cv2.INTER_LINEAR)
        elif step == 2:
            image = image + _geom(0.005, 0.08, s) * noise
        else:
            image = _encode_decode(image, format='JPEG', quality=round(_geom(90.0, 10.0, s)))
    return image
