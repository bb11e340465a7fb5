"""Specification of `lifeiqa score` (pyiqa_lifeiqa/cli/score.py), run in-process on the tiny ``lifeiqa-test`` metric."""

import csv
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pyiqa
import pytest
from PIL import Image

from pyiqa_lifeiqa.archs.lifeiqa_arch import LifeIQA
from pyiqa_lifeiqa.cli import main
from pyiqa_lifeiqa.configs import METRIC_CONFIGS
from pyiqa_lifeiqa.io import load_image


def save_noise(path: Path, size: tuple[int, int] = (40, 30), seed: int = 0, mode: str = 'RGB') -> Path:
    """A random image of ``size`` (width, height); the format follows the suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).convert(mode).save(path)
    return path


def digests(folder: Path) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob('*')) if p.is_file()}


def score(metric: str, *args: str) -> int:
    return main(['score', *args, '--metric', metric, '--device', 'cpu'])


def read_csv(path: Path) -> list[dict]:
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def test_folders_are_searched_recursively_and_scored_in_sorted_order(lifeiqa_test_metric, tmp_path, capsys):
    images = tmp_path / 'images'
    for i, name in enumerate(['b.png', 'a/z.JPG', 'a/deeper/c.bmp', 'a/gray.png']):
        save_noise(images / name, seed=i, mode='L' if 'gray' in name else 'RGB')
    (images / 'notes.txt').write_text('not an image')
    out = tmp_path / 'scores.csv'

    assert score(lifeiqa_test_metric, str(images), '--output', str(out)) == 0

    expected = [str(images / n) for n in ('a/deeper/c.bmp', 'a/gray.png', 'a/z.JPG', 'b.png')]
    assert [row['path'] for row in read_csv(out)] == expected
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ['path', 'score']
    assert [line.split()[0] for line in table[1:]] == expected


def test_csv_scores_are_the_metric_scores_of_each_file(lifeiqa_test_metric, tmp_path):
    files = [save_noise(tmp_path / f'{i}.png', size=(40 + 8 * i, 30), seed=i) for i in range(3)]
    out = tmp_path / 'scores.csv'

    assert score(lifeiqa_test_metric, *map(str, files), '--output', str(out)) == 0

    metric = pyiqa.create_metric(lifeiqa_test_metric, device='cpu')
    rows = read_csv(out)
    assert list(rows[0]) == ['path', 'score']
    assert [row['path'] for row in rows] == [str(f) for f in files]  # the order given
    for row, path in zip(rows, files, strict=True):
        assert float(row['score']) == pytest.approx(metric(load_image(path)).item(), abs=1e-6)
    assert len({row['score'] for row in rows}) == 3  # different images, different scores


def test_json_output_holds_the_same_scores_as_csv(lifeiqa_test_metric, tmp_path):
    files = [str(save_noise(tmp_path / f'{i}.jpg', seed=i)) for i in range(2)]
    as_csv, as_json = tmp_path / 's.csv', tmp_path / 's.JSON'

    assert score(lifeiqa_test_metric, *files, '--output', str(as_csv)) == 0
    assert score(lifeiqa_test_metric, *files, '--output', str(as_json)) == 0

    records = json.loads(as_json.read_text())
    assert [set(r) for r in records] == [{'path', 'score'}] * 2
    assert [r['path'] for r in records] == files
    assert [r['score'] for r in records] == [float(row['score']) for row in read_csv(as_csv)]


def test_batches_of_same_size_images_score_as_one_at_a_time(lifeiqa_test_metric, tmp_path, monkeypatch):
    sizes = [(40, 30), (32, 48), (40, 30), (40, 30), (32, 48)]
    folder = tmp_path / 'mixed'
    for i, size in enumerate(sizes):
        save_noise(folder / f'{i}.png', size=size, seed=i)
    batch_sizes = []
    forward = LifeIQA.forward

    def counting_forward(self, x, *args, **kwargs):
        batch_sizes.append(x.shape[0])
        return forward(self, x, *args, **kwargs)

    monkeypatch.setattr(LifeIQA, 'forward', counting_forward)
    results = {}
    for batch_size in (1, 2, 8):
        batch_sizes.clear()
        out = tmp_path / f'b{batch_size}.csv'
        assert score(lifeiqa_test_metric, str(folder), '--batch-size', str(batch_size), '--output', str(out)) == 0
        results[batch_size] = read_csv(out)
        assert sorted(batch_sizes) == {1: [1] * 5, 2: [1, 2, 2], 8: [2, 3]}[batch_size]

    assert [r['path'] for r in results[8]] == [str(folder / f'{i}.png') for i in range(5)]
    for batch_size in (2, 8):
        assert [r['path'] for r in results[batch_size]] == [r['path'] for r in results[1]]
        for batched, alone in zip(results[batch_size], results[1], strict=True):
            assert float(batched['score']) == pytest.approx(float(alone['score']), abs=1e-5)


def test_unreadable_files_are_reported_and_skipped_and_no_file_changes(lifeiqa_test_metric, tmp_path, capsys):
    folder = tmp_path / 'photos'
    good = [save_noise(folder / 'good.png'), save_noise(folder / 'sub/good.jpg', seed=1)]
    (folder / 'corrupt.jpg').write_bytes(b'\xff\xd8 this is not really a JPEG')
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buffer, 'JPEG')
    (folder / 'truncated.jpg').write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    (folder / 'empty.png').write_bytes(b'')
    save_noise(folder / 'tiny.png', size=(10, 10))  # below LifeIQA's 16-pixel minimum
    before = digests(folder)
    out = tmp_path / 'scores.csv'

    status = score(lifeiqa_test_metric, str(folder), str(tmp_path / 'missing.png'), '--output', str(out))

    assert status == 1
    assert digests(folder) == before
    assert [row['path'] for row in read_csv(out)] == [str(good[0]), str(good[1])]
    err = capsys.readouterr().err
    skipped = {line.split(': ')[1].removeprefix('skipped '): line for line in err.splitlines() if 'skipped ' in line}
    reasons = {
        'corrupt.jpg': 'not an image',
        'truncated.jpg': 'truncated',
        'empty.png': 'empty file',
        'tiny.png': 'too small',
    }
    assert set(skipped) == {str(folder / name) for name in reasons} | {str(tmp_path / 'missing.png')}
    for name, reason in reasons.items():
        assert reason in skipped[str(folder / name)]
    assert 'no such file' in skipped[str(tmp_path / 'missing.png')]
    assert '5 file(s) skipped, 2 scored' in err


def test_unknown_metric_exits_2_listing_the_lifeiqa_metrics(lifeiqa_test_metric, tmp_path, capsys):
    image = save_noise(tmp_path / 'a.png')
    with pytest.raises(SystemExit) as exit_info:
        score('no-such-metric', str(image))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown metric 'no-such-metric'" in err
    listed = err.split('the lifeiqa metrics are: ')[1].split(' (')[0].split(', ')
    assert listed == sorted([*METRIC_CONFIGS, lifeiqa_test_metric])


def test_full_reference_metric_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        score('psnr', str(save_noise(tmp_path / 'a.png')))
    assert exit_info.value.code == 2
    assert 'no-reference' in capsys.readouterr().err


@pytest.mark.parametrize(
    ('option', 'message'),
    [
        (['--output', 'scores.txt'], 'must end in .csv or .json'),
        (['--output', 'no/such/folder/s.csv'], 'does not exist'),
        (['--batch-size', '0'], 'must be at least 1'),
    ],
)
def test_bad_options_are_usage_errors(tmp_path, capsys, option, message):
    with pytest.raises(SystemExit) as exit_info:
        score('lifeiqa', str(save_noise(tmp_path / 'a.png')), *option)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_output_file_that_is_an_input_is_refused(lifeiqa_test_metric, tmp_path, capsys):
    image = save_noise(tmp_path / 'a.png')
    listed = tmp_path / 'list.csv'
    listed.write_text('keep me')
    with pytest.raises(SystemExit) as exit_info:
        score(lifeiqa_test_metric, str(image), str(listed), '--output', str(listed))
    assert exit_info.value.code == 2
    assert listed.read_text() == 'keep me'


def test_folder_without_images_exits_2(lifeiqa_test_metric, tmp_path, capsys):
    (tmp_path / 'notes.txt').write_text('no images here')
    with pytest.raises(SystemExit) as exit_info:
        score(lifeiqa_test_metric, str(tmp_path))
    assert exit_info.value.code == 2
    assert 'no image files found' in capsys.readouterr().err
