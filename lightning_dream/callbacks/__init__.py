"""Side effects of a run: logging, result files, figures."""

from lightning_dream.callbacks.figures import FigureLogger
from lightning_dream.callbacks.results import ResultWriter
from lightning_dream.callbacks.step_logger import StepLogger

__all__ = ["FigureLogger", "ResultWriter", "StepLogger"]
