"""Life-IQA weights, one job per module.

- :mod:`~pyiqa_lifeiqa.weights.registry`: the named weight sets (plain data, cheap to import).
- :mod:`~pyiqa_lifeiqa.weights.resolve`: finding or downloading a weight set's file, hash-checked.
- :mod:`~pyiqa_lifeiqa.weights.checkpoint`: reading any accepted format, loading strictly, saving.
- :mod:`~pyiqa_lifeiqa.weights.authors`: converting the authors' checkpoints.
- :mod:`~pyiqa_lifeiqa.weights.backbones`: ImageNet backbone weights from pip packages, offline.
"""
