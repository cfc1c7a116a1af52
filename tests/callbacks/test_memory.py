"""Freed heap memory goes back to the system: a fragmented heap shrinks, and a depth study asks
for it after every batch."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from lightning_dream.callbacks import memory
from lightning_dream.data.sentence_tasks import SentenceTaskData
from lightning_dream.experiments import DepthProbe
from tests.helpers import quick_trainer

ROOT = Path(__file__).resolve().parents[2]


def resident_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def mapped_bytes() -> int:
    """Bytes malloc holds in maps of their own (glibc's ``mallinfo2().hblkhd``)."""
    mallinfo2 = ctypes.CDLL(None).mallinfo2
    mallinfo2.restype = MallInfo2
    return mallinfo2().hblkhd


def check_fixed_threshold() -> None:
    """Fixed at 1 MiB: a 2 MiB block gets a map of its own even after a mapped block was freed
    (which raises a dynamic threshold), a 512 KiB block does not; the threshold is clamped to glibc's range."""
    try:
        assert memory.fix_mmap_threshold(2**20) == 2**20
        for _ in range(2):  # the second 2 MiB block comes after the first one's free
            before = mapped_bytes()
            block = bytearray(2 * 2**20)
            assert mapped_bytes() - before >= 2 * 2**20
            del block
        before = mapped_bytes()
        small = bytearray(2**19)
        assert mapped_bytes() == before
        del small
        assert memory.fix_mmap_threshold(1) == memory.MMAP_THRESHOLD_RANGE[0]
        assert memory.fix_mmap_threshold(2**40) == memory.MMAP_THRESHOLD_RANGE[1]
    finally:
        memory.fix_mmap_threshold(memory.MMAP_THRESHOLD_RANGE[1])  # as a depth study leaves it


@pytest.mark.skipif(memory.MALLOPT is None, reason="glibc's mallopt only")
def test_a_fixed_threshold_maps_larger_blocks_and_keeps_smaller_ones_in_the_heap():
    """``check_fixed_threshold`` in a fresh interpreter: the threshold only applies when the heap has no
    free piece that fits, and after an earlier test's model run or figures this process's heap has
    2 MiB pieces free, so the block would come from there."""
    script = "from tests.callbacks.test_memory import check_fixed_threshold; check_fixed_threshold()"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]


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


def test_depth_probe_fixes_the_mmap_threshold_at_twice_a_training_batch_s_largest_buffer(tmp_path):
    """albert-news-tiny (feed-forward width 1,024), batches of 8 padded to at most 64 tokens: the
    largest training buffer is 8 x 64 x 1,024 x 4 bytes = 2 MiB, the threshold 4 MiB (validation's
    batches of 32 map theirs); after the fit, the top of glibc's range."""
    data = SentenceTaskData(max_train=16, max_validation=8)
    with mock.patch.object(memory, "fix_mmap_threshold", wraps=memory.fix_mmap_threshold) as fix:
        quick_trainer(tmp_path, num_sanity_val_steps=0).fit(DepthProbe(depths=[1, 2]), datamodule=data)
    assert [c.args[0] for c in fix.call_args_list] == [4 * 2**20, memory.MMAP_THRESHOLD_RANGE[1]]
