"""The one result path: every experiment's results.json, gathered from every rank, written by rank 0.

The module side is ``results.ResultSource``: ``job_results()`` on every rank (this rank's rows by
job or item index), then on rank 0 ``result_fields(rows)`` (run-level fields from all rows, e.g.
P@k over every fact or a per-layer summary), ``result_lines(payload)`` (what to print) and
``result_scalars(payload)`` (numbers for the logger, e.g. P@k in TensorBoard).
"""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.loggers import TensorBoardLogger

from lightning_dream.results import RESULTS_FILE, Summary, merge_rows, result_header, write_json_atomic
from lightning_dream.strategies import gather_to_rank_zero


def run_dir(trainer: pl.Trainer) -> Path:
    """Where a run's results go: the logger's version folder, else the default root.
    Every rank must call it (the trainer broadcasts the folder)."""
    return Path(trainer.log_dir or trainer.default_root_dir)


class ResultWriter(Callback):
    """At the end of fitting or predicting: the header (``results.result_header``), the module's
    run-level fields, then its rows in index order, atomically, as strict JSON."""

    def __init__(self, filename: str = RESULTS_FILE, copy_to: str | Path | None = None):
        """
        Args:
            filename: the file inside the run folder.
            copy_to: also write the same file here (e.g. a CAV's ``cav_file``).
        """
        self.filename = filename
        self.copy_to = copy_to

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        # LightningCLI adds the instantiator to the hparams it saves (to reload the checkpoint); it is
        # not a setting of the run, so TensorBoard does not list it (the checkpoint keeps it)
        getattr(pl_module, "_hparams_initial", {}).pop("_instantiator", None)

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        """Ctrl-C: what the run reached, marked ``complete: false`` (one process only: the other
        ranks may be anywhere, so no collective call is safe)."""
        if isinstance(exception, KeyboardInterrupt) and trainer.world_size == 1:
            self.write(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.write(trainer, pl_module)

    def on_predict_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.write(trainer, pl_module)

    def write(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> list[Path]:
        """Every rank calls it (gather and run folder are collective); rank 0 writes. Returns the paths."""
        gathered = gather_to_rank_zero(pl_module.job_results())
        directory = run_dir(trainer)
        if not trainer.is_global_zero:
            return []
        rows = merge_rows(gathered)
        payload = {**result_header(pl_module, trainer), **pl_module.result_fields(rows)}
        if pl_module.result_rows is not None:
            payload[pl_module.result_rows] = rows
        paths = [write_json_atomic(path, payload) for path in filter(None, (directory / self.filename, self.copy_to))]
        lines = pl_module.result_lines(payload)
        print_summary(pl_module.summary_table(payload), lines, paths, payload)
        headline = pl_module.headline(payload)
        if trainer.logger is not None and headline is not None:
            trainer.logger.log_metrics({"hp_metric": headline}, step=trainer.global_step)
        if lines and isinstance(trainer.logger, TensorBoardLogger):
            trainer.logger.experiment.add_text("results", "  \n".join(lines), trainer.global_step)
        scalars = pl_module.result_scalars(payload)
        if scalars and trainer.logger is not None:
            trainer.logger.log_metrics(scalars, step=trainer.global_step)
        return paths


def print_summary(summary: Summary | None, lines: list[str], paths: list[Path], payload: dict) -> None:
    """What the run found as a short rich table (or the module's lines), then where the file is."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if summary is not None and summary.rows:
        table = Table(title=summary.title, title_justify="left")
        for column in summary.columns:
            table.add_column(column, overflow="fold")
        for row in summary.rows:
            table.add_row(
                *(
                    cell if isinstance(cell, str) else f"{cell:.4g}" if isinstance(cell, float) else str(cell)
                    for cell in row
                )
            )
        console.print(table)
    for line in lines:
        console.print(line, markup=False, highlight=False)
    if payload.get("complete") is False:
        step = payload.get("trainer", {}).get("global_step")
        console.print(f"stopped early at step {step}: results marked complete: false (resume with --ckpt_path)")
    for path in paths:
        console.print(f"results: {path}", markup=False, highlight=False)
