"""``lifeiqa weights``: every weight set, where its file is or how to get it (pyiqa_lifeiqa/cli/weights.py)."""

from pyiqa_lifeiqa.cli import main


def test_lists_every_weight_set_with_where_it_is_or_how_to_get_it(weight_dirs, monkeypatch, capsys):
    (weight_dirs.package / 'lifeiqa_default.safetensors').write_bytes(b'')
    assert main(['weights']) == 0
    out = capsys.readouterr().out
    assert f'lifeiqa: available (weights shipped in pyiqa_lifeiqa: {weight_dirs.package}' in out
    assert 'lifeiqa-koniq: missing: not listed by pyiqa' in out
    assert 'lifeiqa train --recipe koniq10k' in out and '--weight-set lifeiqa-koniq' in out

    monkeypatch.setenv('LIFEIQA_WEIGHTS_DIR', str(weight_dirs.env))
    (weight_dirs.env / 'lifeiqa_koniq10k_swinb.safetensors').write_bytes(b'')
    assert main(['weights']) == 0
    assert f'lifeiqa-koniq: available ($LIFEIQA_WEIGHTS_DIR: {weight_dirs.env}' in capsys.readouterr().out
