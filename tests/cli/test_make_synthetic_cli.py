"""Specification of `lifeiqa make-synthetic` (pyiqa_lifeiqa/cli/make_synthetic.py)."""

import csv

import numpy as np
import pytest
from PIL import Image

from pyiqa_lifeiqa.cli import main
from pyiqa_lifeiqa.data.distortions import DISTORTIONS


def test_writes_a_dataset_with_the_given_options(tmp_path):
    images = tmp_path / 'pristine'
    images.mkdir()
    rng = np.random.default_rng(0)
    for name in ('a', 'b', 'c'):
        Image.fromarray(rng.integers(0, 256, (180, 200, 3), dtype=np.uint8)).save(images / f'{name}.png')
    out = tmp_path / 'set'
    argv = ['make-synthetic', '--images', str(images), '--out', str(out), '--levels', '1', '--size', '164x170']
    assert main([*argv, '--distortions', 'jpeg, darken', '--seed', '4', '--metrics', 'gmsd,nlpd']) == 0
    with open(out / 'meta_info.csv', newline='') as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['image', 'mos', 'ref_name', 'distortion', 'level', 'gmsd', 'nlpd']
    assert [row[0] for row in rows[1:4]] == ['a.png', 'a_jpeg_1.png', 'a_darken_1.png']
    assert len(rows) == 1 + 3 * 3
    with Image.open(out / 'images' / 'b_darken_1.png') as image:
        assert image.size == (170, 164)
    assert (out / 'splits.pkl').is_file()


def test_crops_turn_two_photographs_into_more_references(tmp_path):
    images = tmp_path / 'pristine'
    images.mkdir()
    rng = np.random.default_rng(1)
    for name in ('a', 'b'):
        Image.fromarray(rng.integers(0, 256, (300, 320, 3), dtype=np.uint8)).save(images / f'{name}.png')
    out = tmp_path / 'set'
    argv = ['make-synthetic', '--images', str(images), '--out', str(out), '--levels', '1', '--size', '164x170']
    assert main([*argv, '--distortions', 'jpeg', '--metrics', 'gmsd', '--crops', '2', '--vary-tone']) == 0
    with open(out / 'meta_info.csv', newline='') as f:
        refs = [row['ref_name'] for row in csv.DictReader(f) if row['distortion'] == 'pristine']
    assert refs == ['a_crop0', 'a_crop1', 'b_crop0', 'b_crop1']


def test_lists_the_distortions(capsys):
    assert main(['make-synthetic', '--list-distortions']) == 0
    assert capsys.readouterr().out.split() == list(DISTORTIONS)


@pytest.mark.parametrize(
    ('extra', 'message'),
    [
        (['--images', 'no/such/folder'], 'images folder no/such/folder does not exist'),
        (['--distortions', 'jpeg,smudge'], 'unknown distortion(s) smudge'),
        (['--size', '100x100'], 'at least 161'),
        (['--vary-tone'], 'vary_tone needs crops'),
    ],
)
def test_bad_options_exit_with_a_clear_message(tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit) as exit_info:
        main(['make-synthetic', '--out', str(tmp_path / 'set'), *extra])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / 'set').exists()


@pytest.mark.parametrize('size', ['384', '384x', 'axb', '384x512x3'])
def test_malformed_size_is_a_usage_error(tmp_path, capsys, size):
    with pytest.raises(SystemExit) as exit_info:
        main(['make-synthetic', '--out', str(tmp_path / 'set'), '--size', size])
    assert exit_info.value.code == 2
    assert 'HEIGHTxWIDTH' in capsys.readouterr().err


def test_out_is_required(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(['make-synthetic'])
    assert exit_info.value.code == 2
    assert '--out is required' in capsys.readouterr().err
