"""Adds the lifeiqa metrics to pyiqa's ``DEFAULT_CONFIGS`` without importing pyiqa or torch.

pyiqa's registries find our arch and model classes through entry points, but
``create_metric`` and ``list_models`` read only ``pyiqa.default_model_configs.DEFAULT_CONFIGS``,
which no entry point fills. So, at interpreter start-up (``pyiqa_lifeiqa_autoload.pth``), a
meta-path finder waits for that module to be imported and extends the dict right after the
module body has run, before anything else can read it. If the module is already loaded, the
dict is extended at once. Both paths are idempotent and never replace an existing entry.
This module runs at every interpreter start-up: it imports nothing beyond ``sys`` there.
"""

import sys

TARGET_MODULE = 'pyiqa.default_model_configs'


def extend_default_configs(module: object) -> None:
    """Add our entries whose weights can be had to ``module.DEFAULT_CONFIGS`` in place (existing names are kept)."""
    from pyiqa_lifeiqa.configs import available_metric_configs

    configs = module.DEFAULT_CONFIGS
    for name, entry in available_metric_configs().items():
        configs.setdefault(name, entry)


class _ConfigsFinder:
    """Meta-path finder that patches the loader of pyiqa's ``default_model_configs`` module."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != TARGET_MODULE:
            return None
        sys.meta_path.remove(self)
        for finder in sys.meta_path:
            find_spec = getattr(finder, 'find_spec', None)
            spec = find_spec(fullname, path, target) if find_spec else None
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_and_extend(module):
            exec_module(module)
            try:
                extend_default_configs(module)
            except Exception as error:  # never break `import pyiqa` because of us
                import warnings

                warnings.warn(
                    f'pyiqa-lifeiqa: could not add the lifeiqa metrics: {error!r}', RuntimeWarning, stacklevel=2
                )

        loader.exec_module = exec_and_extend
        return spec


def register_metrics() -> None:
    """Make the lifeiqa metrics visible in pyiqa, whether or not pyiqa is imported yet."""
    module = sys.modules.get(TARGET_MODULE)
    if module is not None:
        extend_default_configs(module)
    elif not any(isinstance(finder, _ConfigsFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ConfigsFinder())
