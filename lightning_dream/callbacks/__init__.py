"""Side effects of a run: logging, result files, figures; ``default_callbacks`` gives an experiment's
``configure_callbacks`` the ones a user did not swap."""

from lightning_dream.callbacks.defaults import default_callbacks
from lightning_dream.callbacks.figures import FigureLogger
from lightning_dream.callbacks.results import ResultWriter
from lightning_dream.callbacks.step_logger import StepLogger

__all__ = ["FigureLogger", "ResultWriter", "StepLogger", "default_callbacks"]
