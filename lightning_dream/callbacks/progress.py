"""Lightning's progress bar showing what the experiment logs with ``prog_bar=True``, without ``v_num``.

The logger's version number says nothing about the run in progress (it is also the folder name the
run prints at the end), so the bar drops it the way Lightning documents: ``get_metrics`` overridden
in a subclass. An experiment's ``configure_callbacks`` adds ``progress_bar(trainer)`` (through
``defaults.default_callbacks``); it replaces the trainer's bar of the same class (keeping its
settings) and adds none when the trainer has no bar or a custom one.
"""

from __future__ import annotations

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback, RichProgressBar, TQDMProgressBar


class _WithoutVersion:
    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict:
        items = super().get_metrics(trainer, pl_module)
        items.pop("v_num", None)
        return items


class RunRichProgressBar(_WithoutVersion, RichProgressBar):
    """Lightning's rich bar without ``v_num``."""


class RunTQDMProgressBar(_WithoutVersion, TQDMProgressBar):
    """Lightning's tqdm bar without ``v_num``."""


LIVE_BARS: dict[type, type] = {RichProgressBar: RunRichProgressBar, TQDMProgressBar: RunTQDMProgressBar}


def progress_bar(trainer: pl.Trainer | None) -> list[Callback]:
    """The trainer's own bar (same settings) without ``v_num``, as a one-item list for
    ``configure_callbacks``; empty when there is no bar or a bar of another class."""
    bar = trainer.progress_bar_callback if trainer is not None else None
    live = LIVE_BARS.get(type(bar))
    if live is None:
        return []
    replacement = live.__new__(live)
    replacement.__dict__.update(bar.__dict__)  # the trainer's settings (refresh rate, theme, ...), not yet started
    return [replacement]
