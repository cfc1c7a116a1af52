"""Pictures of results, from result files alone (no model): one self-contained HTML page per
run or folder of runs (``lightning-dream report``), the same figures for TensorBoard, and
``show(run)`` for a notebook."""

from lightning_dream.report.command import render_report, report
from lightning_dream.report.notebook import show

__all__ = ["render_report", "report", "show"]
