"""Specification of the import-free registration with pyiqa (pyiqa_lifeiqa/registration.py).

Installing the plugin is enough: a fresh interpreter that never imports pyiqa_lifeiqa sees the
lifeiqa metrics in pyiqa, and the start-up hook neither imports torch nor pyiqa.
"""

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pyiqa_lifeiqa import registration
from pyiqa_lifeiqa.configs import METRIC_CONFIGS, available_metric_configs

ROOT = Path(__file__).resolve().parents[1]
PTH = ROOT / 'pyiqa_lifeiqa_autoload.pth'


def run_python(code: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, 'HF_HUB_OFFLINE': '1', **kwargs.pop('env_extra', {})}
    return subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True, env=env, cwd=kwargs.pop('cwd', '/'), **kwargs
    )


def test_every_entry_is_a_no_reference_higher_is_better_lifeiqa_metric():
    assert 'lifeiqa' in METRIC_CONFIGS
    for name, entry in METRIC_CONFIGS.items():
        assert name.startswith('lifeiqa')
        assert entry['metric_opts']['type'] == 'LifeIQA'
        assert entry['metric_mode'] == 'NR'
        assert entry['lower_better'] is False
        assert entry['score_range']


def test_fresh_interpreter_lists_lifeiqa_through_pyiqa_alone():
    result = run_python(
        'import pyiqa, sys\n'
        "print(sorted(m for m in pyiqa.list_models() if m.startswith('lifeiqa')))\n"
        "print(pyiqa.default_model_configs.DEFAULT_CONFIGS['lifeiqa']['metric_opts']['type'])"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(sorted(available_metric_configs())), 'LifeIQA']


def test_a_metric_is_listed_only_while_its_weights_can_be_had(tmp_path):
    listing = "import pyiqa; print(sorted(m for m in pyiqa.list_models() if m.startswith('lifeiqa')))"
    assert run_python(listing).stdout.split() == ["['lifeiqa']"]  # no lifeiqa-koniq weights anywhere
    built = run_python("import pyiqa; pyiqa.create_metric('lifeiqa-koniq')")
    assert 'AssertionError' in built.stderr and 'not implemented' in built.stderr  # pyiqa's own refusal
    (tmp_path / 'lifeiqa_koniq10k_swinb.safetensors').write_bytes(b'')  # found by name: a stat, not a read
    found = run_python(listing, env_extra={'LIFEIQA_WEIGHTS_DIR': str(tmp_path)})
    assert found.stdout.split() == ["['lifeiqa',", "'lifeiqa-koniq']"]


def test_pyiqa_command_line_lists_lifeiqa():
    pyiqa_cli = Path(sys.executable).with_name('pyiqa')
    result = subprocess.run([str(pyiqa_cli), '-ls'], capture_output=True, text=True, env={**os.environ})
    assert result.returncode == 0, result.stderr
    assert set(re.findall(r"'(lifeiqa[^']*)'", result.stdout)) == set(available_metric_configs())


def test_start_up_hook_imports_neither_torch_nor_pyiqa():
    result = run_python(
        'import sys\n'
        "print('pyiqa_lifeiqa' in sys.modules, 'torch' in sys.modules, 'pyiqa' in sys.modules, "
        "'numpy' in sys.modules)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['True', 'False', 'False', 'False']


@pytest.mark.parametrize('order', ['pyiqa first', 'plugin first'])
def test_explicit_import_in_either_order_is_idempotent(order):
    imports = 'import pyiqa, pyiqa_lifeiqa' if order == 'pyiqa first' else 'import pyiqa_lifeiqa, pyiqa'
    result = run_python(
        f'{imports}\n'
        'from pyiqa_lifeiqa.registration import register_metrics\n'
        'register_metrics(); register_metrics()\n'
        'import sys\n'
        'from pyiqa.default_model_configs import DEFAULT_CONFIGS as C\n'
        "print(sum(k.startswith('lifeiqa') for k in C), type(sys.meta_path[0]).__name__)",
        cwd=str(ROOT),
    )
    assert result.returncode == 0, result.stderr
    count, first_finder = result.stdout.split()
    assert int(count) == len(available_metric_configs())
    assert first_finder != '_ConfigsFinder'


def test_existing_pyiqa_entries_are_never_replaced():
    class FakeConfigsModule:
        DEFAULT_CONFIGS = {'lifeiqa': {'metric_opts': {'type': 'Mine'}}}

    registration.extend_default_configs(FakeConfigsModule)
    assert FakeConfigsModule.DEFAULT_CONFIGS['lifeiqa'] == {'metric_opts': {'type': 'Mine'}}
    assert set(available_metric_configs()) <= set(FakeConfigsModule.DEFAULT_CONFIGS)


def test_a_failing_registration_warns_and_pyiqa_still_imports():
    result = run_python(
        'import sys\n'
        "sys.modules['pyiqa_lifeiqa.configs'] = None  # make our config import fail\n"
        'import pyiqa\n'
        "print('lifeiqa' in pyiqa.list_models())"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'False'
    assert 'pyiqa-lifeiqa: could not add the lifeiqa metrics' in result.stderr


def test_start_up_line_fails_soft_when_the_package_is_broken():
    line = PTH.read_text()
    result = run_python(f"import sys\nsys.modules['pyiqa_lifeiqa'] = None\nexec({line!r})\nprint('started')")
    assert result.returncode == 0
    assert result.stdout.strip() == 'started'
    assert 'automatic registration with pyiqa failed' in result.stderr


@pytest.mark.parametrize('builder', ['build_wheel', 'build_editable'])
def test_wheels_install_the_start_up_hook_at_site_packages_root(builder, tmp_path):
    result = subprocess.run(
        [sys.executable, '-c', f'import hatchling.build as b; print(b.{builder}({str(tmp_path)!r}))'],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    wheel = tmp_path / result.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert 'pyiqa_lifeiqa_autoload.pth' in names
        assert zf.read('pyiqa_lifeiqa_autoload.pth').decode() == PTH.read_text()
        path_files = sorted(n for n in names if n.endswith('.pth'))
    # site.py runs .pth files in name order: an editable wheel's path file must come first.
    assert path_files[-1] == 'pyiqa_lifeiqa_autoload.pth'
