"""Find the weight file of a weight set.

Search order:

1. ``path``, when given: a local file, or an http(s)/file URL downloaded into the cache.
2. The directory named by the environment variable ``LIFEIQA_WEIGHTS_DIR``.
3. The files shipped in this package (``pyiqa_lifeiqa/weights/files/``).
4. pyiqa's cache directory (``~/.cache/torch/hub/pyiqa``).
5. A download from the weight set's URL into that cache (``torch.hub.download_url_to_file``,
   which checks the SHA-256 before the file takes its name), unless ``HF_HUB_OFFLINE`` is set
   (the switch that also keeps timm's Hugging Face hub downloads off the network; pyiqa's own
   downloads ignore it).

A file found in 2-4 is checked against the weight set's size and SHA-256 when they are known.
A file given explicitly is the caller's choice and is not checked.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import urlparse

from torch.hub import download_url_to_file

from pyiqa_lifeiqa.weights import locate
from pyiqa_lifeiqa.weights.locate import ENV_WEIGHTS_DIR, OFFLINE_ENV_VAR, offline_reason
from pyiqa_lifeiqa.weights.registry import DEFAULT_WEIGHT_SET, WeightSet, get_weight_set

URL_SCHEMES = ('http', 'https', 'file')


class WeightsNotFoundError(FileNotFoundError):
    """No weight file could be found or downloaded; the message says where it looked and what to do."""


class WeightsChecksumError(ValueError):
    """A weight file does not have the size or SHA-256 its weight set records."""


def sha256sum(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, weight_set: WeightSet) -> None:
    """Check a file against the weight set's size and SHA-256 (those that are known).

    Raises:
        WeightsChecksumError: The size or hash differs; the message names the file, the expected
            and the actual value. The file is not touched.
    """
    if weight_set.size is not None and path.stat().st_size != weight_set.size:
        raise WeightsChecksumError(
            f'{path} does not match weight set {weight_set.name!r}: expected {weight_set.size} bytes, '
            f'got {path.stat().st_size} bytes'
        )
    if weight_set.sha256 is not None:
        actual = sha256sum(path)
        if actual != weight_set.sha256.lower():
            raise WeightsChecksumError(
                f'{path} does not match weight set {weight_set.name!r}: expected SHA-256 {weight_set.sha256}, '
                f'got {actual}'
            )


def is_url(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an http, https or file URL."""
    return isinstance(path, str) and urlparse(path).scheme in URL_SCHEMES


def download(url: str, destination: Path, weight_set: WeightSet | None = None) -> Path:
    """Download ``url`` to ``destination`` with torch's downloader, checked against ``weight_set``'s SHA-256.

    torch writes to a temporary file and moves it to ``destination`` only when its hash matches,
    so no partial or wrong file is ever left there.

    Args:
        url: http, https or file URL.
        destination: Target file; its directory is created if needed.
        weight_set: If given (and its hash is known), the download must have its SHA-256.

    Returns:
        ``destination``.

    Raises:
        WeightsNotFoundError: Downloads are disabled (offline) or the download failed.
        WeightsChecksumError: The downloaded file has another hash (it has been deleted).
    """
    reason = offline_reason()
    if reason:
        raise WeightsNotFoundError(
            f'refusing to download {url} to {destination} because {reason} (offline mode); '
            f'download the file elsewhere and pass its local path, or unset {OFFLINE_ENV_VAR}'
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    expected = weight_set.sha256.lower() if weight_set is not None and weight_set.sha256 else None
    try:
        download_url_to_file(url, str(destination), hash_prefix=expected, progress=True)
    except RuntimeError as error:  # torch's hash check; its temporary file is already gone
        name = f' of weight set {weight_set.name!r}' if weight_set is not None else ''
        raise WeightsChecksumError(f'{url}{name}: {error}; the downloaded file was deleted') from None
    except OSError as error:
        raise WeightsNotFoundError(f'could not download {url} to {destination}: {error}') from error
    return destination


def _explicit_file(path: str | os.PathLike) -> Path:
    if is_url(path):
        cached = locate.CACHE_DIR / Path(urlparse(str(path)).path).name
        return cached if cached.is_file() else download(str(path), cached)
    file = Path(path).expanduser()
    if not file.is_file():
        problem = 'is a directory, not a file' if file.is_dir() else 'does not exist'
        raise WeightsNotFoundError(f'weight file {file} {problem}')
    return file


def _not_found_message(weight_set: WeightSet, looked: list[str]) -> str:
    places = '\n'.join(f'  - {place}' for place in looked)
    train = f"`lifeiqa train` with the '{weight_set.recipe}' recipe" if weight_set.recipe else '`lifeiqa train`'
    return (
        f'weight file {weight_set.filename!r} of weight set {weight_set.name!r} not found. Looked in:\n{places}\n'
        f'{weight_set.description}\n'
        f'To use a weight file: put it (named {weight_set.filename!r}) in a folder and set {ENV_WEIGHTS_DIR} to that '
        f'folder, or pass it directly: pyiqa.create_metric(..., pretrained_model_path="/path/to/file"). '
        f"To make one: train it with {train} (see `lifeiqa train --help`); a checkpoint of the authors' training "
        f'code or of pyiqa training converts with `lifeiqa convert IN OUT.safetensors`.'
    )


def resolve_weight_file(weight_set: str | None = None, path: str | os.PathLike | None = None) -> Path:
    """Find (or download) the weight file to load.

    Args:
        weight_set: Registry name of the weight set; None means the default set ``'lifeiqa'``.
        path: A local weight file or an http/https/file URL; when given, it is used instead of
            the weight set's file (a URL is downloaded into pyiqa's cache once).

    Returns:
        Path of an existing local file.

    Raises:
        ValueError: Unknown weight set.
        WeightsNotFoundError: Nothing found; the message lists every place searched and how to
            get or train the weights.
        WeightsChecksumError: A found or downloaded file has the wrong size or SHA-256.
    """
    if path is not None:
        return _explicit_file(path)
    ws = get_weight_set(weight_set or DEFAULT_WEIGHT_SET)
    looked = []
    for label, candidate in locate.candidates(ws):
        if candidate is None:
            looked.append(f'{label}: not set')
            continue
        if candidate.is_file():
            verify_file(candidate, ws)
            return candidate
        looked.append(f'{label}: {candidate}')
    if ws.url is None:
        looked.append('download: this weight set has no download URL')
    elif offline_reason():
        looked.append(f'download from {ws.url}: refused because {offline_reason()} (offline mode)')
    else:
        return download(ws.url, locate.CACHE_DIR / ws.filename, ws)
    raise WeightsNotFoundError(_not_found_message(ws, looked))
