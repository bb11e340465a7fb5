"""Specification of `lifeiqa benchmark` (pyiqa_lifeiqa/cli/benchmark.py)."""

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pyiqa_lifeiqa.cli import main


def fake_koniq(root: Path, n: int = 5) -> None:
    """pyiqa's KonIQ-10k layout: images under koniq10k/512x384, meta CSV with the official split."""
    images = root / 'koniq10k' / '512x384'
    images.mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = [('image_name', 'MOS', 'official_split')]
    for i in range(n):
        noise = rng.random((48, 64, 3)) * (i + 1) / n
        Image.fromarray((noise * 255).astype('uint8')).save(images / f'{i}.jpg')
        rows.append((f'{i}.jpg', float(i), 'test'))
    (root / 'meta_info').mkdir()
    with open(root / 'meta_info' / 'meta_info_KonIQ10kDataset.csv', 'w', newline='') as f:
        csv.writer(f).writerows(rows)


def test_benchmark_a_pyiqa_dataset_from_a_data_root(tmp_path, capsys):
    fake_koniq(tmp_path / 'datasets')
    out = tmp_path / 'table.csv'
    status = main(
        [
            'benchmark',
            '-m',
            'entropy',
            '-d',
            'koniq10k',
            '--data-root',
            str(tmp_path / 'datasets'),
            '--device',
            'cpu',
            '--csv',
            str(out),
        ]
    )
    assert status == 0
    with open(out) as f:
        table = list(csv.reader(f))
    assert table[0] == ['Metric name', 'koniq10k(PLCC/SRCC/KRCC)']
    assert table[1][0] == 'entropy'
    assert float(table[1][1].split('/')[1]) == 1.0  # more noise, more entropy, higher MOS
    assert 'entropy' in capsys.readouterr().out


def test_benchmark_without_any_dataset_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(['benchmark', '-m', 'entropy'])
    assert exit_info.value.code == 2
    assert 'at least one dataset' in capsys.readouterr().err


def test_unknown_dataset_name_exits_2_with_a_message(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(['benchmark', '-m', 'entropy', '-d', 'no-such-set', '--data-root', str(tmp_path)])
    assert exit_info.value.code == 2
    assert 'unknown pyiqa dataset' in capsys.readouterr().err
