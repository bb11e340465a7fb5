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


def test_version_is_the_packages(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_info:
        main(['--version'])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f'lifeiqa {version("pyiqa-lifeiqa")}'


def test_every_option_of_every_subcommand_says_what_it_does():
    import argparse

    from pyiqa_lifeiqa.cli import build_parser

    parser = build_parser([])
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    undocumented = [
        f'{name} {action.dest}'
        for name, sub in subparsers.choices.items()
        for action in sub._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert undocumented == []
