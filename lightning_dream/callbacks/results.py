"""Write one results.json per run, gathered from every rank, atomically, by rank 0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.loggers import TensorBoardLogger

from lightning_dream.results import RESULTS_FILE, write_json_atomic
from lightning_dream.strategies import gather_to_rank_zero
from lightning_dream.summaries import summarise, summary_line


def run_dir(trainer: pl.Trainer) -> Path:
    """Where a run's results go: the logger's version folder, else the default root.
    Every rank must call it (the trainer broadcasts the folder)."""
    return Path(trainer.log_dir or trainer.default_root_dir)


class ResultWriter(Callback):
    """Calls ``pl_module.job_results()`` on every rank and writes them, sorted by job, with the
    experiment's ``result_format`` and resolved hyper-parameters."""

    def __init__(self, filename: str = RESULTS_FILE):
        self.filename = filename

    def payload(self, trainer: pl.Trainer, pl_module: pl.LightningModule, jobs: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "format": pl_module.result_format,
            "experiment": type(pl_module).__name__,
            "config": dict(pl_module.hparams),
            "trainer": {
                "world_size": trainer.world_size,
                "precision": str(trainer.precision),
                "global_step": trainer.global_step,
            },
            "jobs": sorted(jobs, key=lambda job: job["job"]),
        }

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        gathered = gather_to_rank_zero(pl_module.job_results())
        directory = run_dir(trainer)  # a collective call: every rank asks
        if trainer.is_global_zero:
            jobs = [job for rank_jobs in gathered for job in rank_jobs]
            path = write_json_atomic(directory / self.filename, self.payload(trainer, pl_module, jobs))
            pl_module.print(f"results: {path}")

    def on_predict_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Experiments that only read the model (attention, factorisation) write the same way."""
        self.on_train_end(trainer, pl_module)


class SummaryResultWriter(ResultWriter):
    """results.json plus a ``summary`` per ``pl_module.summary_keys`` group; prints the summary
    and, for shifted runs, each job's marked tokens (``+`` toward the concept, ``~`` other)."""

    def payload(self, trainer: pl.Trainer, pl_module: pl.LightningModule, jobs: list[dict[str, Any]]) -> dict[str, Any]:
        payload = super().payload(trainer, pl_module, jobs)
        payload["summary"] = summarise(payload["jobs"], pl_module.summary_keys)
        for row in payload["summary"]:
            pl_module.print(summary_line(row))
        for job in payload["jobs"]:
            if "marked_tokens" in job:
                line = f"job {job['job']} layer {job['layer_id']} magnitude {job['magnitude']}: {' '.join(job['marked_tokens'])}"
                pl_module.print(line)
                if isinstance(trainer.logger, TensorBoardLogger):
                    trainer.logger.experiment.add_text(f"job_{job['job']:03d}/marked_tokens", line, trainer.global_step)
        return payload
