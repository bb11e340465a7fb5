"""The lifeiqa metric entries for pyiqa's ``DEFAULT_CONFIGS`` (no torch, no pyiqa).

One metric per weight set (:data:`~pyiqa_lifeiqa.weights.registry.WEIGHT_SETS`): it builds that
weight set's network and loads its weights. pyiqa lists (``list_models()``, ``pyiqa -ls``) only
the metrics whose weights can be had (:func:`available_metric_configs`); ``lifeiqa weights``
lists them all.
"""

from __future__ import annotations

from pyiqa_lifeiqa.weights.locate import available
from pyiqa_lifeiqa.weights.registry import WEIGHT_SETS


def metric_config(name: str) -> dict:
    """The ``DEFAULT_CONFIGS`` entry of the metric of weight set ``name``: ``LifeIQA(config=name,
    pretrained=True)`` builds that weight set's network and loads its weights."""
    return {
        'metric_opts': {'type': 'LifeIQA', 'config': name, 'pretrained': True},
        'metric_mode': 'NR',
        'lower_better': False,
        'score_range': WEIGHT_SETS[name].score_range,
    }


METRIC_CONFIGS: dict[str, dict] = {name: metric_config(name) for name in WEIGHT_SETS}


def available_metric_configs() -> dict[str, dict]:
    """The entries of :data:`METRIC_CONFIGS` whose weights are found or downloadable
    (:func:`~pyiqa_lifeiqa.weights.locate.available`: file-system look-ups only, no download)."""
    return {name: entry for name, entry in METRIC_CONFIGS.items() if available(WEIGHT_SETS[name])}
