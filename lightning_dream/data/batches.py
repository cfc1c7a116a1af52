"""Fixed batches for predict experiments, each process taking its own contiguous share.

An iterable dataset, so Lightning inserts no DistributedSampler (which would pad the last
shard with repeated items and count them twice); the share comes from ``strategies.shard``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch.distributed as dist
from torch.utils.data import DataLoader, IterableDataset

from lightning_dream.strategies import shard


def _rank_and_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class ShardedBatches(IterableDataset):
    def __init__(self, batches: Sequence[Any]):
        self.batches = batches

    def local(self) -> range:
        return shard(len(self.batches), *_rank_and_world())

    def __iter__(self) -> Iterator[Any]:
        return (self.batches[i] for i in self.local())

    def __len__(self) -> int:
        return len(self.local())


def sharded_loader(batches: Sequence[Any]) -> DataLoader:
    """A loader that yields the given ready-made batches (this rank's share), as they are."""
    return DataLoader(ShardedBatches(batches), batch_size=None)
