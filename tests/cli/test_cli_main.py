"""The `lifeiqa` command line (pyiqa_lifeiqa/cli/__init__.py): every sub-command is reachable."""

import pytest

from pyiqa_lifeiqa.cli import SUBCOMMANDS, main


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(['--help'])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


@pytest.mark.parametrize('name', sorted(SUBCOMMANDS))
def test_each_subcommand_has_help(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([name, '--help'])
    assert exit_info.value.code == 0
    assert f'lifeiqa {name}' in capsys.readouterr().out
