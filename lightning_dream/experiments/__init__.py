"""One LightningModule per experiment; LightningCLI selects them by class name."""

from lightning_dream.experiments.dream import Dream
from lightning_dream.experiments.soft_input import SoftInputExperiment

__all__ = ["Dream", "SoftInputExperiment"]
