"""The pyiqa 0.1.16 internals that ``lifeiqa train`` (pyiqa_lifeiqa/train/runner.py) patches for one run.

The runner replaces these names for the duration of ``train_pipeline``; if a pyiqa release renames
them, changes their arguments or stops calling them there, these tests fail first, naming what moved,
instead of a training run silently ignoring the patch.
"""

import inspect

import pyiqa.train
import pyiqa.utils.logger
import pyiqa.utils.options


def test_train_pipeline_still_calls_the_functions_the_runner_replaces():
    pipeline = inspect.getsource(pyiqa.train.train_pipeline)
    assert 'create_train_val_dataloader(' in pipeline  # wrapped: frequencies given in epochs
    assert 'load_resume_state(' in pipeline  # wrapped: resuming onto the CPU
    assert list(inspect.signature(pyiqa.train.create_train_val_dataloader).parameters) == ['opt', 'logger']
    assert list(inspect.signature(pyiqa.train.load_resume_state).parameters) == ['opt']


def test_resuming_still_loads_with_torch_load_onto_the_current_gpu():
    source = inspect.getsource(pyiqa.train.load_resume_state)
    assert 'torch.load' in source and 'current_device' in source  # the two names patched for the CPU


def test_options_still_start_the_process_group_through_init_dist_and_read_sys_argv():
    assert 'init_dist(' in inspect.getsource(pyiqa.utils.options.parse_options)  # skipped: gloo is started here
    assert list(inspect.signature(pyiqa.utils.options.init_dist).parameters)[0] == 'launcher'
    assert 'parse_args()' in inspect.getsource(pyiqa.utils.options.parse_options)  # reads sys.argv, patched


def test_the_logger_still_remembers_its_set_up_in_initialized_logger():
    assert isinstance(pyiqa.utils.logger.initialized_logger, dict)  # emptied so that each run logs to its own file
