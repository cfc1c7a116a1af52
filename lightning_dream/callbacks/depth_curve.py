"""The depth curve of a depth study where researchers look: a TensorBoard image after every
validation (the report's ``depth_probe`` view drawn by ``report/mpl.py``), and at the end of
fitting ``depth_curve.csv`` beside ``results.json`` (one row per depth)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.loggers import TensorBoardLogger

from lightning_dream.callbacks.results import run_dir
from lightning_dream.results import write_text_atomic

CSV_FILE = "depth_curve.csv"


def table_csv(rows: list[dict[str, Any]]) -> str:
    columns = ["depth", *sorted({k for row in rows for k in row} - {"depth"})]
    text = io.StringIO()
    writer = csv.DictWriter(text, columns)
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


class DepthCurveLogger(Callback):
    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero or not isinstance(trainer.logger, TensorBoardLogger):
            return
        if not pl_module.table:
            return
        from lightning_dream.report.dynamics import depth_probe
        from lightning_dream.report.mpl import figure

        result = {"rows": pl_module.table, "config": dict(pl_module.hparams), **pl_module.run_fields()}
        for section in depth_probe(result):
            for block in section.blocks:
                fig = figure(block)
                if fig is not None:
                    name = block.title.removesuffix(" vs depth").replace("val/", "")
                    trainer.logger.experiment.add_figure(f"depth_curve/{name}", fig, trainer.global_step)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        directory = run_dir(trainer)  # every rank asks (the folder is broadcast)
        if trainer.is_global_zero and pl_module.table:
            write_text_atomic(directory / CSV_FILE, table_csv(pl_module.table))
