"""The "data" of an input-optimisation run: one batch per optimisation step.

An iterable dataset, so Lightning does not insert a DistributedSampler: every rank runs every
step on its own jobs.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

from torch.utils.data import DataLoader, IterableDataset


class Steps(IterableDataset):
    def __init__(self, num_steps: int):
        self.num_steps = num_steps

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.num_steps))

    def __len__(self) -> int:
        return self.num_steps


def step_loader(num_steps: int) -> DataLoader:
    # no worker processes, so the length Lightning warns about for iterable datasets is exact
    warnings.filterwarnings("ignore", message=r"Your `IterableDataset` has `__len__` defined", category=UserWarning)
    return DataLoader(Steps(num_steps), batch_size=None)
