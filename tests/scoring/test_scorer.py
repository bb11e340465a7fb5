"""Specification of batch scoring (pyiqa_lifeiqa/scoring/scorer.py) on the tiny ``lifeiqa-test`` metric."""

import math

import pyiqa
import pytest
import torch

from pyiqa_lifeiqa.scoring.files import DecodedFile
from pyiqa_lifeiqa.scoring.scorer import BatchScorer


@pytest.fixture
def scorer(lifeiqa_test_metric):
    return BatchScorer(pyiqa.create_metric(lifeiqa_test_metric, device='cpu'))


def images():
    torch.manual_seed(0)
    return [torch.rand(1, 3, h, w) for h, w in ((48, 64), (70, 40), (32, 32), (100, 90))]


def test_crops_of_images_of_any_sizes_score_together_as_each_alone(scorer, lifeiqa_test_metric):
    metric = pyiqa.create_metric(lifeiqa_test_metric, device='cpu')
    batch = [DecodedFile(i, f'{i}.png', scorer.prepare(x)) for i, x in enumerate(images())]
    together = scorer(batch)
    alone = [metric(x).item() for x in images()]
    assert together == pytest.approx(alone, abs=1e-5)
    assert len(set(together)) == 4


def test_a_file_that_fails_in_the_batch_loses_only_its_own_score(scorer):
    good = [DecodedFile(i, f'{i}.png', scorer.prepare(x)) for i, x in enumerate(images()[:2])]
    wrong = DecodedFile(2, 'wrong.png', torch.rand(2, 4, 32, 32))  # 4 channels: neither stacks nor scores
    failed = DecodedFile(3, 'failed.png', error='not an image')
    outcomes = scorer([good[0], wrong, failed, good[1]])
    assert outcomes[0] == pytest.approx(scorer(good[:1])[0], abs=1e-6)
    assert outcomes[3] == pytest.approx(scorer(good[1:])[0], abs=1e-6)
    assert isinstance(outcomes[1], str) and 'must match' in outcomes[1]
    assert outcomes[2] == 'not an image'


def test_a_non_finite_score_is_a_failure_not_a_score(scorer, monkeypatch):
    monkeypatch.setattr(
        scorer.net, 'score_crop_sets', lambda crops, counts: (torch.full((len(counts), 1), math.nan), {})
    )
    (outcome,) = scorer([DecodedFile(0, 'a.png', scorer.prepare(images()[0]))])
    assert outcome == 'the metric gave a non-finite score (nan)'


def test_prepare_refuses_an_image_the_network_cannot_score(scorer):
    with pytest.raises(ValueError, match='too small'):
        scorer.prepare(torch.rand(1, 3, 8, 8))


def test_other_metrics_score_whole_images_batched_by_size():
    piqe = pyiqa.create_metric('piqe', device='cpu')
    scorer = BatchScorer(piqe)
    assert scorer.prepare is None
    torch.manual_seed(0)
    xs = [torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 80), torch.rand(1, 3, 64, 64)]
    outcomes = scorer([DecodedFile(i, f'{i}.png', x) for i, x in enumerate(xs)])
    assert outcomes == pytest.approx([piqe(x).item() for x in xs], abs=1e-4)
