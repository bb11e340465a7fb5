"""Specification of the real-photograph set (pyiqa_lifeiqa/data/photos.py)."""

import csv
import hashlib
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from pyiqa_lifeiqa.data.photos import (
    Photo,
    PhotoFetchError,
    fetch_photos,
    photo_part,
    read_deb_members,
    read_photo_list,
    read_qt_resource,
)


def test_the_shipped_list_names_229_photographs_in_53_packages_with_unique_names():
    photos = read_photo_list()
    assert len(photos) == 229
    assert len({p.package for p in photos}) == 53
    assert sum('!' in p.path for p in photos) == 102  # inside gcompris-qt-data's Qt resource bundles
    assert len({p.name for p in photos}) == 229
    assert all(len(p.sha256) == 64 and 'licence' in p.note for p in photos)


def qt_bundle(files: dict[str, bytes], version: int, compress: set[str] = frozenset()) -> bytes:
    """A Qt resource bundle holding ``files`` (paths ``/dir/name``) in format ``version``."""
    node_size = 14 if version == 1 else 22
    tree = {}
    for path in files:
        parts = path.strip('/').split('/')
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = path
    names, data, nodes = b'', b'', []
    queue = [('', tree)]
    order = [('', tree)]
    while queue:  # breadth first: each folder's children are contiguous
        _, node = queue.pop(0)
        if isinstance(node, dict):
            for child in sorted(node.items()):
                order.append(child)
                queue.append(child)
    index_of = {id(node): i for i, (_, node) in enumerate(order)}
    for name, node in order:
        name_offset = len(names)
        names += struct.pack('>HI', len(name), 0) + name.encode('utf-16-be')
        if isinstance(node, dict):
            children = sorted(node.values(), key=lambda n: index_of[id(n)])
            first = index_of[id(children[0])] if children else 0
            entry = struct.pack('>IHII', name_offset, 2, len(children), first)
        else:
            content = files[node]
            flags = 0
            if node in compress:
                content, flags = struct.pack('>I', len(content)) + zlib.compress(content), 1
            entry = struct.pack('>IHHHI', name_offset, flags, 0, 0, len(data))
            data += struct.pack('>I', len(content)) + content
        nodes.append(entry + (b'\0' * 8 if version > 1 else b''))
    assert all(len(n) == node_size for n in nodes)
    tree_bytes = b''.join(nodes)
    header = 20
    return (
        b'qres'
        + struct.pack('>4I', version, header, header + len(tree_bytes) + len(names), header + len(tree_bytes))
        + tree_bytes
        + names
        + data
    )


@pytest.mark.parametrize('version', [1, 2, 3])
def test_qt_resource_files_are_read_by_path_plain_or_zlib_compressed(version):
    files = {'/gcompris/a/photo.webp': b'RIFF-photo', '/gcompris/a/notes.txt': b'hello' * 50, '/top.bin': b'\x00\x01'}
    bundle = qt_bundle(files, version, compress={'/gcompris/a/notes.txt'})
    for path, content in files.items():
        assert read_qt_resource(bundle, path) == content


def test_qt_resource_errors_name_the_problem():
    bundle = qt_bundle({'/a/photo.webp': b'x'}, 2)
    with pytest.raises(ValueError, match='no qres header'):
        read_qt_resource(b'PK\x03\x04' + bundle[4:], '/a/photo.webp')
    with pytest.raises(ValueError, match="no 'other.webp'"):
        read_qt_resource(bundle, '/a/other.webp')
    with pytest.raises(ValueError, match='is a folder'):
        read_qt_resource(bundle, '/a')


def build_deb(folder: Path, package: str, files: dict[str, bytes]) -> Path:
    root = folder / f'{package}_root'
    (root / 'DEBIAN').mkdir(parents=True)
    (root / 'DEBIAN' / 'control').write_text(
        f'Package: {package}\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@t>\nDescription: test\n'
    )
    for path, content in files.items():
        target = root / path.lstrip('/')
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    deb = folder / f'{package}_1.0_all.deb'
    subprocess.run(['dpkg-deb', '--build', '--root-owner-group', str(root), str(deb)], check=True, capture_output=True)
    return deb


