import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402
import pytorch_lightning as pl  # noqa: E402


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


@pytest.fixture
def trainer_factory(tmp_path):
    return lambda **overrides: quick_trainer(tmp_path, **overrides)
