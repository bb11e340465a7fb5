"""Specification of `lifeiqa make-splits` (pyiqa_lifeiqa/cli/make_splits.py)."""

import csv
import pickle

import pytest

from pyiqa_lifeiqa.cli import main


@pytest.fixture
def meta_csv(tmp_path):
    path = tmp_path / 'meta.csv'
    rows = [('ref_name', 'dist_name', 'dmos')] + [(f'ref{i // 4}.png', f'd{i}.png', i) for i in range(40)]
    with open(path, 'w', newline='') as f:
        csv.writer(f).writerows(rows)
    return path


def load(path):
    with open(path, 'rb') as f:
        return pickle.load(f)


def test_grouped_splits_keep_each_reference_in_one_part(meta_csv, tmp_path):
    out = tmp_path / 'splits.pkl'
    assert main(['make-splits', '--meta', str(meta_csv), '--out', str(out), '--group-column', '0']) == 0
    splits = load(out)
    assert sorted(splits) == list(range(1, 11))
    for split in splits.values():
        refs = {part: {row // 4 for row in rows} for part, rows in split.items()}
        assert not refs['train'] & refs['test'] and not refs['val'] & refs['test'] and not refs['train'] & refs['val']
        assert sorted(r for rows in split.values() for r in rows) == list(range(40))
        assert len(split['test']) == 8  # 20% of 10 references, 4 images each


def test_random_splits_and_skipped_rows(meta_csv, tmp_path):
    out = tmp_path / 'splits.pkl'
    main(['make-splits', '--meta', str(meta_csv), '--out', str(out), '--splits', '2', '--skip-first', '7'])
    splits = load(out)
    assert sorted(r for rows in splits[1].values() for r in rows) == list(range(33))
    assert splits[1] != splits[2]


def test_unknown_group_column_is_a_clear_error(meta_csv, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(['make-splits', '--meta', str(meta_csv), '--out', str(tmp_path / 's.pkl'), '--group-column', 'nope'])
    assert 'no column' in capsys.readouterr().err
