"""The pseudo-MOS: fusing full-reference scores (pyiqa_lifeiqa/data/pseudo_mos.py)."""

import numpy as np
import pytest

from pyiqa_lifeiqa.data.pseudo_mos import fuse_scores


def test_fuse_scores_orients_z_scores_averages_and_rescales() -> None:
    # column 1 is lower-better and agrees with column 0 once negated; column 2 is constant
    raw = np.array([[1.0, 0.0, 5.0], [0.5, 0.5, 5.0], [0.0, 1.0, 5.0], [0.25, 0.75, 5.0]])
    assert fuse_scores(raw, lower_better=[False, True, False]).tolist() == pytest.approx([1.0, 0.5, 0.0, 0.25])
    # read the other way round the two metrics cancel out
    assert fuse_scores(raw, lower_better=[False, False, False]).tolist() == [1.0, 1.0, 1.0, 1.0]
    assert fuse_scores(np.ones((3, 2)), [False, True]).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match='NaN'):
        fuse_scores(np.array([[np.nan], [1.0]]), [False])
    with pytest.raises(ValueError, match='rows x 2'):
        fuse_scores(np.ones((3, 3)), [False, True])


def test_fuse_scores_weights_metrics_equally_whatever_their_scale() -> None:
    quality = np.array([0.1, 0.4, 0.5, 0.9])
    raw = np.stack([quality, 1000.0 * quality, -quality], axis=1)
    assert fuse_scores(raw, [False, False, True]) == pytest.approx((quality - 0.1) / 0.8)
