"""Specification of `lifeiqa map` (pyiqa_lifeiqa/cli/map.py), run in-process on the tiny ``lifeiqa-test`` metric."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pyiqa_lifeiqa.cli import main


def save_noise(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (60, 80, 3), dtype=np.uint8)).save(path)
    return path


def test_each_image_gets_a_figure_named_after_it_and_its_score_is_printed(lifeiqa_test_metric, tmp_path, capsys):
    import pyiqa

    from pyiqa_lifeiqa.io import load_image

    images = [
        save_noise(tmp_path / 'a' / 'x.png'),
        save_noise(tmp_path / 'b' / 'x.png', 1),
        save_noise(tmp_path / 'y.jpg', 2),
    ]
    out = tmp_path / 'maps'
    assert main(['map', *map(str, images), '--out', str(out), '--metric', lifeiqa_test_metric, '--device', 'cpu']) == 0

    assert sorted(p.name for p in out.iterdir()) == ['x-2_map.png', 'x_map.png', 'y_map.png']  # no figure replaced
    printed = capsys.readouterr().out.splitlines()
    metric = pyiqa.create_metric(lifeiqa_test_metric, device='cpu')
    assert [float(line.split()[1]) for line in printed] == pytest.approx(
        [metric(load_image(p)).item() for p in images], abs=1e-4
    )
    with Image.open(out / 'y_map.png') as figure:
        assert figure.mode == 'RGB' and figure.width > 2 * figure.height


def test_a_stride_finer_than_the_crops_is_taken_and_one_beyond_the_crop_is_an_error(
    lifeiqa_test_metric, tmp_path, capsys
):
    image = str(save_noise(tmp_path / 'x.png'))
    args = ['map', image, '--out', str(tmp_path / 'maps'), '--metric', lifeiqa_test_metric, '--device', 'cpu']
    assert main([*args, '--stride', '56']) == 0
    with pytest.raises(SystemExit) as exit_info:
        main([*args, '--stride', '500'])
    assert exit_info.value.code == 2 and 'stride must be between 1 and the crop size' in capsys.readouterr().err


def test_unreadable_files_are_reported_and_skipped_and_no_input_changes(lifeiqa_test_metric, tmp_path, capsys):
    save_noise(tmp_path / 'in' / 'good.png')
    (tmp_path / 'in' / 'broken.png').write_bytes(b'not a png')
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / 'in').iterdir()}
    out = tmp_path / 'maps'
    assert (
        main(['map', str(tmp_path / 'in'), '--out', str(out), '--metric', lifeiqa_test_metric, '--device', 'cpu']) == 1
    )

    assert [p.name for p in out.iterdir()] == ['good_map.png']
    assert f'skipped {tmp_path / "in" / "broken.png"}' in capsys.readouterr().err
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / 'in').iterdir()}


def test_a_metric_that_is_not_life_iqa_has_no_maps(tmp_path, capsys):
    image = str(save_noise(tmp_path / 'x.png'))
    with pytest.raises(SystemExit) as exit_info:  # PIQE: a no-reference pyiqa metric without weights
        main(['map', image, '--out', str(tmp_path / 'maps'), '--metric', 'piqe', '--device', 'cpu'])
    assert exit_info.value.code == 2 and 'need a Life-IQA metric' in capsys.readouterr().err
    assert not (tmp_path / 'maps').exists()
