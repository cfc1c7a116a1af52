"""Search methods side by side: the comparison table and activation vs passes, from result files alone.

Either one ``CompareMethods`` run (``comparison_table``, its report view ``comparison``) or one Dream
run per method (``method: ...``, same targets file, same ``max_passes``; ``method-table``). A job's
result is its final activation (the best real input seen) against its start sentence's.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from lightning_dream.errors import ConfigError
from lightning_dream.report.blocks import LinePlot, Note, Section, Series
from lightning_dream.results import COMPARE_METHODS_FORMAT, RESULTS_FILE, read_results
from lightning_dream.summaries import gain

#: a run beats its start when its final is at least this much above it (keeping the start is not beating it)
BEAT = 1.05
#: a single-word run reaches the exhaustive token search's best within float rounding
REACH_TOLERANCE = 1e-4


def best_so_far(job: dict[str, Any]) -> tuple[list[float], list[float]]:
    """(passes, best snapped activation so far / start) over a job's snapshots, ending at its final
    result after all its passes (a method with costly steps, EPO's, may keep one snapshot only)."""
    points = [(s["passes"], s["snapped_activation"]) for s in job["snapshots"]]
    if "final_activation" in job and (not points or job["passes"] > points[-1][0]):
        points.append((job["passes"], job["final_activation"]))
    passes, values, best = [], [], float("-inf")
    for spent, value in points:
        best = max(best, value)
        passes.append(spent)
        values.append(gain(job["start_activation"], best))
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
    """Print one row per method, from one run folder per method (``NAME=RUN_DIR``) or from one
    ``CompareMethods`` run (its folder alone); optionally save the activation-vs-passes figure
    (``.png``; for a comparison also EPO's front, side by side)."""
    if len(runs) == 1 and "=" not in runs[0] and (Path(runs[0]) / RESULTS_FILE).is_file():
        result = read_results(Path(runs[0]), COMPARE_METHODS_FORMAT)
        rows = comparison_table(result["jobs"])
        plots = [block for section in comparison(result) for block in section.blocks if isinstance(block, LinePlot)]
    else:
        jobs = {}
        for entry in runs:
            name, sep, folder = entry.partition("=")
            if not sep:
                raise ConfigError(
                    f"run {entry!r}: give NAME=RUN_DIR per method (e.g. gcg=runs/dream_gcg),"
                    " or one CompareMethods run folder"
                )
            jobs[name] = [{**job, "method": name, "span": span(job)} for job in read_results(Path(folder))["jobs"]]
        rows = comparison_table([job for found in jobs.values() for job in found])
        plots = [activation_vs_passes(jobs, title)]
    for row in rows:
        print(" | ".join(f"{k}: {v}" for k, v in row.items()))
    if figure is not None:
        from lightning_dream.report.mpl import line_plots

        line_plots(plots).savefig(figure, dpi=120)
    return rows


def span(job: dict[str, Any]) -> str:
    """``word`` for a job that changed its target's position alone, else ``sentence`` (a Dream run's
    jobs carry no span: a comparison's do)."""
    word = job.get("word_id")
    return "word" if word is not None and job["start_change"] == job["end_change"] == word else "sentence"


def job_gain(job: dict[str, Any], result: str = "final") -> float:
    """The job's final (or ``last``: the last step's) activation over its start (``summaries.gain``)."""
    return gain(job["start_activation"], job[f"{result}_activation"])


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 4) if values else None


def share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def fluent_gain_on_front(job: dict[str, Any]) -> bool:
    """Whether the job's front holds a sentence at least as fluent as its start with an activation
    at least 5% above the start's (EPO's goal: better dreams that still read as well)."""
    return any(
        point["fluency"] >= job["start_fluency"] and gain(job["start_activation"], point["activation"]) >= BEAT
        for point in job["front"]
    )


def comparison_table(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per method, from per-job rows alone (a ``CompareMethods`` run's, or Dream runs' with
    ``method`` and ``span`` added; the one table of the end of a run, ``method-table`` and the
    report): the median
    final/start and the share of runs >= 5% above their start (whole sentence and single word
    apart), the median last-step/start (the last step's input, not the best one seen), the
    share of single-word runs reaching the exhaustive best, the share of runs whose front (EPO)
    holds a sentence as fluent as the start and 5% above it, the median fluency of the final and
    the start sentences, the median passes and the summed wall time."""
    rows = []
    for method in dict.fromkeys(job["method"] for job in jobs):
        mine = [job for job in jobs if job["method"] == method]
        timed = all("wall_seconds" in job for job in mine)  # a comparison times its methods, a Dream run does not
        sentence = [job_gain(job) for job in mine if job["span"] == "sentence"]
        word = [job_gain(job) for job in mine if job["span"] == "word"]
        last = {kind: [job_gain(job, "last") for job in mine if job["span"] == kind] for kind in ("sentence", "word")}
        reached = [
            job["final_activation"] >= job["exhaustive_best"] - REACH_TOLERANCE
            for job in mine
            if job["span"] == "word" and job.get("exhaustive_best") is not None
        ]
        row = {
            "method": method,
            "runs": len(mine),
            "median_final_over_start_sentence": median(sentence),
            "median_final_over_start_word": median(word),
            "median_last_over_start_sentence": median(last["sentence"]),
            "median_last_over_start_word": median(last["word"]),
            "share_5pct_above_start_sentence": share([g >= BEAT for g in sentence]),
            "share_5pct_above_start_word": share([g >= BEAT for g in word]),
            "share_word_reaching_exhaustive": share(reached),
            "share_front_fluent_5pct_above_start": share([fluent_gain_on_front(job) for job in mine if "front" in job]),
            "median_fluency_final": median([job["final_fluency"] for job in mine if "final_fluency" in job]),
            "median_fluency_start": median([job["start_fluency"] for job in mine if "start_fluency" in job]),
            "median_passes": median([job["passes"] for job in mine]),
            "wall_seconds": round(sum(job["wall_seconds"] for job in mine), 2) if timed else None,
        }
        rows.append(row)
    return rows


def comparison(result: dict[str, Any]) -> list[Section]:
    """The report view of a ``CompareMethods`` run: its table, activation vs passes per method (whole
    sentence and single word), and EPO's front (fluency vs activation) when the jobs carry one."""
    jobs = result["jobs"]
    table = result.get("table") or comparison_table(jobs)
    lines = [" · ".join(f"{k} {v}" for k, v in row.items()) for row in table]
    blocks: list[Any] = [Note(line) for line in lines]
    for span in ("sentence", "word"):
        runs: dict[str, list[dict[str, Any]]] = {}
        for job in jobs:
            if job["span"] == span and job["start_activation"] > 0 and job.get("snapshots"):
                runs.setdefault(job["method"], []).append(job)
        if runs:
            blocks.append(activation_vs_passes(runs, f"{span} runs: best so far / start vs passes"))
    fronts = [
        Series(f"job {job['job']}", [p["fluency"] for p in job["front"]], [p["activation"] for p in job["front"]])
        for job in jobs
        if isinstance(job.get("front"), list) and job["front"]
    ]
    if fronts:
        blocks.append(LinePlot("EPO front: activation vs fluency", "fluency", "activation", fronts[:12], markers=True))
    return [Section("comparison", "Search methods compared", blocks, f"{len(jobs)} runs, {len(table)} methods")]
