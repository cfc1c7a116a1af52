"""Trajectory: record every step of ALBERT's shared layer iterated N times (``predict``), in chunks
written to disk, with the synchronisation and dimension curves.

    lightning-dream predict --config configs/trajectory.yaml
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from lightning_dream.callbacks.results import run_dir
from lightning_dream.data.trajectories import TrajectoryReader, TrajectoryWriter
from lightning_dream.errors import ConfigError
from lightning_dream.experiments.dynamics.base import IteratedSystemRun
from lightning_dream.results import ALBERT_TRAJECTORY_FORMAT


class Trajectory(IteratedSystemRun):
    result_format = ALBERT_TRAJECTORY_FORMAT

    def __init__(
        self, output_dir: str | None = None, attentions: bool = False, continue_from: str | None = None, **kwargs
    ):
        """
        Args:
            output_dir: trajectory folder (default: ``trajectory`` in the run folder).
            attentions: also store every step's attention weights (eager attention, slower).
            continue_from: a trajectory folder; start from its last state (same model and inputs).
            **kwargs: see ``IteratedSystemRun``.
        """
        super().__init__(**kwargs)
        self.save_hyperparameters()

    def configure_model(self) -> None:
        if hasattr(self, "system"):
            return
        super().configure_model()
        meta = {
            "model": self.hparams.model,
            "fingerprint": self.system.fingerprint(),
            "input_ids": self.input_ids.tolist(),
            "attention_mask": self.mask.tolist(),
        }
        if self.hparams.continue_from:
            previous = TrajectoryReader(self.hparams.continue_from)
            previous.check_model(self.hparams.model, meta["fingerprint"])
            if previous.meta["input_ids"] != meta["input_ids"]:
                raise ConfigError(f"trajectory {self.hparams.continue_from} was recorded from other inputs")
            self.state = previous.states(previous.num_steps - 1)[0].to(self.dtype_)
            self.current_step = previous.num_steps - 1
        folder = self.hparams.output_dir or Path(run_dir(self.trainer)) / "trajectory"
        self.writer = TrajectoryWriter(
            folder, meta, self.hparams.chunk_size, first_step=self.current_step + bool(self.current_step)
        )
        self.steps_done = 0
        if not self.current_step:
            self.writer.append(self.state, self.no_attentions())
            self.record(0, self.state)

    def chunk_steps(self) -> int:
        """Steps ``num_steps`` counts from where this run starts (0, or the continued trajectory's end)."""
        steps = min(self.hparams.chunk_size, self.hparams.num_steps - self.steps_done)
        self.steps_done += steps
        return steps

    def predict_step(self, batch: int, batch_idx: int) -> None:
        with self.system.recorded_attentions() as attentions:
            for state in self.system.iterate(self.state, self.mask, self.chunk_steps()):
                self.current_step += 1
                self.writer.append(state, attentions[-1] if self.hparams.attentions else None)
                self.record(self.current_step, state)
                attentions.clear()
                self.state = state

    def no_attentions(self) -> Tensor | None:
        """Step 0 (the embeddings) has no attention: zeros keep the stored steps aligned."""
        if not self.hparams.attentions:
            return None
        heads, length = self.system.config.num_attention_heads, self.mask.shape[1]
        return torch.zeros(self.mask.shape[0], heads, length, length, dtype=self.dtype_)

    def on_predict_epoch_end(self) -> None:
        self.writer.flush()  # the last, partial chunk: before ResultWriter's on_predict_end

    def summary(self) -> dict[str, Any]:
        return {"trajectory": str(self.writer.folder), "num_steps": self.current_step}
