"""TensorBoard logging of soft-input optimisation: scalars per job, snapped text, softmax image.

It reads the soft-input host's ``last_step`` (a ``base.StepRecord`` whose values are already in
the sign they are reported in) and ``value_name`` (what they are: activation, distance, ...).
Scalars from every rank are gathered to rank 0 (loggers write only there), so a sharded run
logs all its jobs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.loggers import TensorBoardLogger

from lightning_dream.checks import NonNegativeInt, PositiveInt, check_arguments
from lightning_dream.strategies import gather_to_rank_zero

if TYPE_CHECKING:  # the host imports this module for its configure_callbacks
    from lightning_dream.experiments.soft_input.base import StepRecord


def softmax_figure(tokens: list[list[str]], weights: list[list[float]], positions: list[int], title: str):
    """Horizontal bars of the top tokens' softmax weights, one panel per changeable position
    (drawn like the report's annealing view)."""
    from lightning_dream.report.blocks import BarPanel, BarPanels
    from lightning_dream.report.mpl import bar_panels

    panels = [BarPanel(f"pos {p}", toks, ws) for p, toks, ws in zip(positions, tokens, weights)]
    return bar_panels(BarPanels(title, panels, "softmax weight", max_value=1.0))


def job_tag(pl_module: pl.LightningModule, job: int) -> str:
    """A job's TensorBoard tag prefix names the layer it reads: ``job_003_layer_2``."""
    return f"job_{job:03d}_layer_{pl_module.jobs[job].target.layer}"


class StepLogger(Callback):
    """After every optimisation step, on its cadences (and at the last step): the temperature and
    every job's ``soft_<value_name>`` / ``snapped_<value_name>`` as logger scalars, and in TensorBoard
    each job's snapped sentence and the softmax image of the first jobs."""

    def __init__(
        self,
        log_every: PositiveInt | None = None,
        image_every: PositiveInt = 200,
        top_k: PositiveInt = 5,
        image_jobs: NonNegativeInt = 4,
    ):
        """
        Args:
            log_every: log the scalars every k steps; None: the Trainer's ``log_every_n_steps``.
            image_every: log the snapped sentences and softmax images every k steps.
            top_k: tokens shown per position in a softmax image.
            image_jobs: softmax images of the first this many jobs (0: none).
        """
        check_arguments(StepLogger, locals())
        self.log_every, self.image_every, self.top_k, self.image_jobs = log_every, image_every, top_k, image_jobs

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs, batch, batch_idx: int
    ) -> None:
        record = pl_module.last_step
        if record is None:
            return
        last = record.step == pl_module.num_iterations - 1
        log_every = trainer.log_every_n_steps if self.log_every is None else self.log_every
        if record.step % log_every == 0 or last:
            rows = gather_to_rank_zero((record.job_ids, record.soft.float().cpu(), record.snapped.float().cpu()))
            metrics = {"temperature": record.temperature}
            for job_ids, soft, snapped in rows:
                for job, s, h in zip(job_ids, soft.tolist(), snapped.tolist()):
                    tag = job_tag(pl_module, job)
                    metrics[f"{tag}/soft_{pl_module.value_name}"] = s
                    metrics[f"{tag}/snapped_{pl_module.value_name}"] = h
            if trainer.logger is not None:
                trainer.logger.log_metrics(metrics, step=record.step)
        # views go only to TensorBoard: without it, skip their softmax and top-k over every job
        if (record.step % self.image_every == 0 or last) and isinstance(trainer.logger, TensorBoardLogger):
            self.log_views(trainer, pl_module, record)

    def log_views(self, trainer: pl.Trainer, pl_module: pl.LightningModule, record: StepRecord) -> None:
        """Snapped text of every job and the softmax image of the first few jobs."""
        soft = pl_module.soft
        views = []
        probs = soft.probabilities(record.temperature).detach() if pl_module.local_jobs else None
        for row, job in enumerate(pl_module.local_jobs):
            rows = (soft.row_job == row).nonzero()[:, 0]
            top = probs[rows].topk(self.top_k, dim=-1)
            tokens = [pl_module.tokenizer.convert_ids_to_tokens(ids.tolist()) for ids in top.indices]
            views.append(
                (job.index, pl_module.text(record.ids, row), list(job.change_positions), tokens, top.values.tolist())
            )
        gathered = gather_to_rank_zero(views)
        if not trainer.is_global_zero:
            return
        writer = trainer.logger.experiment
        for job, text, positions, tokens, weights in (v for rank_views in gathered for v in rank_views):
            writer.add_text(f"{job_tag(pl_module, job)}/snapped_sentence", text, record.step)
            if job < self.image_jobs:
                title = f"job {job}, step {record.step}, T={record.temperature:.3g}"
                writer.add_figure(
                    f"{job_tag(pl_module, job)}/softmax_top_tokens",
                    softmax_figure(tokens, weights, positions, title),
                    record.step,
                )
