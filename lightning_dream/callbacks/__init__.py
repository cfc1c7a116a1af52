"""Side effects of a run: logging, result files, figures; ``default_callbacks`` gives an experiment's
``configure_callbacks`` the ones a user did not swap. (The soft-input step logger lives with its family:
``experiments/soft_input/step_logger.py``.)"""

from lightning_dream.callbacks.defaults import default_callbacks
from lightning_dream.callbacks.figures import FigureLogger
from lightning_dream.callbacks.results import ResultWriter

__all__ = ["FigureLogger", "ResultWriter", "default_callbacks"]
