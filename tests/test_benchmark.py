"""Specification of dataset benchmarking in pyiqa's table format (pyiqa_lifeiqa/benchmark.py)."""

import csv
import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter
from pyiqa import create_metric

from pyiqa_lifeiqa.benchmark import correlations, csv_dataset_opts, evaluate, pyiqa_dataset_opts, run_benchmark


def blur_series(folder: Path, n: int = 6, size: int = 64) -> list[tuple[str, float]]:
    """The same noise image blurred more and more; MOS falls with the blur."""
    folder.mkdir(parents=True, exist_ok=True)
    base = Image.fromarray((np.random.default_rng(0).random((size, size, 3)) * 255).astype('uint8'))
    rows = []
    for i in range(n):
        base.filter(ImageFilter.GaussianBlur(i)).save(folder / f'{i}.png')
        rows.append((f'{i}.png', float(n - i)))
    return rows


@pytest.fixture
def blur_csv(tmp_path) -> Path:
    rows = blur_series(tmp_path / 'images')
    path = tmp_path / 'blur.csv'
    with open(path, 'w', newline='') as f:
        csv.writer(f).writerows([('name', 'mos'), *rows])
    return path


def test_table_has_pyiqa_benchmark_layout_and_is_written_as_csv(blur_csv, tmp_path):
    datasets = {'blur': csv_dataset_opts(blur_csv, image_root=blur_csv.parent / 'images')}
    out = tmp_path / 'results' / 'table.csv'
    table = run_benchmark(['entropy', 'piqe'], datasets, csv_path=out)
    assert table[0] == ['Metric name', 'blur(PLCC/SRCC/KRCC)']
    assert [row[0] for row in table[1:]] == ['entropy', 'piqe']
    for row in table[1:]:
        values = [float(v) for v in row[1].split('/')]
        assert len(values) == 3 and all(-1 <= v <= 1 for v in values)
    # entropy falls monotonically with blur, like the MOS
    assert table[1][1].split('/')[1:] == ['1.0', '1.0']
    with open(out) as f:
        assert list(csv.reader(f)) == table


def test_lower_is_better_metrics_are_negated_before_correlating():
    preds, mos = [1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]
    assert correlations(preds, mos, lower_better=True)[1] == 1.0
    assert correlations(preds, mos, lower_better=False)[1] == -1.0
    with pytest.raises(ValueError, match='at least 3'):
        correlations([1.0, 2.0], [1.0, 2.0])


def test_split_file_restricts_scoring_to_one_part(blur_csv):
    split_file = blur_csv.parent / 'splits.pkl'
    with open(split_file, 'wb') as f:
        pickle.dump({1: {'train': [0, 1], 'val': [2], 'test': [3, 4, 5]}}, f)
    opts = csv_dataset_opts(blur_csv, blur_csv.parent / 'images', split_file=split_file, phase='test')
    result = evaluate(create_metric('entropy', device='cpu'), opts, 'cpu')
    assert result.mos == [3.0, 2.0, 1.0]
    assert len(result.preds) == 3


def test_evaluation_is_the_same_in_batches_and_negates_lower_is_better_scores(blur_csv):
    opts = csv_dataset_opts(blur_csv, image_root=blur_csv.parent / 'images')
    piqe = create_metric('piqe', device='cpu')
    one, batched = evaluate(piqe, opts, 'cpu'), evaluate(piqe, opts, 'cpu', batch_size=4)
    assert batched.preds == pytest.approx(one.preds, abs=1e-4) and batched.mos == one.mos
    assert (one.plcc, one.srcc, one.krcc) == pytest.approx(correlations(one.preds, one.mos, lower_better=True))
    as_if_higher_better = evaluate(piqe, opts, 'cpu', lower_better=False)
    assert as_if_higher_better.srcc == pytest.approx(-one.srcc)


def test_full_reference_metric_on_a_no_reference_dataset_is_refused(blur_csv):
    datasets = {'blur': csv_dataset_opts(blur_csv, image_root=blur_csv.parent / 'images')}
    with pytest.raises(ValueError, match='full-reference'):
        run_benchmark(['psnr'], datasets)


def test_pyiqa_dataset_files_are_looked_up_under_the_data_root(tmp_path):
    opts = pyiqa_dataset_opts('koniq10k', tmp_path)
    assert opts['dataroot_target'] == str(tmp_path / 'koniq10k' / '512x384')
    assert opts['meta_info_file'] == str(tmp_path / 'meta_info' / 'meta_info_KonIQ10kDataset.csv')
    assert opts['phase'] == 'test'
    with pytest.raises(KeyError, match='unknown pyiqa dataset'):
        pyiqa_dataset_opts('no-such-set', tmp_path)


def test_missing_csv_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match='dataset CSV not found'):
        csv_dataset_opts(tmp_path / 'nope.csv')
