"""``lightning-dream report RUN_DIR [--output out.html]``: one self-contained HTML page."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from lightning_dream.errors import ConfigError
from lightning_dream.report import html
from lightning_dream.report.blocks import Section
from lightning_dream.report.runs import Run, find_runs
from lightning_dream.report.views import MALFORMED, problem_section, render_views
from lightning_dream.results import write_text_atomic


def describe(result: dict[str, Any]) -> str:
    """The settings a run's header shows: model, steps, layer and target, and the search method with its own."""
    config = result.get("config", {})
    keep = ("model", "num_iterations", "layer_id", "layers", "target")
    shown = [f"{k} {config[k]}" for k in keep if k in config]
    method = config.get("method")
    if isinstance(method, dict):  # {class_path, init_args}: the method's own settings
        settings = " ".join(f"{k} {v}" for k, v in (method.get("init_args") or {}).items())
        shown.append(f"method {str(method.get('class_path', '?')).rsplit('.', 1)[-1]} ({settings})")
    elif method is not None:
        shown.append(f"method {method}")
    return ", ".join(shown)


def run_html(run: Run, anchor: str) -> str:
    head = f'<div class="run" id="{anchor}"><h2>{escape(run.name)}</h2>'
    if run.result is None:
        return head + html.note(html.Note(run.problem or "no results", "warning")) + "</div>"
    result = run.result
    meta = (
        f'<p class="meta">{escape(str(result.get("experiment", "?")))} · {escape(str(result.get("format")))} '
        f"· {escape(describe(result))} · {escape(str(run.path))}</p>"
    )
    return head + meta + "".join(section_html(s) for s in render_views(result)) + "</div>"


def section_html(section: Section) -> str:
    """A section's HTML; a value its blocks cannot draw (a string in a chart) becomes a note."""
    try:
        return html.section(section)
    except MALFORMED as err:
        return html.section(problem_section(section.title, err))


def index_html(runs: list[Run]) -> str:
    rows = []
    for i, run in enumerate(runs):
        result = run.result or {}
        jobs = result.get("jobs", result.get("rows", []))
        status = escape(run.problem) if run.problem else f"{len(jobs) if isinstance(jobs, list) else '?'} jobs"
        rows.append(
            f'<tr class="index-row" data-ok="{int(run.problem is None)}">'
            f'<td><a href="#run-{i}">{escape(run.name)}</a></td>'
            f"<td>{escape(str(result.get('experiment', '—')))}</td><td>{escape(str(result.get('format', '—')))}</td>"
            f"<td>{escape(describe(result))}</td><td>{status}</td></tr>"
        )
    head = "<tr><th>run</th><th>experiment</th><th>format</th><th>settings</th><th>jobs / problem</th></tr>"
    return f'<h2>Index</h2><table class="index">{head}{"".join(rows)}</table>'


def render_report(run_dir: str | Path) -> tuple[str, list[Run]]:
    runs = find_runs(run_dir)
    body = "".join(run_html(run, f"run-{i}") for i, run in enumerate(runs))
    if len(runs) > 1:
        body = index_html(runs) + body
    return html.page(f"lightning_dream report: {Path(run_dir).resolve().name}", body), runs


def report(run_dir: str, output: str | None = None) -> str:
    """Write one self-contained HTML page with every view the results under ``run_dir`` support.

    Args:
        run_dir: a run folder (holding results.json), a result file, or a folder of runs (an index
            links each run).
        output: the HTML file (default ``report.html`` inside ``run_dir``).
    """
    text, runs = render_report(run_dir)
    good = [r for r in runs if r.result is not None]
    for run in runs:
        if run.problem:
            print(f"warning: {run.problem}")
    if not good:
        raise ConfigError(f"no readable results under {run_dir}: {'; '.join(r.problem or '' for r in runs)}")
    root = Path(run_dir)
    target = Path(output) if output else (root if root.is_dir() else root.parent) / "report.html"
    write_text_atomic(target, text)
    print(f"report of {len(good)} run(s): {target}")
    return str(target)
