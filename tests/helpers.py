"""Helpers shared by the tests: short real-model runs through a Trainer."""

from __future__ import annotations

import pytorch_lightning as pl


def quick_trainer(root, **overrides) -> pl.Trainer:
    """A CPU trainer for short real-model runs: one epoch, no progress bar, results under root."""
    settings = dict(
        accelerator="cpu",
        devices=1,
        max_epochs=1,
        default_root_dir=str(root),
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    settings.update(overrides)
    return pl.Trainer(**settings)


def quick_predict(module: pl.LightningModule, root, **overrides) -> pl.Trainer:
    """``trainer.predict`` of a read-only experiment (no logger, no progress bar); returns the trainer."""
    trainer = quick_trainer(root, **overrides)
    trainer.predict(module)
    return trainer
