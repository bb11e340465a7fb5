"""Specification of the training runner (pyiqa_lifeiqa/train/runner.py); whole runs: tests/cli/test_train_cli.py."""

import re

import pytest
import yaml

from pyiqa_lifeiqa.train.recipes import load_recipe
from pyiqa_lifeiqa.train.runner import (
    check_epoch_frequencies,
    check_overrides,
    float_overrides_tagged,
    iterations_per_epoch,
    resolve_epoch_frequencies,
    resolve_option_file,
)


def test_frequencies_in_epochs_become_iterations_of_this_run():
    opt = {'val': {'val_freq_epochs': 1}, 'logger': {'save_checkpoint_freq_epochs': 0.5, 'save_latest_freq_epochs': 2}}
    resolve_epoch_frequencies(opt, iters_per_epoch=567)
    assert opt == {'val': {'val_freq': 567}, 'logger': {'save_checkpoint_freq': 284, 'save_latest_freq': 1134}}
    tiny = {'val': {'val_freq_epochs': 0.01}}
    resolve_epoch_frequencies(tiny, iters_per_epoch=5)
    assert tiny == {'val': {'val_freq': 1}}  # never 0, which pyiqa would divide by


def test_an_iteration_count_the_run_already_has_wins_over_epochs():
    opt = {'val': {'val_freq_epochs': 1, 'val_freq': 7}}  # --force_yml val:val_freq=7, or pyiqa's debug mode
    resolve_epoch_frequencies(opt, iters_per_epoch=100)
    assert opt == {'val': {'val_freq': 7}}


def test_iterations_per_epoch_follow_batch_size_enlargement_and_processes():
    opt = {'datasets': {'train': {'batch_size_per_gpu': 128, 'dataset_enlarge_ratio': 40}}, 'world_size': 4}
    assert iterations_per_epoch(opt, 7253) == 567  # KonIQ-10k's training part on the authors' 4 GPUs
    assert iterations_per_epoch({**opt, 'world_size': 1}, 7253) == 2267


def test_an_option_file_with_a_frequency_in_both_units_is_refused():
    with pytest.raises(ValueError, match=re.escape('val: both val_freq and val_freq_epochs are set; keep one')):
        check_epoch_frequencies({'val': {'val_freq_epochs': 1, 'val_freq': 5}})


def test_a_frequency_forced_in_epochs_over_one_in_iterations_is_refused():
    with pytest.raises(ValueError, match=re.escape('force val:val_freq=N instead')):
        check_epoch_frequencies({'val': {'val_freq': 5}}, ['val:val_freq_epochs=2'])
    check_epoch_frequencies({'val': {'val_freq_epochs': 1}}, ['val:val_freq_epochs=2'])  # epochs over epochs
    with pytest.raises(ValueError, match=re.escape('got -1')):  # before pyiqa makes any folder
        check_epoch_frequencies({'val': {'val_freq_epochs': 1}}, ['val:val_freq_epochs=-1'])


@pytest.mark.parametrize('value', [0, -0.5, '-1', True])  # '-1': what pyiqa makes of val:val_freq_epochs=-1
def test_frequencies_in_epochs_must_be_positive_numbers(value):
    with pytest.raises(
        ValueError, match=re.escape(f'val: val_freq_epochs must be a positive number of epochs, got {value!r}')
    ):
        resolve_epoch_frequencies({'val': {'val_freq_epochs': value}}, iters_per_epoch=10)


def test_an_option_file_naming_a_base_is_run_whole(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / 'my_koniq.yml'
    mine.write_text('base: koniq10k\nname: mine\ntrain:\n  optim:\n    lr: 0.0001\n')
    resolved = resolve_option_file(mine)
    assert resolved == tmp_path.joinpath('options', 'my_koniq.yml').relative_to(tmp_path)
    options = yaml.safe_load(resolved.read_text())
    expected = load_recipe('koniq10k')
    assert options['name'] == 'mine' and options['train']['optim'] == {**expected['train']['optim'], 'lr': 0.0001}
    assert options['model_type'] == expected['model_type'] and 'base' not in options
    plain = tmp_path / 'plain.yml'
    plain.write_text('name: plain\n')
    assert resolve_option_file(plain) == plain


@pytest.mark.parametrize(
    ('entry', 'passed_to_pyiqa'),
    [
        ('train:optim:lr=2e-4', 'train:optim:lr=!!float 2e-4'),
        ('train:aux_loss:router_z_weight=-0.5', 'train:aux_loss:router_z_weight=!!float -0.5'),
        ('train:optim:lr=1E-3', 'train:optim:lr=!!float 1E-3'),
        ('train:total_epoch=2', 'train:total_epoch=2'),  # pyiqa reads these numbers itself
        ('train:optim:lr=0.001', 'train:optim:lr=0.001'),
        ('train:warmup_iter=-1', 'train:warmup_iter=-1'),
        ('network:backbone=regnety_004', 'network:backbone=regnety_004'),
        ('name=run_1e5', 'name=run_1e5'),
        ('train:grad_clip=inf', 'train:grad_clip=inf'),
        ('train:optim:lr=!!float 2e-4', 'train:optim:lr=!!float 2e-4'),
    ],
)
def test_force_yml_floats_that_pyiqa_would_read_as_strings_are_tagged(entry, passed_to_pyiqa):
    assert float_overrides_tagged(entry) == passed_to_pyiqa


@pytest.mark.parametrize(
    ('entry', 'message'),
    [
        ('val:val_freq=2', "the options have no 'val' (keys there: "),
        ('datasets:tests:phase=test', "the options have no 'datasets:tests' (keys there: train, val)"),
        ('name:sub=1', "'name' is a value, not a section"),
        ('train:total_iter', 'expected KEY:SUBKEY=VALUE'),
        ('train:total_iter=2=3', 'expected KEY:SUBKEY=VALUE'),
    ],
)
def test_force_yml_entries_pyiqa_would_fail_on_are_refused_with_the_reason(entry, message):
    opt = {'name': 'run', 'datasets': {'train': {}, 'val': {}}, 'train': {'total_iter': 4}}
    with pytest.raises(ValueError, match=re.escape(message)):
        check_overrides(opt, [entry])
    check_overrides(opt, ['train:total_iter=2', 'train:new_key=1', 'name=other'])  # a last key may be new
