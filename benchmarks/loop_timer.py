"""Timing shared by the benchmarks: the optimisation loop of a ``Trainer.fit`` alone."""

from __future__ import annotations

import time

from pytorch_lightning.callbacks import Callback


class LoopTimer(Callback):
    """Wall time from the first to the last training step's hooks: model loading (in
    ``configure_model``) happens before, result files and end-of-run figures after, as in the
    plain-code baselines, which time only their loops. Put it first in the callback list."""

    seconds = 0.0

    def on_train_start(self, trainer, pl_module) -> None:
        self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module) -> None:
        self.seconds = time.perf_counter() - self.start
