"""The README's set-up commands are the ones CI runs."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_COMMAND = 'pip install ".[test]" && HF_HUB_OFFLINE=1 python -m pytest'
MAIN_COMMAND = 'pip install . && lifeiqa score examples/images'


def test_readme_and_ci_give_the_same_test_command():
    readme = (ROOT / 'README.md').read_text()
    ci_lines = (ROOT / '.ci' / 'run').read_text().splitlines()
    assert TEST_COMMAND in readme.splitlines()
    assert TEST_COMMAND in ci_lines


def test_readme_main_command_scores_the_bundled_examples():
    readme = (ROOT / 'README.md').read_text()
    assert MAIN_COMMAND in readme.splitlines()
    assert any((ROOT / 'examples' / 'images').glob('*.png'))
