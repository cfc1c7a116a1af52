"""Depth and dynamics views: a readout's metrics vs depth (``DepthProbe``, ``MLMDepthProbe``), and of ALBERT's iterated
system the local Lyapunov exponent vs step and the trajectory's token spread, dimension and
distance between sentences vs step."""

from __future__ import annotations

from statistics import mean
from typing import Any

from lightning_dream.report.blocks import LinePlot, Note, Section, Series
from lightning_dream.report.common import need

NAN = float("nan")

#: (field of each ``sync`` row, y label, what it says)
SYNC_CURVES = (
    ("sentence_distance", "mean distance", "distance between the inputs' trajectories"),
    ("token_spread", "token spread", "spread of the tokens' states (falls as they synchronise)"),
    ("participation_ratio", "participation ratio", "effective dimension of the states"),
)


def per_input_series(rows: list[dict[str, Any]], field: str, inputs: int) -> list[Series]:
    """The field's curve over steps (its mean over inputs and the first inputs' own, when it is
    per input); an undefined value (``null``) is a gap."""
    steps = [r["step"] for r in rows]
    values = [r[field] for r in rows]
    if not isinstance(values[0], list):
        return [Series(field.replace("_", " "), steps, [NAN if v is None else v for v in values])]
    series = [Series("mean over inputs", steps, [mean(v) for v in values])]
    return series + [Series(f"input {i}", steps, [v[i] for v in values]) for i in range(min(inputs, len(values[0])))]


def running_mean(values: list[float]) -> list[float]:
    """Mean of the first i values, for every i: the estimate of the maximal Lyapunov exponent after
    each window (its last value is the run's ``maximal_exponent``)."""
    out, total = [], 0.0
    for i, value in enumerate(values):
        total += value
        out.append(total / (i + 1))
    return out


def trajectory(result: dict[str, Any]) -> list[Section]:
    (rows,) = need(result, "sync", where="results")
    if not rows:
        return [Section("dynamics", "Trajectory", [Note("no steps recorded", "warning")])]
    plots = [
        LinePlot(f"{about} vs step", "step", label, per_input_series(rows, field, 4))
        for field, label, about in SYNC_CURVES
        if field in rows[0]
    ]
    return [
        Section(
            "dynamics",
            "Trajectory of the iterated system",
            plots,
            f"{len(result.get('inputs', []))} inputs, {rows[-1]['step']} steps",
        )
    ]


def lyapunov(result: dict[str, Any]) -> list[Section]:
    (local,) = need(result, "local_exponents", where="results")
    series = per_input_series(local, "per_input", 4)
    running = running_mean([mean(row["per_input"]) for row in local])
    series.insert(1, Series("running mean", [r["step"] for r in local], running))
    blocks = [LinePlot("local Lyapunov exponent vs step", "step", "local exponent (per step)", series)]
    maximal = result.get("maximal_exponent")
    text = (
        f"maximal Lyapunov exponent {maximal:.4g} per step"
        if maximal is not None
        else f"maximal Lyapunov exponent undefined: {result.get('maximal_exponent_undefined', 'not in the results')}"
    )
    if result.get("spectrum"):
        text += "; leading exponents per input: " + "; ".join(
            ", ".join(f"{v:.3g}" for v in row) for row in result["spectrum"]
        )
    blocks.append(Note(text))
    return [
        Section(
            "lyapunov", "Lyapunov exponent", blocks, "positive: nearby states separate (chaos); negative: they converge"
        )
    ] + trajectory(result)


def depth_probe(result: dict[str, Any]) -> list[Section]:
    """The depth curve: one plot per validation metric of the table (a row per depth), against depth."""
    (rows,) = need(result, "rows", where="results")
    rows = sorted(rows, key=lambda r: r["depth"])
    metrics = sorted({k for r in rows for k in r if k.startswith("val/") and not k.endswith("_undefined")})
    if not rows or not metrics:
        return [
            Section("depth", "Readout vs depth", [Note("the run holds no validation metrics per depth", "warning")])
        ]
    config = result.get("config", {})
    label = str(result.get("task") or config.get("model", "readout"))
    plots = [
        LinePlot(
            f"{metric} vs depth",
            "depth",
            metric,
            [Series(label, [r["depth"] for r in rows], [NAN if r.get(metric) is None else r[metric] for r in rows])],
            markers=True,
        )
        for metric in metrics
    ]
    return [Section("depth", "Readout vs depth", plots, f"model {config.get('model', '?')}, {len(rows)} depths")]
