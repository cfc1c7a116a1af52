"""What an experiment offers the results writer (``ResultSource``), and the parts of a run's
``results.json`` that do not depend on the experiment: its header and its rows from every rank."""

from __future__ import annotations

from typing import Any, NamedTuple


class Summary(NamedTuple):
    """What a run found, as a short table printed at its end (``ResultWriter``)."""

    title: str
    columns: list[str]
    rows: list[list[Any]]


class ResultSource:
    """What a LightningModule offers ``ResultWriter`` (mixed into every experiment's base).

    ``job_results`` is called on every rank (it may gather itself); the rest run on rank 0 only,
    after the gather, so they see every row and must not start collective calls.
    """

    #: the file's ``format``: one of the constants of ``results.formats``
    result_format: str = ""
    #: the key the rows are written under; None: the run has no rows, only run-level fields
    result_rows: str | None = "jobs"

    def job_results(self) -> dict[int, dict[str, Any]]:
        """This rank's rows by job (or item) index; every index on exactly one rank."""
        return {}

    def result_fields(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """Run-level fields computed from all rows (in index order), written before them."""
        return {}

    def result_lines(self, payload: dict[str, Any]) -> list[str]:
        """Lines to print (and log as TensorBoard text) once the file is written."""
        return []

    def result_scalars(self, payload: dict[str, Any]) -> dict[str, float]:
        """Run-level numbers to log to the trainer's logger (TensorBoard scalars), e.g. P@k."""
        return {}

    def summary_table(self, payload: dict[str, Any]) -> Summary | None:
        """The table printed at the end of the run: what it found, a few rows."""
        return None

    def headline(self, payload: dict[str, Any]) -> float | None:
        """The run's headline figure, logged as TensorBoard's ``hp_metric``."""
        return None

    def run_complete(self, trainer: Any) -> bool:
        """False when the run was stopped early: Ctrl-C, ``max_steps`` or ``max_time`` before the
        last epoch's end (experiments that count their own steps say it more precisely)."""
        from pytorch_lightning.callbacks import Timer  # here: the results package imports no Lightning

        if trainer.interrupted:
            return False
        if not trainer.training:
            return True
        if 0 <= trainer.max_steps <= trainer.global_step:
            return False
        if any(isinstance(cb, Timer) and cb.time_remaining() <= 0 for cb in trainer.callbacks):
            return False
        loop = trainer.fit_loop
        return loop.max_epochs in (None, -1) or loop.epoch_progress.current.processed >= loop.max_epochs


def result_header(module: Any, trainer: Any) -> dict[str, Any]:
    """The fields every run's result file starts with: what ran, with which settings, on what."""
    return {
        "format": module.result_format,
        "experiment": type(module).__name__,
        "complete": module.run_complete(trainer),  # optional field: false for a run stopped early
        "config": {k: v for k, v in module.hparams.items() if not k.startswith("_")},
        "trainer": {
            "world_size": trainer.world_size,
            "precision": str(trainer.precision),
            "global_step": trainer.global_step,
        },
    }


def merge_rows(parts: list[dict[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every rank's rows as one list in index order; an index held by two ranks is an error."""
    merged: dict[int, dict[str, Any]] = {}
    for part in parts:
        for index, row in part.items():
            if index in merged:
                raise RuntimeError(f"row {index} was produced by two processes: the jobs were not sharded")
            merged[index] = row
    return [merged[index] for index in sorted(merged)]
