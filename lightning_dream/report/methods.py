"""Search methods side by side: the comparison table and activation vs passes, from result files alone.

Each method's run is a Dream run (``method: ...``, same targets file, same ``max_passes``); a job's
result is its final activation (the best real input seen) against its start sentence's.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from lightning_dream.errors import ConfigError
from lightning_dream.report.blocks import LinePlot, Series
from lightning_dream.results import read_results

#: a run beats its start when its final is at least this much above it (keeping the start is not beating it)
BEAT = 1.05


def ratio(job: dict[str, Any]) -> float:
    return job["final_activation"] / job["start_activation"] if job["start_activation"] > 0 else float("nan")


def method_row(name: str, jobs: list[dict[str, Any]]) -> dict[str, Any]:
    ratios = [r for r in map(ratio, jobs) if r == r]
    row = {
        "method": name,
        "jobs": len(jobs),
        "median_final_over_start": round(statistics.median(ratios), 3) if ratios else None,
        "share_5pct_above_start": round(sum(r >= BEAT for r in ratios) / len(ratios), 3) if ratios else None,
        "median_passes": statistics.median(job["passes"] for job in jobs),
    }
    if all("final_fluency" in job for job in jobs):
        row["median_fluency_final"] = round(statistics.median(job["final_fluency"] for job in jobs), 3)
        row["median_fluency_start"] = round(statistics.median(job["start_fluency"] for job in jobs), 3)
    return row


def best_so_far(job: dict[str, Any]) -> tuple[list[float], list[float]]:
    """(passes, best snapped activation so far / start) over a job's snapshots."""
    passes, values, best = [], [], float("-inf")
    for snapshot in job["snapshots"]:
        best = max(best, snapshot["snapped_activation"])
        passes.append(snapshot["passes"])
        values.append(best / job["start_activation"])
    return passes, values


def activation_vs_passes(runs: dict[str, list[dict[str, Any]]], title: str) -> LinePlot:
    """Median over jobs of best-so-far / start against passes per job, one line per method."""
    series = []
    for name, jobs in runs.items():
        curves = [best_so_far(job) for job in jobs if job["start_activation"] > 0]
        length = min(len(c[0]) for c in curves)
        x = [statistics.median(c[0][i] for c in curves) for i in range(length)]
        y = [statistics.median(c[1][i] for c in curves) for i in range(length)]
        series.append(Series(name, x, y))
    return LinePlot(title, "encoder passes per job", "best so far / start (median)", series)


def method_table(runs: list[str], figure: str | None = None, title: str = "search methods") -> list[dict[str, Any]]:
    """Print one row per method from its run folder (``NAME=RUN_DIR``); optionally save the
    activation-vs-passes figure (``.png``)."""
    jobs = {}
    for entry in runs:
        name, sep, folder = entry.partition("=")
        if not sep:
            raise ConfigError(f"run {entry!r}: give NAME=RUN_DIR (e.g. gcg=runs/dream_gcg)")
        jobs[name] = read_results(Path(folder))["jobs"]
    rows = [method_row(name, found) for name, found in jobs.items()]
    for row in rows:
        print(" | ".join(f"{k}: {v}" for k, v in row.items()))
    if figure is not None:
        from lightning_dream.report.mpl import figure as draw

        draw(activation_vs_passes(jobs, title)).savefig(figure, dpi=120)
    return rows
