"""A reproducible set of real photographs, fetched from Debian packages and checked by hash.

The list (:data:`PHOTO_LIST`, a copy of the project's ``training-photos.tsv``) names 229 clean,
distinct camera photographs found in Debian 12 packages: package, version, path inside the
package, size, the sha256 of the file's bytes, and a note with the content and the licence. For
``gcompris-qt-data`` the path is ``<rcc file>!<path inside the Qt resource bundle>``.

:func:`fetch_photos` downloads each package once (``apt-get download``, after an
``apt-get update``), reads only the listed members from its data archive (``dpkg-deb
--fsys-tarfile``), unpacks Qt resource bundles (:func:`read_qt_resource`), checks every hash and
writes::

    OUT/images/<name>.<ext>    the files' original bytes, named after package and file
    OUT/provenance.csv         name, file, package, version, path, width, height, sha256, note (licence)
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
import struct
import subprocess
import tarfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

PHOTO_LIST = resources.files('pyiqa_lifeiqa.data') / 'training_photos.tsv'
BUNDLE_SEPARATOR = '!'
PHOTO_PARTS = ('train', 'val', 'test')
PROVENANCE_COLUMNS = ('name', 'file', 'package', 'version', 'path', 'width', 'height', 'sha256', 'note')

# Qt resource bundle (.rcc): magic, then big-endian version, tree, data and names offsets.
RCC_MAGIC = b'qres'
RCC_DIRECTORY = 0x02
RCC_ZLIB = 0x01
RCC_ZSTD = 0x04


class PhotoFetchError(ValueError):
    """A listed photograph could not be fetched, found, or matched its recorded hash."""


@dataclass(frozen=True)
class Photo:
    """One listed photograph and where it comes from."""

    package: str
    version: str
    path: str
    width: int
    height: int
    sha256: str
    note: str

    @property
    def member(self) -> str:
        """The file inside the package: the image itself or the Qt bundle that holds it."""
        return self.path.split(BUNDLE_SEPARATOR, 1)[0]

    @property
    def name(self) -> str:
        """A file stem, ``<package>__<file stem>_<sha256[:8]>`` with only ``[A-Za-z0-9_-]``.

        The hash prefix keeps it unique: some packages hold two photographs of one file name.
        """
        stem = Path(self.path.split(BUNDLE_SEPARATOR)[-1]).stem
        return re.sub(r'[^A-Za-z0-9_-]+', '-', f'{self.package}__{stem}_{self.sha256[:8]}')

    @property
    def suffix(self) -> str:
        return Path(self.path).suffix.lower()


def read_photo_list(path: str | Path | None = None) -> list[Photo]:
    """Read a photo list (tab-separated, with a header; default: :data:`PHOTO_LIST`).

    Raises:
        ValueError: A row lacks a column, or two photographs get the same name.
    """
    text = Path(path).read_text(encoding='utf-8') if path is not None else PHOTO_LIST.read_text(encoding='utf-8')
    rows = list(csv.DictReader(text.splitlines(), delimiter='\t'))
    photos = []
    for number, row in enumerate(rows, start=2):
        try:
            photos.append(
                Photo(
                    row['package'],
                    row['version'],
                    row['path_in_package'],
                    int(row['width']),
                    int(row['height']),
                    row['sha256'].lower(),
                    row['note'],
                )
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f'photo list line {number}: bad or missing column ({error!r})') from None
    names = [photo.name for photo in photos]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f'photo list gives clashing names: {", ".join(repeated)}')
    return photos


def photo_part(part: str, photos: list[Photo] | None = None) -> list[str]:
    """The names (sorted) of one part of the photographs' split: ``'train'``, ``'val'`` or ``'test'``.

    Split 1 of :func:`~pyiqa_lifeiqa.data.splits.make_splits` (seed 0) over the sorted names of the
    listed photographs, as ``make-synthetic --seed 0`` splits a set made from all of them by
    reference: 165 train, 18 val and 46 test photographs. The default models are trained on train
    and val only; the benchmarks measure them on test.
    """
    from pyiqa_lifeiqa.data.splits import make_splits

    if part not in PHOTO_PARTS:
        raise ValueError(f'unknown part {part!r} of the photographs; choose from {", ".join(PHOTO_PARTS)}')
    names = sorted(photo.name for photo in (photos if photos is not None else read_photo_list()))
    return sorted(names[i] for i in make_splits(len(names), names, num_splits=1, seed=0)[1][part])


def read_qt_resource(bundle: bytes, inner_path: str) -> bytes:
    """The bytes of the file ``inner_path`` (e.g. ``/a/b/c.webp``) inside a Qt resource bundle.

    Raises:
        ValueError: Not a Qt resource bundle, a truncated or corrupt one, no such file, or an
            unsupported compression.
    """
    try:
        return _read_qt_resource(bundle, inner_path)
    except (struct.error, UnicodeDecodeError, zlib.error) as error:
        raise ValueError(f'truncated or corrupt Qt resource bundle ({error})') from None


def _read_qt_resource(bundle: bytes, inner_path: str) -> bytes:
    if bundle[:4] != RCC_MAGIC:
        raise ValueError('not a Qt resource bundle (no qres header)')
    version, tree, data, names = struct.unpack_from('>4I', bundle, 4)
    node_size = 14 if version == 1 else 22

    def node_name(index: int) -> str:
        (offset,) = struct.unpack_from('>I', bundle, tree + index * node_size)
        (length,) = struct.unpack_from('>H', bundle, names + offset)
        start = names + offset + 6  # length, then a 4-byte hash, then UTF-16 text
        return bundle[start : start + 2 * length].decode('utf-16-be')

    index = 0  # the root folder
    for part in [p for p in inner_path.split('/') if p]:
        (flags,) = struct.unpack_from('>H', bundle, tree + index * node_size + 4)
        if not flags & RCC_DIRECTORY:
            raise ValueError(f'{inner_path} not in the bundle: {part!r} is below a file')
        count, first = struct.unpack_from('>II', bundle, tree + index * node_size + 6)
        index = next((child for child in range(first, first + count) if node_name(child) == part), None)
        if index is None:
            raise ValueError(f'{inner_path} not in the bundle (no {part!r})')
    node = tree + index * node_size
    (flags,) = struct.unpack_from('>H', bundle, node + 4)
    if flags & RCC_DIRECTORY:
        raise ValueError(f'{inner_path} is a folder in the bundle, not a file')
    (offset,) = struct.unpack_from('>I', bundle, node + 10)
    (length,) = struct.unpack_from('>I', bundle, data + offset)
    payload = bundle[data + offset + 4 : data + offset + 4 + length]
    if flags & RCC_ZSTD:
        raise ValueError(f'{inner_path} is zstd-compressed in the bundle, which is not supported')
    if flags & RCC_ZLIB:
        return zlib.decompress(payload[4:])  # qCompress: 4-byte uncompressed length, then zlib
    return payload


def download_package(package: str, version: str, debs: Path) -> Path:
    """The ``.deb`` of ``package=version`` in ``debs``, downloaded with ``apt-get download`` if absent."""
    found = sorted(debs.glob(f'{package}_*.deb'))
    if not found:
        if shutil.which('apt-get') is None:
            raise PhotoFetchError(f'{package}: not in {debs} and apt-get is not available to download it')
        result = subprocess.run(
            ['apt-get', 'download', f'{package}={version}'], cwd=debs, capture_output=True, text=True
        )
        found = sorted(debs.glob(f'{package}_*.deb'))
        if result.returncode != 0 or not found:
            raise PhotoFetchError(
                f'apt-get download {package}={version} failed (run `apt-get update` once first): '
                f'{result.stderr.strip()[-500:]}'
            )
    return found[-1]


def read_deb_members(deb: Path, members: Iterable[str]) -> dict[str, bytes]:
    """Read the files ``members`` (absolute paths) from a ``.deb``'s data archive, nothing else.

    Raises:
        PhotoFetchError: ``dpkg-deb`` is missing or fails, or a member is not in the package.
    """
    wanted = {member.lstrip('/') for member in members}
    if shutil.which('dpkg-deb') is None:
        raise PhotoFetchError('dpkg-deb is needed to read .deb packages (Debian/Ubuntu: package dpkg)')
    found = {}
    with subprocess.Popen(
        ['dpkg-deb', '--fsys-tarfile', str(deb)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    ) as process:
        try:
            with tarfile.open(fileobj=process.stdout, mode='r|') as archive:
                for info in archive:
                    name = info.name.removeprefix('./')
                    if name in wanted and info.isfile():
                        found['/' + name] = archive.extractfile(info).read()
        except tarfile.TarError as error:
            process.kill()
            raise PhotoFetchError(f'{deb} is not a readable Debian package ({error})') from None
        process.stdout.close()
    if process.returncode != 0:
        raise PhotoFetchError(f'dpkg-deb --fsys-tarfile {deb} failed with exit status {process.returncode}')
    missing = sorted(wanted - {name.lstrip('/') for name in found})
    if missing:
        raise PhotoFetchError(f'{deb.name} holds no {", ".join("/" + m for m in missing)}')
    return found


def fetch_photos(out: str | Path, debs: str | Path | None = None, photos: list[Photo] | None = None) -> Path:
    """Fetch the listed photographs into ``out`` (see the module docstring for the layout).

    Args:
        out: Output folder; its ``images/`` must not hold files yet.
        debs: Folder that keeps the downloaded ``.deb`` files (default ``out/debs``); packages
            already there are not downloaded again.
        photos: The photographs (default: :func:`read_photo_list`).

    Returns:
        ``out``.

    Raises:
        PhotoFetchError: A package cannot be downloaded or read, a file is missing from it, or
            a file's sha256 differs from the list (the message names the photograph).
    """
    out = Path(out)
    images = out / 'images'
    if images.is_dir() and any(images.iterdir()):
        raise ValueError(f'{images} is not empty; choose a new output folder')
    images.mkdir(parents=True, exist_ok=True)
    debs = Path(debs) if debs is not None else out / 'debs'
    debs.mkdir(parents=True, exist_ok=True)
    photos = read_photo_list() if photos is None else photos
    by_package: dict[tuple[str, str], list[Photo]] = {}
    for photo in photos:
        by_package.setdefault((photo.package, photo.version), []).append(photo)
    rows = []
    for (package, version), listed in by_package.items():
        files = read_deb_members(download_package(package, version, debs), {photo.member for photo in listed})
        for photo in listed:
            content = files[photo.member]
            if BUNDLE_SEPARATOR in photo.path:
                try:
                    content = read_qt_resource(content, photo.path.split(BUNDLE_SEPARATOR, 1)[1])
                except ValueError as error:
                    raise PhotoFetchError(f'{photo.name}: {error}') from None
            digest = hashlib.sha256(content).hexdigest()
            if digest != photo.sha256:
                raise PhotoFetchError(
                    f'{photo.name} ({package} {photo.path}): sha256 {digest}, expected {photo.sha256}'
                )
            file = f'{photo.name}{photo.suffix}'
            (images / file).write_bytes(content)
            rows.append({**photo.__dict__, 'name': photo.name, 'file': file})
    with open(out / 'provenance.csv', 'w', newline='', encoding='utf-8') as f:
        writer = csv.DictWriter(f, fieldnames=PROVENANCE_COLUMNS)
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda row: row['name']))
    return out
