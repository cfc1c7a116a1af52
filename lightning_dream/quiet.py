"""Lightning's messages that say nothing about a lightning_dream run, filtered where Lightning logs them.

Warnings that are expected for one of our choices are silenced next to that choice (the frozen
encoder in eval mode: ``models.loading``; the step loader's length: ``data.steps``). Here: the
product tips Lightning prints at every start (LitLogger, LitModels), and the note that an
experiment's progress bar replaced the trainer's (``callbacks.progress``: the same bar without
``v_num``). Every other message stays visible.
"""

from __future__ import annotations

import logging

#: the tips, by their start
TIPS = "💡 Tip: For seamless cloud"
#: the note when the replaced callback is the progress bar alone
BAR_OVERRIDE = {
    "The following callbacks returned in `LightningModule.configure_callbacks` will override existing "
    f"callbacks passed to Trainer: {bar}"
    for bar in ("RichProgressBar", "TQDMProgressBar")
}


class LightningNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not message.startswith(TIPS) and message not in BAR_OVERRIDE


def quiet_lightning() -> None:
    """Install the filter once on the logger Lightning's rank-zero messages go through."""
    log = logging.getLogger("pytorch_lightning.utilities.rank_zero")
    if not any(isinstance(f, LightningNoise) for f in log.filters):
        log.addFilter(LightningNoise())
