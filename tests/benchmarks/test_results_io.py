"""Provenance and result writing of the benchmark scripts (benchmarks/results_io.py)."""

import csv
import subprocess

import pytest
import torch
from results_io import provenance, source_commit, write_results

from pyiqa_lifeiqa.weights.resolve import resolve_weight_file, sha256sum


def test_commit_is_dirty_for_changed_code_but_not_for_rewritten_results(tmp_path):
    def git(*args):
        return subprocess.run(
            ['git', '-c', 'user.name=t', '-c', 'user.email=t@t', *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    (tmp_path / 'benchmarks' / 'results').mkdir(parents=True)
    (tmp_path / 'benchmarks' / 'results' / 'r.csv').write_text('srcc\n0.5\n')
    (tmp_path / 'code.py').write_text('x = 1\n')
    git('init', '-q')
    git('add', '.')
    git('commit', '-qm', 'start')
    head = git('rev-parse', 'HEAD')
    (tmp_path / 'benchmarks' / 'results' / 'r.csv').unlink()  # a benchmark rewriting its results
    assert source_commit(tmp_path) == head
    (tmp_path / 'code.py').write_text('x = 2\n')
    assert source_commit(tmp_path) == f'{head}-dirty'
    assert source_commit(tmp_path / 'benchmarks' / 'results') == f'{head}-dirty'  # from any folder of the checkout


def test_results_are_traced_to_commit_packages_weights_and_dataset(tmp_path):

    (tmp_path / 'data').mkdir()
    (tmp_path / 'data' / 'meta_info.csv').write_text('image,mos\n')
    weights = resolve_weight_file('lifeiqa')
    traced = provenance(weights=weights, dataset=tmp_path / 'data')
    assert traced['commit'] == source_commit() and traced['commit'] != ''
    assert {'pyiqa-lifeiqa', 'pyiqa', 'torch', 'timm'} <= set(traced)
    assert torch.__version__.startswith(traced['torch'])  # the installed distribution's version
    assert traced['weights_sha256'] == sha256sum(weights)
    assert traced['dataset_meta_sha256'] == sha256sum(tmp_path / 'data' / 'meta_info.csv')
    assert provenance(dataset=tmp_path / 'nowhere')['dataset_meta_sha256'] == 'no meta_info.csv'

    out = tmp_path / 'results.csv'
    write_results([{'srcc': 0.5}], out, traced)
    write_results([{'srcc': 0.7}], out, traced, append=True)
    with open(out, newline='') as f:
        rows = list(csv.DictReader(f))
    assert [r['srcc'] for r in rows] == ['0.5', '0.7']
    assert all(r['weights_sha256'] == traced['weights_sha256'] for r in rows)


def test_results_are_not_appended_to_a_file_of_other_columns(tmp_path):
    out = write_results([{'srcc': 0.5}], tmp_path / 'results.csv', {'commit': 'abc'})
    before = out.read_text()
    with pytest.raises(ValueError, match=r"cannot append to .*results.csv: its columns \['srcc', 'commit'\]"):
        write_results([{'srcc': 0.7, 'plcc': 0.6}], out, {'commit': 'abc'}, append=True)
    assert out.read_text() == before
