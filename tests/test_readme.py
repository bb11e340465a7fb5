"""The README's set-up commands are the ones CI runs, and its main command scores the bundled examples
(their scores and order: tests/weights/test_shipped_default_model.py)."""

import csv
from pathlib import Path

from pyiqa_lifeiqa.cli import main

ROOT = Path(__file__).resolve().parents[1]
TEST_COMMAND = 'pip install ".[test]" && HF_HUB_OFFLINE=1 python -m pytest'
MAIN_COMMAND = 'pip install . && lifeiqa score examples/images'


def test_readme_and_ci_give_the_same_test_command():
    readme = (ROOT / 'README.md').read_text()
    ci_lines = (ROOT / '.ci' / 'run').read_text().splitlines()
    assert TEST_COMMAND in readme.splitlines()
    assert TEST_COMMAND in ci_lines


def test_readme_main_command_scores_every_bundled_example(tmp_path, monkeypatch):
    readme = (ROOT / 'README.md').read_text()
    assert MAIN_COMMAND in readme.splitlines()
    monkeypatch.chdir(ROOT)
    out = tmp_path / 'scores.csv'
    assert main(['score', 'examples/images', '--output', str(out)]) == 0  # the command's second half
    with open(out, newline='') as f:
        rows = list(csv.DictReader(f))
    assert sorted(Path(row['path']).name for row in rows) == sorted(
        p.name for p in (ROOT / 'examples' / 'images').glob('*.png')
    )
    assert all(0.0 < float(row['score']) < 1.5 for row in rows)  # the default model's ~0-1 range
