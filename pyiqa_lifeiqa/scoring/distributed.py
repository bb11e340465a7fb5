"""Running one job over the processes that ``torchrun`` starts, on one machine or several.

torchrun sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` (and the rendezvous variables that
``init_process_group`` reads) in each process's environment; without them the job is one
process. The work is split by :meth:`Ranks.shard` and the results are brought together with
:meth:`Ranks.gather` over gloo (CPU) or NCCL (CUDA).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from pyiqa_lifeiqa.device import default_device

T = TypeVar('T')


@dataclass(frozen=True)
class Ranks:
    """This process's place in the job.

    Attributes:
        rank: This process, 0 to ``world_size - 1``.
        world_size: Processes in the job.
        local_rank: This process among those on its machine (its GPU index).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> Ranks:
        """The ranks torchrun gave this process, or a job of one process."""
        return cls(*(int(os.environ.get(name, default)) for name, default in _ENV))

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        """Whether this process reports for the job (rank 0)."""
        return self.rank == 0

    def device(self, requested: str | None) -> torch.device:
        """The device this process uses: ``requested`` (default cuda if available, else cpu), with
        a bare ``cuda`` becoming this process's own GPU, ``cuda:LOCAL_RANK``, in a distributed job.

        Raises:
            ValueError: ``requested`` is not a device name, or CUDA is asked for but not available.
        """
        try:
            device = torch.device(requested or default_device())
        except RuntimeError as error:
            raise ValueError(f'--device {requested!r} is not a device: {error}') from None
        if device.type == 'cuda':
            if not torch.cuda.is_available():
                raise ValueError(f'--device {requested} was asked for but CUDA is not available')
            if device.index is None:
                device = torch.device('cuda', self.local_rank if self.distributed else torch.cuda.current_device())
        return device

    def init(self, device: torch.device) -> None:
        """Join the process group (NCCL for CUDA, gloo otherwise); nothing for one process."""
        if not self.distributed:
            return
        if device.type == 'cuda':
            torch.cuda.set_device(device)
        dist.init_process_group(backend='nccl' if device.type == 'cuda' else 'gloo')

    def close(self) -> None:
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()

    def barrier(self) -> None:
        """Wait until every process has come here."""
        if self.distributed:
            dist.barrier()

    def shard(self, items: Sequence[T]) -> list[T]:
        """This process's share of ``items``: every ``world_size``-th one, from the ``rank``-th."""
        return list(items[self.rank :: self.world_size])

    def gather(self, obj: Any) -> list[Any] | None:
        """Every process's ``obj`` (picklable), in rank order, on rank 0; None on the others."""
        if not self.distributed:
            return [obj]
        gathered = [None] * self.world_size if self.main else None
        dist.gather_object(obj, gathered, dst=0)
        return gathered

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj``, on every process."""
        if not self.distributed:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]


_ENV = (('RANK', 0), ('WORLD_SIZE', 1), ('LOCAL_RANK', 0))
