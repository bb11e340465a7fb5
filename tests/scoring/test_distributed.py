"""Specification of the torchrun job layout (pyiqa_lifeiqa/scoring/distributed.py)."""

import pytest
import torch

from pyiqa_lifeiqa.scoring.distributed import Ranks


def test_ranks_come_from_torchruns_environment(monkeypatch):
    for name in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK'):
        monkeypatch.delenv(name, raising=False)
    assert Ranks.from_env() == Ranks(0, 1, 0)
    assert not Ranks.from_env().distributed and Ranks.from_env().main
    monkeypatch.setenv('RANK', '3')
    monkeypatch.setenv('WORLD_SIZE', '4')
    monkeypatch.setenv('LOCAL_RANK', '1')
    assert Ranks.from_env() == Ranks(3, 4, 1)
    assert Ranks.from_env().distributed and not Ranks.from_env().main


def test_shards_split_the_items_without_overlap_or_loss():
    items = list(range(11))
    shards = [Ranks(rank, 3).shard(items) for rank in range(3)]
    assert shards == [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8]]
    assert Ranks().shard(items) == items


def test_one_process_gathers_and_broadcasts_to_itself():
    assert Ranks().gather({'a': 1}) == [{'a': 1}]
    assert Ranks().broadcast(5) == 5


def test_device_names_are_checked():
    assert Ranks().device('cpu') == torch.device('cpu')
    with pytest.raises(ValueError, match='is not a device'):
        Ranks().device('gpu0')
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match='CUDA is not available'):
            Ranks(1, 2, 1).device('cuda')


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_a_bare_cuda_is_each_processs_own_gpu():
    assert Ranks(1, 2, 0).device('cuda') == torch.device('cuda', 0)
    assert Ranks(0, 1, 0).device('cuda:0') == torch.device('cuda', 0)
