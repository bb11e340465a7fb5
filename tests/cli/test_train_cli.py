"""Specification of `lifeiqa train` (pyiqa_lifeiqa/cli/train.py): pyiqa's pipeline, outputs in the working directory."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pyiqa_lifeiqa.cli import main
from pyiqa_lifeiqa.models.lifeiqa_model import LifeIQAModel


def train_log(workdir: Path) -> str:
    return '\n'.join(p.read_text() for p in sorted((workdir / 'experiments').rglob('train_*.log')))


def test_trains_with_pyiqa_and_writes_outputs_under_the_working_directory(tiny_train_options, tmp_path, monkeypatch):
    workdir = tmp_path / 'work'
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    assert main(['train', '-opt', str(tiny_train_options)]) == 0
    models = workdir / 'experiments' / 'tiny_lifeiqa' / 'models'
    assert (models / 'net_best.pth').is_file()  # chosen on the val part
    assert (models / 'net_4.pth').is_file()
    log = train_log(workdir)
    assert 'l_load_balance' in log and 'l_router_z' in log and 'l_mos' in log
    assert 'Validation tiny_val' in log


class Killed(Exception):
    """Stands for the process being killed."""


def test_auto_resume_after_a_kill_continues_from_the_last_saved_state(tiny_train_options, tmp_path, monkeypatch):
    workdir = tmp_path / 'work'
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    six_iters = ['--force_yml', 'train:total_iter=6']  # states are saved every 2 iterations
    train_step = LifeIQAModel.optimize_parameters

    def killed_at_iteration_5(model, current_iter):
        if current_iter == 5:
            raise Killed
        train_step(model, current_iter)

    with monkeypatch.context() as patch:
        patch.setattr(LifeIQAModel, 'optimize_parameters', killed_at_iteration_5)
        with pytest.raises(Killed):
            main(['train', '-opt', str(tiny_train_options), *six_iters])
    assert main(['train', '-opt', str(tiny_train_options), '--auto_resume', *six_iters]) == 0

    experiment = workdir / 'experiments' / 'tiny_lifeiqa'
    # Resumed in place: a fresh start would have archived the first run's folder.
    assert [p.name for p in (workdir / 'experiments').iterdir()] == ['tiny_lifeiqa']
    resumed_log = max(experiment.glob('train_*.log'), key=lambda p: p.stat().st_mtime).read_text()
    assert 'Resuming training from epoch: 1, iter: 4.' in resumed_log
    trained = [int(line.split('iter:')[1].split(',')[0]) for line in resumed_log.splitlines() if ' lr:(' in line]
    assert trained == [5, 6]  # only the unsaved iteration 5 is redone
    assert {p.name for p in (experiment / 'models').glob('net_[0-9]*.pth')} == {'net_2.pth', 'net_4.pth', 'net_6.pth'}
    assert (experiment / 'training_states' / '6.state').is_file()


def test_lists_the_shipped_recipes(capsys):
    assert main(['train', '--list-recipes']) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    stages = 'default_model default_model_stage2 default_model_stage3'
    expected = f'csiq {stages} flive kadid10k koniq10k live livec robust_finetune spaq synthetic tid2013'.split()
    assert names == expected


def test_trains_the_synthetic_recipe_on_a_make_synthetic_dataset(
    tiny_nr_dataset, tiny_train_options, tmp_path, monkeypatch
):
    data_root = tmp_path / 'datasets'
    data_root.mkdir()
    (data_root / 'synthetic').symlink_to(tiny_nr_dataset)  # make-synthetic --out DATA_ROOT/synthetic
    workdir = tmp_path / 'work'
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    tiny_network = yaml.safe_load(tiny_train_options.read_text())['network']  # the tiny LifeIQA
    tiny = [
        *(f'network:{k}={v}' for k, v in tiny_network.items()),
        'datasets:train:augment:random_crop=32',
        'datasets:train:batch_size_per_gpu=4',
        'datasets:train:dataset_enlarge_ratio=2',  # 9 train images: 5 iterations per epoch
        'datasets:train:num_worker_per_gpu=0',
        'datasets:val:num_worker_per_gpu=0',
        'train:total_epoch=3',
        'logger:print_freq=1',
        'logger:use_tb_logger=false',
    ]  # validation and checkpoints: the recipe's once per epoch, i.e. every 5 iterations here
    assert main(['train', '--recipe', 'synthetic', '--data-root', str(data_root), '--force_yml', *tiny]) == 0
    resolved = (workdir / 'options' / 'synthetic.yml').read_text()  # the options run, kept beside experiments/
    assert f'{data_root}/synthetic/meta_info.csv' in resolved and './datasets' not in resolved
    assert 'Frequencies: val_freq 5, save_checkpoint_freq 5, save_latest_freq 5 iterations (5 per epoch)' in (
        train_log(workdir)
    )
    models = workdir / 'experiments' / 'lifeiqa_synthetic' / 'models'
    assert {p.name for p in models.glob('net_*.pth')} == {f'net_{i}.pth' for i in (5, 10, 15, 'best', 'latest')}
    # the authors' schedule, stepped every iteration: linear warm-up over 2 epochs (10 iterations) from 2e-7 to 2e-5
    lrs = [float(line.split('lr:(')[1].split(',')[0]) for line in train_log(workdir).splitlines() if 'lr:(' in line]
    assert lrs == pytest.approx([2e-7 + t * (2e-5 - 2e-7) / 10 for t in range(10)] + [2e-5] * 5, rel=1e-3)


def test_trains_the_default_model_recipe_on_reference_groups(
    tiny_nr_dataset, tiny_train_options, tmp_path, monkeypatch
):
    data_root = tmp_path / 'datasets'
    data_root.mkdir()
    data = data_root / 'photos_multiscale'  # the recipe's set, with its train/val split file
    data.mkdir()
    for name in ('images', 'meta_info.csv'):
        (data / name).symlink_to(tiny_nr_dataset / name)
    (data / 'splits_trainval.pkl').symlink_to(tiny_nr_dataset / 'splits.pkl')
    workdir = tmp_path / 'work'
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    tiny_network = yaml.safe_load(tiny_train_options.read_text())['network']
    tiny = [
        *(f'network:{k}={v}' for k, v in tiny_network.items()),
        'network:working_size=40',  # the tiny images' own size
        'datasets:train:group_size=3',  # each tiny reference has 3 images
        'datasets:train:augment:random_crop=32',
        'datasets:train:batch_size_per_gpu=2',  # 2 groups: 6 images an iteration
        'datasets:train:num_worker_per_gpu=0',
        'datasets:val:num_worker_per_gpu=0',
        'train:optim:lr=5e-4',  # a float pyiqa alone would pass to AdamW as a string
        'train:total_epoch=2',
        'val:val_freq=5',
        'logger:print_freq=1',
        'logger:save_checkpoint_freq=5',
        'logger:save_latest_freq=5',
        'logger:use_tb_logger=false',
    ]
    assert main(['train', '--recipe', 'default_model', '--data-root', str(data_root), '--force_yml', *tiny]) == 0
    log = train_log(workdir)
    assert 'Dataset [ReferenceGroupDataset] - photos_multiscale is built.' in log
    assert 'Total epochs: 2; iters: 10.' in log  # 9 training images of split 1 = 5 batches of 2 groups
    assert 'lr: 0.0005' in log
    assert (workdir / 'experiments' / 'lifeiqa_default_multiscale' / 'models' / 'net_best.pth').is_file()


def test_a_wrong_force_yml_key_is_a_usage_error_before_training(tiny_train_options, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(['train', '-opt', str(tiny_train_options), '--force_yml', 'validation:val_freq=1'])
    assert exit_info.value.code == 2
    assert "the options have no 'validation'" in capsys.readouterr().err
    assert not (tmp_path / 'experiments').exists()


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
        experiment = workdir / 'experiments' / f'tiny_lifeiqa_split{index:02d}'
        assert (experiment / 'models' / 'net_best.pth').is_file()
        # each split logs to its own file
        assert 'End of training' in '\n'.join(p.read_text() for p in experiment.glob('train_*.log'))
    assert 'median over 2 splits' in capsys.readouterr().out
