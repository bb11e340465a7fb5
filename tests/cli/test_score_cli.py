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

from pyiqa_lifeiqa.cli import main
from pyiqa_lifeiqa.configs import available_metric_configs
from pyiqa_lifeiqa.io import load_image
from pyiqa_lifeiqa.scoring.scorer import BatchScorer


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
    for i, name in enumerate(['b.png', 'a/z.JPG', 'a/deeper/c.bmp', 'a/gray.png', 'a/anim.gif']):
        save_noise(images / name, seed=i, mode='L' if 'gray' in name else 'RGB')
    (images / 'notes.txt').write_text('not an image')
    out = tmp_path / 'scores.csv'

    assert score(lifeiqa_test_metric, str(images), '--output', str(out)) == 0

    expected = [str(images / n) for n in ('a/anim.gif', 'a/deeper/c.bmp', 'a/gray.png', 'a/z.JPG', 'b.png')]
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


def test_scores_do_not_depend_on_batch_size_or_workers(lifeiqa_test_metric, tmp_path):
    sizes = [(40, 30), (32, 48), (40, 30), (64, 20), (32, 48)]
    folder = tmp_path / 'mixed'
    for i, size in enumerate(sizes):
        save_noise(folder / f'{i}.png', size=size, seed=i)
    results = {}
    for batch_size, workers in ((1, 0), (2, 1), (8, 2), (3, 0)):
        out = tmp_path / f'b{batch_size}w{workers}.csv'
        args = ['--batch-size', str(batch_size), '--workers', str(workers), '--output', str(out)]
        assert score(lifeiqa_test_metric, str(folder), *args) == 0
        results[batch_size, workers] = read_csv(out)

    alone = results[1, 0]
    assert [r['path'] for r in alone] == [str(folder / f'{i}.png') for i in range(5)]
    for rows in results.values():
        assert [r['path'] for r in rows] == [r['path'] for r in alone]
        assert [float(r['score']) for r in rows] == pytest.approx([float(r['score']) for r in alone], abs=1e-5)


def test_rows_reach_the_output_as_they_are_scored(lifeiqa_test_metric, tmp_path, monkeypatch):
    files = [str(save_noise(tmp_path / f'{i}.png', seed=i)) for i in range(5)]
    out = tmp_path / 'scores.json'
    seen_before_each_batch = []
    call = BatchScorer.__call__

    def watching_call(self, batch):
        seen_before_each_batch.append([r['path'] for r in json.loads(out.read_text())])
        return call(self, batch)

    monkeypatch.setattr(BatchScorer, '__call__', watching_call)
    assert score(lifeiqa_test_metric, *files, '--batch-size', '2', '--workers', '0', '--output', str(out)) == 0
    assert seen_before_each_batch == [[], files[:2], files[:4]]
    assert [r['path'] for r in json.loads(out.read_text())] == files


def counting_scored_files(monkeypatch) -> list[str]:
    """Record the name of every file BatchScorer scores."""
    scored = []
    call = BatchScorer.__call__

    def counting_call(self, batch):
        scored.extend(Path(item.path).name for item in batch)
        return call(self, batch)

    monkeypatch.setattr(BatchScorer, '__call__', counting_call)
    return scored


def test_resume_keeps_the_scores_already_written_and_scores_only_the_rest(lifeiqa_test_metric, tmp_path, monkeypatch):
    files = [str(save_noise(tmp_path / 'in' / f'{i}.png', seed=i)) for i in range(4)]
    out = tmp_path / 'scores.csv'
    # an interrupted run: two rows written (one with a score no model gives), the third cut off mid-row
    out.write_text(f'path,score\n{files[2]},123.0\n{files[0]},0.25\n{files[1]},0.4')
    scored = counting_scored_files(monkeypatch)

    assert score(lifeiqa_test_metric, str(tmp_path / 'in'), '--resume', '--output', str(out)) == 0

    assert sorted(scored) == ['1.png', '3.png']
    rows = read_csv(out)
    assert [r['path'] for r in rows] == files  # the input order again
    assert float(rows[2]['score']) == 123.0 and float(rows[0]['score']) == 0.25
    metric = pyiqa.create_metric(lifeiqa_test_metric, device='cpu')
    assert float(rows[1]['score']) == pytest.approx(metric(load_image(files[1])).item(), abs=1e-5)

    scored.clear()
    assert score(lifeiqa_test_metric, str(tmp_path / 'in'), '--resume', '--output', str(out)) == 0
    assert scored == [] and read_csv(out) == rows


def test_resume_takes_up_the_rank_files_of_an_interrupted_torchrun_run(lifeiqa_test_metric, tmp_path, monkeypatch):
    files = [str(save_noise(tmp_path / 'in' / f'{i}.png', seed=i)) for i in range(3)]
    out = tmp_path / 'scores.json'
    (tmp_path / 'scores.rank1-of-2.json').write_text(json.dumps([{'path': files[1], 'score': 7.0}]))
    scored = counting_scored_files(monkeypatch)

    assert score(lifeiqa_test_metric, *files, '--resume', '--output', str(out)) == 0

    assert sorted(scored) == ['0.png', '2.png']
    assert [r['score'] for r in json.loads(out.read_text())][1] == 7.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ['in', 'scores.json']  # the rank file is merged and gone


