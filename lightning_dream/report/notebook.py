"""``report.show(run)``: the report of a run inline in Jupyter."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from lightning_dream.errors import ConfigError
from lightning_dream.report.command import render_report


def show(run: Any, height: int = 700) -> Any:
    """The same page as ``lightning-dream report``, for a notebook cell.

    Args:
        run: a run folder, a result file, a folder of runs, or a ``Results``.
        height: the frame's height in pixels.

    Returns an ``IPython.display.HTML`` (shown when it ends a cell) when IPython is installed,
    else the page's HTML text. The page sits in an iframe so its styles and scripts stay its own.
    """
    page, runs = render_report(Path(getattr(run, "path", run)))
    if not any(r.result is not None for r in runs):
        raise ConfigError(f"no readable results under {run}: {'; '.join(r.problem or '' for r in runs)}")
    try:
        from IPython.display import HTML
    except ImportError:
        return page
    frame = f'<iframe srcdoc="{escape(page)}" style="width:100%;height:{height}px;border:0"></iframe>'
    return HTML(frame)
