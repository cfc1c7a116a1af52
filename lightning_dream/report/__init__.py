"""Pictures of results, from result files alone (no model): one self-contained HTML page per
run or folder of runs (``lightning-dream report``), and the same figures for TensorBoard."""

from lightning_dream.report.command import render_report, report

__all__ = ["render_report", "report"]
