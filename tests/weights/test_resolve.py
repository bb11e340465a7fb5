"""Specification of weight-file resolution (pyiqa_lifeiqa/weights/resolve.py).

Order: explicit path or URL, $LIFEIQA_WEIGHTS_DIR, the package's files, pyiqa's cache, download.
Every test runs on empty temporary folders (the ``weight_dirs`` fixture).
"""

import hashlib

import pytest

from pyiqa_lifeiqa.weights import locate, resolve
from pyiqa_lifeiqa.weights.registry import WEIGHT_SETS, WeightSet
from pyiqa_lifeiqa.weights.resolve import (
    WeightsChecksumError,
    WeightsNotFoundError,
    resolve_weight_file,
    sha256sum,
)

CONTENT = b'pretend weights'
CONTENT_SHA256 = hashlib.sha256(CONTENT).hexdigest()
OTHER_SHA256 = hashlib.sha256(b'other').hexdigest()


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv(resolve.OFFLINE_ENV_VAR, raising=False)


@pytest.fixture
def source(tmp_path):
    """A file to be downloaded through a file:// URL."""
    path = tmp_path / 'remote' / 'test.safetensors'
    path.parent.mkdir()
    path.write_bytes(CONTENT)
    return path


def register(monkeypatch, **fields) -> WeightSet:
    ws = WeightSet(**{'name': 'test-set', 'filename': 'test.safetensors', 'description': 'Test weights.', **fields})
    monkeypatch.setitem(WEIGHT_SETS, ws.name, ws)
    return ws


def test_explicit_local_file_is_used_as_is_without_hash_check(weight_dirs, monkeypatch, tmp_path):
    register(monkeypatch, sha256=OTHER_SHA256)
    mine = tmp_path / 'mine.pth'
    mine.write_bytes(CONTENT)
    assert resolve_weight_file('test-set', path=str(mine)) == mine
    assert resolve_weight_file('test-set', path=mine) == mine


@pytest.mark.parametrize('make_dir, problem', [(False, 'does not exist'), (True, 'is a directory')])
def test_explicit_path_that_is_no_file_is_not_found(weight_dirs, tmp_path, make_dir, problem):
    path = tmp_path / 'weights.pth'
    if make_dir:
        path.mkdir()
    with pytest.raises(WeightsNotFoundError, match=problem) as info:
        resolve_weight_file(path=path)
    assert str(path) in str(info.value)


def test_search_order_is_env_dir_then_package_then_cache(weight_dirs, monkeypatch):
    register(monkeypatch)
    for folder in (weight_dirs.env, weight_dirs.package, weight_dirs.cache):
        (folder / 'test.safetensors').write_bytes(CONTENT)
    monkeypatch.setenv('LIFEIQA_WEIGHTS_DIR', str(weight_dirs.env))
    assert resolve_weight_file('test-set') == weight_dirs.env / 'test.safetensors'
    (weight_dirs.env / 'test.safetensors').unlink()
    assert resolve_weight_file('test-set') == weight_dirs.package / 'test.safetensors'
    (weight_dirs.package / 'test.safetensors').unlink()
    assert resolve_weight_file('test-set') == weight_dirs.cache / 'test.safetensors'


def test_default_set_is_the_shipped_file_with_its_registered_hash(monkeypatch):
    monkeypatch.delenv(locate.ENV_WEIGHTS_DIR, raising=False)
    shipped = locate.PACKAGE_WEIGHTS_DIR / 'lifeiqa_default.safetensors'
    assert resolve_weight_file() == shipped  # found in the package and checked against size and sha256
    assert resolve_weight_file(None) == resolve_weight_file('lifeiqa')
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == WEIGHT_SETS['lifeiqa'].sha256
    assert shipped.stat().st_size <= 20_000_000  # the package ships at most 20 MB of weights


def test_found_file_with_known_hash_is_verified(weight_dirs, monkeypatch):
    register(monkeypatch, sha256=CONTENT_SHA256, size=len(CONTENT))
    (weight_dirs.cache / 'test.safetensors').write_bytes(CONTENT)
    assert resolve_weight_file('test-set') == weight_dirs.cache / 'test.safetensors'


def test_sha256_mismatch_names_file_and_both_hashes_and_leaves_user_file(weight_dirs, monkeypatch):
    register(monkeypatch, sha256=OTHER_SHA256)
    monkeypatch.setenv('LIFEIQA_WEIGHTS_DIR', str(weight_dirs.env))
    user_file = weight_dirs.env / 'test.safetensors'
    user_file.write_bytes(CONTENT)
    with pytest.raises(WeightsChecksumError) as info:
        resolve_weight_file('test-set')
    message = str(info.value)
    assert str(user_file) in message and OTHER_SHA256 in message and CONTENT_SHA256 in message
    assert user_file.read_bytes() == CONTENT


