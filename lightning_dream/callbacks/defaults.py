"""An experiment's callbacks are defaults that a user's ``--trainer.callbacks`` can swap.

Lightning lets a callback returned by ``configure_callbacks`` replace the Trainer's callbacks of
the same class, so a user's ``FigureLogger(max_figures=5)`` would be dropped for the experiment's
own, and a user's ``ResultWriter`` subclass would run beside it. ``default_callbacks`` returns only
the defaults the user did not give: the user's callback of a type wins.
"""

from __future__ import annotations

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback

from lightning_dream.callbacks.progress import progress_bar


def default_callbacks(trainer: pl.Trainer | None, *callbacks: Callback) -> list[Callback]:
    """What an experiment's ``configure_callbacks`` returns: ``callbacks`` (those its results need),
    less each whose class (or a subclass of it) the Trainer already holds, then the Trainer's stock
    progress bar without ``v_num`` (``progress.progress_bar``: none when the bar is the user's own
    class or there is none). ``trainer`` None (no Trainer attached): every callback, no bar."""
    given = trainer.callbacks if trainer is not None else []
    missing = [callback for callback in callbacks if not any(isinstance(held, type(callback)) for held in given)]
    return [*missing, *progress_bar(trainer)]
