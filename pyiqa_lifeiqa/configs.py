"""The lifeiqa metric entries for pyiqa's ``DEFAULT_CONFIGS`` (plain data, no imports)."""

METRIC_CONFIGS: dict[str, dict] = {
    'lifeiqa': {
        'metric_opts': {
            'type': 'LifeIQA',
            'pretrained': True,
            'weight_set': 'lifeiqa',
        },
        'metric_mode': 'NR',
        'lower_better': False,
        'score_range': '~0, ~1',
    },
    'lifeiqa-koniq': {
        'metric_opts': {
            'type': 'LifeIQA',
            'num_experts': 2,
            'pretrained': True,
            'weight_set': 'lifeiqa-koniq',
        },
        'metric_mode': 'NR',
        'lower_better': False,
        'score_range': '~1, ~100',
    },
}
