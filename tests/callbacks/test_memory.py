"""Freed heap memory goes back to the system: a fragmented heap shrinks, and a depth study asks
for it after every batch."""

from __future__ import annotations

import os
from unittest import mock

import pytest

from lightning_dream.callbacks import memory
from lightning_dream.data.sentence_tasks import SentenceTaskData
from lightning_dream.experiments import DepthProbe
from tests.helpers import quick_trainer


def resident_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(memory.MALLOC_TRIM is None, reason="glibc's malloc_trim only")
def test_freed_pieces_inside_the_heap_return_to_the_system():
    """Every second 64 KiB block freed: 48 MB of free heap between live blocks, which free() keeps
    resident (only the heap's top is given back); released, resident memory drops by most of it."""
    blocks = [b"x" * 65_536 for _ in range(1_536)]
    del blocks[::2]
    before = resident_mb()
    assert memory.release_freed_memory()
    assert before - resident_mb() > 24
    assert len(blocks) == 768  # the live half stays


def test_depth_probe_releases_freed_memory_after_every_batch(tmp_path):
    data = SentenceTaskData(max_train=24, max_validation=8)  # 3 training batches of 8, 1 validation batch
    with mock.patch.object(memory, "release_freed_memory") as release:
        quick_trainer(tmp_path, num_sanity_val_steps=0).fit(DepthProbe(depths=[1, 2]), datamodule=data)
    assert release.call_count == 3 + 1
