"""Specification of score files (pyiqa_lifeiqa/scoring/output.py): streamed, always readable, resumable."""

import csv
import json

import pytest

from pyiqa_lifeiqa.scoring.output import ScoreWriter, read_scores, write_scores

ROWS = [('a.png', 0.5), ('b/c.jpg', 0.123456789012), ('d e,f.png', 1e-9)]


@pytest.mark.parametrize('suffix', ['.csv', '.json', '.JSON'])
def test_every_write_leaves_a_whole_readable_file(tmp_path, suffix):
    path = tmp_path / f'scores{suffix}'
    with ScoreWriter(path) as writer:
        assert read_scores(path) == {}
        for i, row in enumerate(ROWS):
            writer.write([row])
            assert read_scores(path) == dict(ROWS[: i + 1])  # flushed, and whole, before the writer closes
        writer.write([])
    assert read_scores(path) == dict(ROWS)


def test_formats_are_plain_csv_and_a_json_list(tmp_path):
    write_scores(ROWS, tmp_path / 's.csv')
    write_scores(ROWS, tmp_path / 's.json')
    with open(tmp_path / 's.csv', newline='') as f:
        assert [(r['path'], float(r['score'])) for r in csv.DictReader(f)] == ROWS
    assert json.loads((tmp_path / 's.json').read_text()) == [{'path': p, 'score': s} for p, s in ROWS]


def test_write_scores_replaces_the_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / 's.json'
    path.write_text('old')
    write_scores(ROWS[:1], path)
    assert read_scores(path) == dict(ROWS[:1])
    assert [p.name for p in tmp_path.iterdir()] == ['s.json']


def test_a_csv_cut_in_the_middle_of_a_row_loses_that_row_only(tmp_path):
    path = tmp_path / 's.csv'
    write_scores(ROWS[:2], path)
    path.write_bytes(path.read_bytes() + b'd.png,0.98')  # '0.98' of '0.9876' written when the run was killed
    assert read_scores(path) == dict(ROWS[:2])


@pytest.mark.parametrize(
    ('name', 'content', 'message'),
    [
        ('s.csv', 'image,mos\na.png,3\n', 'columns'),
        ('s.csv', 'path,score\na.png,high\n', 'not a score file'),
        ('s.json', '[{"path": "a.png"', 'not a score file'),
        ('s.json', '{"a.png": 0.5}', 'not a score file'),
    ],
)
def test_other_files_are_refused_with_the_reason(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_scores(path)
