"""Specification of `lifeiqa train` (pyiqa_lifeiqa/cli/train.py): pyiqa's pipeline, outputs in the working directory."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyiqa_lifeiqa.cli import main


def train_log(workdir: Path) -> str:
    return '\n'.join(p.read_text() for p in sorted((workdir / 'experiments').rglob('train_*.log')))


def test_trains_with_pyiqa_and_writes_outputs_under_the_working_directory(
    tiny_train_options, tmp_path, monkeypatch, caplog
):
    workdir = tmp_path / 'work'
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    caplog.set_level('INFO', logger='pyiqa')
    assert main(['train', '-opt', str(tiny_train_options)]) == 0
    models = workdir / 'experiments' / 'tiny_lifeiqa' / 'models'
    assert (models / 'net_best.pth').is_file()  # chosen on the val part
    assert (models / 'net_4.pth').is_file()
    assert 'l_load_balance' in caplog.text and 'l_router_z' in caplog.text and 'l_mos' in caplog.text
    assert 'Validation tiny_val' in caplog.text


def test_auto_resume_continues_from_the_last_saved_state(tiny_train_options, tmp_path, monkeypatch):
    workdir = tmp_path / 'work'
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    main(['train', '-opt', str(tiny_train_options)])
    main(['train', '-opt', str(tiny_train_options), '--auto_resume', '--force_yml', 'train:total_iter=6'])
    experiment = workdir / 'experiments' / 'tiny_lifeiqa'
    # Resumed in place: a fresh start would have archived the first run's folder.
    assert [p.name for p in (workdir / 'experiments').iterdir()] == ['tiny_lifeiqa']
    assert {p.name for p in (experiment / 'models').glob('net_[0-9]*.pth')} == {'net_2.pth', 'net_4.pth', 'net_6.pth'}
    assert (experiment / 'training_states' / '6.state').is_file()


def test_lists_the_shipped_recipes(capsys):
    assert main(['train', '--list-recipes']) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    expected = ['csiq', 'default_model', 'flive', 'kadid10k', 'koniq10k', 'live', 'livec', 'spaq', 'tid2013']
    assert names == expected


def test_missing_option_file_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(['train', '-opt', str(tmp_path / 'nope.yml')])
    assert exit_info.value.code == 2
    assert 'option file not found' in capsys.readouterr().err


def test_distributed_training_runs_two_processes_on_cpu(tiny_train_options, tmp_path):
    workdir = tmp_path / 'work'
    workdir.mkdir()
    command = [
        sys.executable,
        '-m',
        'torch.distributed.run',
        '--nproc_per_node',
        '2',
        '--master_port',
        '29533',
        '-m',
        'pyiqa_lifeiqa.cli',
        'train',
        '-opt',
        str(tiny_train_options),
        '--launcher',
        'pytorch',
    ]
    env = {**os.environ, 'HF_HUB_OFFLINE': '1', 'OMP_NUM_THREADS': '1'}
    result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    log = train_log(workdir)
    assert 'world_size: 2' in log
    assert 'End of training' in log
    assert (workdir / 'experiments' / 'tiny_lifeiqa' / 'models' / 'net_latest.pth').is_file()


def test_train_splits_chooses_on_val_and_reports_the_median_test_correlations(
    tiny_train_options, tmp_path, monkeypatch, capsys
):
    workdir = tmp_path / 'work'
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    assert main(['train-splits', '-opt', str(tiny_train_options), '--splits', '2']) == 0
    summary = json.loads((workdir / 'experiments' / 'tiny_lifeiqa_splits.json').read_text())
    assert [s['split_index'] for s in summary['splits']] == [1, 2]
    srccs = [s['srcc'] for s in summary['splits']]
    assert summary['median_srcc'] == pytest.approx(sum(srccs) / 2)
    assert all(-1 <= s['srcc'] <= 1 and -1 <= s['plcc'] <= 1 for s in summary['splits'])
    for index in (1, 2):
        assert (workdir / 'experiments' / f'tiny_lifeiqa_split{index:02d}' / 'models' / 'net_best.pth').is_file()
    assert 'median over 2 splits' in capsys.readouterr().out
