"""The lifeiqa metric entries for pyiqa's ``DEFAULT_CONFIGS`` (plain data; no torch, no pyiqa).

Each metric loads one weight set and builds the network of that weight set's config (the arch's
``config`` argument takes the weight set's name).
"""

# metric name -> rough score range (pyiqa shows it; the real range may vary)
_SCORE_RANGES = {
    'lifeiqa': '~0, ~1',
    'lifeiqa-koniq': '~1, ~100',
}

METRIC_CONFIGS: dict[str, dict] = {
    name: {
        'metric_opts': {'type': 'LifeIQA', 'config': name, 'pretrained': True, 'weight_set': name},
        'metric_mode': 'NR',
        'lower_better': False,
        'score_range': score_range,
    }
    for name, score_range in _SCORE_RANGES.items()
}