def test_size_mismatch_is_reported_before_hashing(weight_dirs, monkeypatch):
    register(monkeypatch, sha256=CONTENT_SHA256, size=len(CONTENT) + 1)
    (weight_dirs.package / 'test.safetensors').write_bytes(CONTENT)
    with pytest.raises(WeightsChecksumError, match=f'expected {len(CONTENT) + 1} bytes, got {len(CONTENT)} bytes'):
        resolve_weight_file('test-set')


def test_download_from_set_url_goes_to_cache_and_is_verified(weight_dirs, monkeypatch, online, source):
    register(monkeypatch, url=source.as_uri(), sha256=CONTENT_SHA256)
    path = resolve_weight_file('test-set')
    assert path == weight_dirs.cache / 'test.safetensors'
    assert path.read_bytes() == CONTENT
    source.unlink()  # the second call finds the cached copy and downloads nothing
    assert resolve_weight_file('test-set') == path
    assert [p.name for p in weight_dirs.cache.iterdir()] == ['test.safetensors']


def test_download_with_wrong_hash_is_deleted(weight_dirs, monkeypatch, online, source):
    register(monkeypatch, url=source.as_uri(), sha256=OTHER_SHA256)
    with pytest.raises(WeightsChecksumError, match='downloaded file was deleted') as info:
        resolve_weight_file('test-set')
    assert OTHER_SHA256 in str(info.value) and CONTENT_SHA256 in str(info.value)
    assert list(weight_dirs.cache.iterdir()) == []
    assert source.read_bytes() == CONTENT


def test_failed_download_is_not_found_with_the_cause(weight_dirs, monkeypatch, online, tmp_path):
    url = (tmp_path / 'missing.safetensors').as_uri()
    register(monkeypatch, url=url)
    with pytest.raises(WeightsNotFoundError, match=f'could not download {url}'):
        resolve_weight_file('test-set')
    assert list(weight_dirs.cache.iterdir()) == []


@pytest.mark.parametrize('value', ['1', 'true', 'ON'])
def test_offline_mode_refuses_download(weight_dirs, monkeypatch, online, source, value):
    monkeypatch.setenv('HF_HUB_OFFLINE', value)
    register(monkeypatch, url=source.as_uri())
    with pytest.raises(WeightsNotFoundError) as info:
        resolve_weight_file('test-set')
    message = str(info.value)
    assert f'refused because HF_HUB_OFFLINE={value}' in message and source.as_uri() in message
    assert list(weight_dirs.cache.iterdir()) == []


def test_explicit_url_is_downloaded_into_cache_once(weight_dirs, online, source):
    path = resolve_weight_file(path=source.as_uri())
    assert path == weight_dirs.cache / 'test.safetensors' and path.read_bytes() == CONTENT
    source.unlink()
    assert resolve_weight_file(path=source.as_uri()) == path


def test_explicit_url_offline_is_refused_with_advice(weight_dirs, monkeypatch, source):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    with pytest.raises(WeightsNotFoundError, match='HF_HUB_OFFLINE=1 .*offline.*pass its local path'):
        resolve_weight_file(path=source.as_uri())
    assert list(weight_dirs.cache.iterdir()) == []


def test_not_found_names_the_file_every_place_and_how_to_get_weights(weight_dirs, monkeypatch, tmp_path):
    empty = tmp_path / 'my_weights'
    monkeypatch.setenv('LIFEIQA_WEIGHTS_DIR', str(empty))
    with pytest.raises(WeightsNotFoundError) as info:
        resolve_weight_file('lifeiqa-koniq')
    message = str(info.value)
    filename = 'lifeiqa_koniq10k_swinb.safetensors'
    for expected in (
        f"weight file '{filename}' of weight set 'lifeiqa-koniq' not found",
        f'$LIFEIQA_WEIGHTS_DIR: {empty / filename}',
        str(weight_dirs.package / filename),
        str(weight_dirs.cache / filename),
        'no download URL',
        'authors released no trained weights',
        'set LIFEIQA_WEIGHTS_DIR',
        'pretrained_model_path=',
        "`lifeiqa train` with the 'koniq10k' recipe",
        'lifeiqa convert',
    ):
        assert expected in message
    assert isinstance(info.value, FileNotFoundError)


def test_not_found_says_when_env_dir_is_not_set(weight_dirs):
    with pytest.raises(WeightsNotFoundError, match=r'\$LIFEIQA_WEIGHTS_DIR: not set'):
        resolve_weight_file('lifeiqa')


def test_unknown_weight_set_is_a_value_error(weight_dirs):
    with pytest.raises(ValueError, match="unknown weight set 'nope'"):
        resolve_weight_file('nope')


def test_sha256sum_matches_hashlib(tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(CONTENT * 100_000)  # several read chunks
    assert sha256sum(path) == hashlib.sha256(CONTENT * 100_000).hexdigest()
