"""At the end of a run, the report's figures of its result file as TensorBoard images.

It reads the results.json that ``ResultWriter`` wrote, so it runs in ``teardown`` of a fit or
predict that ended: after every callback's ``on_train_end`` / ``on_predict_end``, whatever the
callbacks' order (a user's FigureLogger in ``--trainer.callbacks`` comes before the experiment's
ResultWriter). It draws the same views as ``lightning-dream report`` through ``report/mpl.py``.
"""

from __future__ import annotations

import re

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.loggers import TensorBoardLogger
from pytorch_lightning.trainer.states import TrainerFn

from lightning_dream.callbacks.results import run_dir
from lightning_dream.results import RESULTS_FILE, read_results


class FigureLogger(Callback):
    def __init__(self, filename: str = RESULTS_FILE, max_figures: int = 40):
        """
        Args:
            filename: the result file inside the run folder.
            max_figures: stop after this many images (large sweeps: use ``lightning-dream report``).
        """
        self.filename = filename
        self.max_figures = max_figures

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        """Lightning calls it on every rank once a run ended without error; fit and predict write results."""
        if stage in (TrainerFn.FITTING, TrainerFn.PREDICTING):
            self.log_figures(trainer)

    def log_figures(self, trainer: pl.Trainer) -> int:
        """Draw every view block of the results; returns how many images were logged."""
        from lightning_dream.report.mpl import figure
        from lightning_dream.report.views import render_views

        path = run_dir(trainer) / self.filename  # every rank asks (the folder is broadcast)
        if not trainer.is_global_zero or not isinstance(trainer.logger, TensorBoardLogger) or not path.is_file():
            return 0
        writer, logged = trainer.logger.experiment, 0
        for number, section in enumerate(render_views(read_results(path))):
            for block in section.blocks:
                if logged >= self.max_figures:
                    return logged
                fig = figure(block)
                if fig is None:
                    continue
                name = re.sub(r"[^a-z0-9]+", "_", f"{section.title} {getattr(block, 'title', '')}".lower()).strip("_")
                writer.add_figure(f"report/{section.view}/{number:02d}_{name}", fig, trainer.global_step)  # closes fig
                logged += 1
        return logged
