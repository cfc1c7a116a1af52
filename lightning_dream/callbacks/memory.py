"""Memory a batch freed, handed back to the system after every batch (glibc's ``malloc_trim``), and
large buffers kept out of the heap (a fixed ``M_MMAP_THRESHOLD``).

A depth study's batches are padded to their longest sentence, so each batch allocates encoder
buffers of another size. glibc's malloc keeps what a batch frees inside its heaps for reuse, and
with sizes that keep changing the free pieces do not fit the next requests: without a trim the
heap grows with the number of examples seen although the live memory stays flat.
``malloc_trim(0)`` after every batch returns every free whole page of every heap to the system;
the next batch only faults the pages it touches.

The validation batches are 4x the training batch, and glibc raises its mmap threshold each time a
mapped block is freed (up to 32 MiB), so left alone the validation buffers come from the heap and
fragment it. The threshold is fixed at twice a training batch's largest buffer (rows x tokens x
the feed-forward width x 4 bytes, in bytes): training buffers stay in the heap (no page faults)
while validation's larger ones get maps of their own that ``free()`` gives back, so the peak does
not grow with the training set. Elsewhere than glibc both are no-ops. Measurements, with their
dates: docs/performance.md.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from torch import Tensor
from transformers import PreTrainedModel


def _glibc(name: str, *argtypes: Any) -> Callable[..., int] | None:
    """A glibc function from the libc already loaded in this process, or None (musl, macOS, Windows)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
    function.argtypes, function.restype = list(argtypes), ctypes.c_int
    return function


MALLOC_TRIM = _glibc("malloc_trim", ctypes.c_size_t)
MALLOPT = _glibc("mallopt", ctypes.c_int, ctypes.c_int)
M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
MMAP_THRESHOLD_RANGE = (128 * 1024, 32 * 1024 * 1024)  # glibc's default and its largest on 64-bit


def release_freed_memory() -> bool:
    """Return the heaps' free pages to the system; False where there is no glibc to ask."""
    if MALLOC_TRIM is None:
        return False
    MALLOC_TRIM(0)
    return True


def fix_mmap_threshold(nbytes: int) -> int | None:
    """Blocks of ``nbytes`` or more (clamped to glibc's range) get maps of their own from now on:
    a fixed threshold is no longer raised. Returns the threshold set, None where there is no glibc."""
    threshold = min(max(nbytes, MMAP_THRESHOLD_RANGE[0]), MMAP_THRESHOLD_RANGE[1])
    if MALLOPT is None or not MALLOPT(M_MMAP_THRESHOLD, threshold):
        return None
    return threshold


def training_buffer_bytes(trainer: pl.Trainer, pl_module: pl.LightningModule, batch: dict[str, Tensor]) -> int:
    """The largest buffer of a training batch at full length: its feed-forward activation, rows x
    tokens x the encoder's intermediate width x 4 bytes (tokens: the data's ``max_length`` if it
    pads to less)."""
    rows, tokens = batch["input_ids"].shape
    tokens = max(tokens, getattr(trainer.datamodule, "hparams", {}).get("max_length", 0))
    config = next(m.config for m in pl_module.modules() if isinstance(m, PreTrainedModel))
    width = getattr(config, "intermediate_size", 4 * config.hidden_size)
    return rows * tokens * width * 4


class FreedMemoryRelease(Callback):
    """``release_freed_memory`` after every training and validation batch (GLUE's dev sets run to
    40,000 examples): resident memory stays at what is live. At the first training batch the mmap
    threshold is fixed at twice that batch's largest buffer (``training_buffer_bytes``) for the fit;
    after it, the top of glibc's range (where a raised threshold ends)."""

    def __init__(self) -> None:
        self.threshold_fixed = MALLOPT is None  # nothing to fix without glibc

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if not self.threshold_fixed:
            fix_mmap_threshold(2 * training_buffer_bytes(trainer, pl_module, batch))
            self.threshold_fixed = True

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self.threshold_fixed and MALLOPT is not None:
            fix_mmap_threshold(MMAP_THRESHOLD_RANGE[1])
            self.threshold_fixed = False

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        release_freed_memory()

    def on_validation_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        release_freed_memory()