def photo(package: str, path: str, content: bytes) -> Photo:
    return Photo(package, '1.0', path, 4, 4, hashlib.sha256(content).hexdigest(), 'a test photo | licence: CC0')


def test_fetch_reads_files_and_bundled_files_checks_hashes_and_records_provenance(tmp_path):
    jpeg, webp = b'\xff\xd8jpeg-bytes', b'RIFF-webp-bytes'
    bundle = qt_bundle({'/res/image/cat.webp': webp}, 2)
    debs = tmp_path / 'debs'
    debs.mkdir()
    build_deb(debs, 'photos-a', {'/usr/share/a/dog.jpg': jpeg, '/usr/share/a/other.txt': b'not listed'})
    build_deb(debs, 'photos-b', {'/usr/share/b/data.rcc': bundle})
    listed = [
        photo('photos-a', '/usr/share/a/dog.jpg', jpeg),
        photo('photos-b', '/usr/share/b/data.rcc!/res/image/cat.webp', webp),
    ]
    out = fetch_photos(tmp_path / 'out', debs=debs, photos=listed)
    written = sorted(p.name for p in (out / 'images').iterdir())
    assert written == sorted(f'{p.name}{p.suffix}' for p in listed)
    assert (out / 'images' / f'{listed[1].name}.webp').read_bytes() == webp
    with open(out / 'provenance.csv', newline='') as f:
        rows = list(csv.DictReader(f))
    assert [(r['package'], r['path'], r['note']) for r in rows] == sorted((p.package, p.path, p.note) for p in listed)


def test_a_file_whose_hash_differs_stops_the_fetch_naming_the_photograph(tmp_path):
    debs = tmp_path / 'debs'
    debs.mkdir()
    build_deb(debs, 'photos-a', {'/usr/share/a/dog.jpg': b'changed bytes'})
    listed = [photo('photos-a', '/usr/share/a/dog.jpg', b'original bytes')]
    with pytest.raises(PhotoFetchError, match=f'{listed[0].name} .*expected {listed[0].sha256}'):
        fetch_photos(tmp_path / 'out', debs=debs, photos=listed)


def test_a_member_missing_from_the_package_is_named(tmp_path):
    deb = build_deb(tmp_path, 'photos-a', {'/usr/share/a/dog.jpg': b'x'})
    with pytest.raises(PhotoFetchError, match='holds no /usr/share/a/cat.jpg'):
        read_deb_members(deb, ['/usr/share/a/cat.jpg'])


def test_a_bad_photo_list_line_is_reported(tmp_path):
    bad = tmp_path / 'list.tsv'
    bad.write_text('package\tversion\tpath_in_package\twidth\theight\tsha256\tnote\np\t1\t/a.jpg\twide\t4\tab\tn\n')
    with pytest.raises(ValueError, match='line 2'):
        read_photo_list(bad)


def test_a_truncated_bundle_is_a_value_error():
    bundle = qt_bundle({'/a/photo.webp': b'x' * 100}, 2)
    with pytest.raises(ValueError, match='truncated or corrupt Qt resource bundle'):
        read_qt_resource(bundle[:30], '/a/photo.webp')


def test_a_file_that_is_not_a_deb_is_named(tmp_path):
    fake = tmp_path / 'photos-a_1.0_all.deb'
    fake.write_bytes(b'not an archive')
    with pytest.raises(PhotoFetchError, match='photos-a_1.0_all.deb'):
        read_deb_members(fake, ['/usr/share/a/dog.jpg'])


def test_the_photographs_split_into_disjoint_train_val_and_test_parts():
    parts = {part: photo_part(part) for part in ('train', 'val', 'test')}
    assert {part: len(names) for part, names in parts.items()} == {'train': 165, 'val': 18, 'test': 46}
    assert sorted(sum(parts.values(), [])) == sorted(photo.name for photo in read_photo_list())
    with pytest.raises(ValueError, match="unknown part 'all'"):
        photo_part('all')