def test_a_resumed_run_reports_every_score_old_and_new(lifeiqa_test_metric, tmp_path, report_page):
    files = [str(save_noise(tmp_path / 'in' / f'{i}.png', seed=i)) for i in range(3)]
    out, report = tmp_path / 'scores.csv', tmp_path / 'report.html'
    out.write_text(f'path,score\n{files[1]},-1.0\n')  # a score no model gives: the worst
    args = [str(tmp_path / 'in'), '--resume', '--output', str(out), '--report', str(report), '--report-n', '1']

    assert score(lifeiqa_test_metric, *args) == 0

    page = report_page(report.read_text())
    assert sorted(row[1] for row in page.rows) == files and sum(page.counts) == 3
    assert page.rows[0][1:] == [files[1], '-1.000000'] and page.sections['worst'][0].split()[-1] == files[1]


def test_resume_refuses_an_output_that_is_not_a_score_file(lifeiqa_test_metric, tmp_path, capsys):
    out = tmp_path / 'scores.csv'
    out.write_text('image,mos\na.png,3\n')
    with pytest.raises(SystemExit) as exit_info:
        score(lifeiqa_test_metric, str(save_noise(tmp_path / 'a.png')), '--resume', '--output', str(out))
    assert exit_info.value.code == 2
    assert 'not a score file' in capsys.readouterr().err
    assert out.read_text() == 'image,mos\na.png,3\n'


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


def test_max_pixels_is_the_pixel_limit_of_the_command(lifeiqa_test_metric, tmp_path, capsys):
    image = str(save_noise(tmp_path / 'a.png', size=(40, 30)))  # 1,200 pixels
    assert score(lifeiqa_test_metric, image, '--max-pixels', '1000') == 1
    assert 'over the limit of 1000' in capsys.readouterr().err
    assert score(lifeiqa_test_metric, image, '--max-pixels', '1200') == 0


def test_unknown_metric_exits_2_listing_the_lifeiqa_metrics(lifeiqa_test_metric, tmp_path, capsys):
    image = save_noise(tmp_path / 'a.png')
    with pytest.raises(SystemExit) as exit_info:
        score('no-such-metric', str(image))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown metric 'no-such-metric'" in err
    listed = err.split('the lifeiqa metrics are: ')[1].split(' (')[0].split(', ')
    assert listed == sorted([*available_metric_configs(), lifeiqa_test_metric])


def test_a_metric_without_weights_exits_2_pointing_to_lifeiqa_weights(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        score('lifeiqa-koniq', str(save_noise(tmp_path / 'a.png')))
    assert exit_info.value.code == 2
    assert "the weights of 'lifeiqa-koniq' were not found; `lifeiqa weights`" in capsys.readouterr().err


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
        (['--workers', '-1'], 'must be at least 0'),
        (['--resume'], '--resume needs --output'),
        (['--report', 'report.pdf'], 'must end in .html'),
        (['--report-n', '0'], 'must be at least 1'),
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


def test_torchrun_with_two_gloo_processes_gives_the_rows_of_one_process(tmp_path, report_page):
    """Two CPU processes (gloo), each with its shard, merged by rank 0: the rows of a single-process run."""
    import os
    import subprocess
    import sys

    folder = tmp_path / 'images'
    for i in range(5):
        save_noise(folder / f'{i}.png', size=(48 + 8 * i, 40), seed=i)
    (folder / 'broken.png').write_bytes(b'not a png')
    single, merged = tmp_path / 'single.csv', tmp_path / 'merged.csv'
    assert main(['score', str(folder), '--device', 'cpu', '--output', str(single)]) == 1  # broken.png: status 1

    command = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2']
    command += ['-m', 'pyiqa_lifeiqa.cli', 'score', str(folder), '--device', 'cpu', '--output', str(merged)]
    command += ['--report', str(tmp_path / 'report.html')]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, 'HF_HUB_OFFLINE': '1'})

    assert done.returncode == 1, done.stderr  # every rank exits with the job's status
    assert [r['path'] for r in read_csv(merged)] == [r['path'] for r in read_csv(single)]
    assert [float(r['score']) for r in read_csv(merged)] == pytest.approx(
        [float(r['score']) for r in read_csv(single)], abs=1e-5
    )
    assert done.stderr.count('skipped') == 2  # broken.png, by the rank that had it; and the summary line
    assert '1 file(s) skipped, 5 scored' in done.stderr
    table = done.stdout.splitlines()
    assert table[0].split() == ['path', 'score'] and len(table) == 6  # printed once, by rank 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ['images', 'merged.csv', 'report.html', 'single.csv']
    rows = report_page((tmp_path / 'report.html').read_text()).rows  # by rank 0, of the merged scores
    assert sorted(row[1] for row in rows) == sorted(r['path'] for r in read_csv(single))
