"""Dream process and annealing views of any soft-input run (Dream, Reconstruct, ...).

Dream process (the seed blog's figure 1): the snapped sentence over iterations with the middle
skipped, the curves of temperature, soft activation and snapped activation, start vs final (the best
snapped input seen) and last (the last step's).
Annealing (figure 2): at a few iterations, the top tokens of each changeable position's softmax
as bars, so one sees which tokens were dropped as the temperature fell.
"""

from __future__ import annotations

from typing import Any

from lightning_dream.report.blocks import (
    BarPanel,
    BarPanels,
    LinePlot,
    Note,
    Section,
    Series,
    Token,
    TokenRow,
    TokenRows,
)
from lightning_dream.report.common import MAX_DETAILED_JOBS, compared, job_name, need, spread, with_ties

#: snapshots shown at each end of the sentence table; the middle is skipped
SNAPSHOT_ROWS = 5
#: iterations shown in the annealing view
ANNEALING_STEPS = 5


def overview(result: dict[str, Any]) -> list[Section]:
    """One row per job: its final (best snapped) sentence, coloured where it changed, start -> final
    activation, the last step's beside it."""
    rows = []
    for job in result["jobs"]:
        start, final = need(job, "start_tokens", "final_tokens", where=f"job {job.get('job')}")
        note = (
            f"{job.get('start_activation', float('nan')):.4g} → "
            f"{job.get('final_activation', float('nan')):.4g} (last {job.get('last_activation', float('nan')):.4g})"
        )
        rows.append(
            TokenRow(job_name(job), compared(final, start, job, "plain", "changed"), note, {"job": job.get("job")})
        )
    return [
        Section(
            "dream-overview",
            "Dreamed sentences",
            [
                TokenRows(
                    "final (best snapped) sentence of every job, start → final activation", rows, ("changed", "fixed")
                )
            ],
        )
    ]


def sentence_rows(job: dict[str, Any], snapshots: list[dict[str, Any]]) -> list[TokenRow]:
    start = job["start_tokens"]
    shown = snapshots
    if len(snapshots) > 2 * SNAPSHOT_ROWS + 1:
        shown = snapshots[:SNAPSHOT_ROWS] + [None] + snapshots[-SNAPSHOT_ROWS:]
    rows = []
    for snap in shown:
        if snap is None:
            skipped = len(snapshots) - 2 * SNAPSHOT_ROWS
            rows.append(TokenRow("…", [Token(f"{skipped} snapshots skipped", "fixed")]))
            continue
        step, temperature, tokens = need(snap, "step", "temperature", "tokens", where=f"job {job['job']} snapshot")
        soft, snapped = snap.get("soft_activation", float("nan")), snap.get("snapped_activation", float("nan"))
        note = f"soft {soft:.4g} · snapped {snapped:.4g}"
        rows.append(
            TokenRow(
                f"step {step} · T {temperature:.3g}",
                compared(tokens, start, job, "plain", "changed"),
                note,
                {"step": step},
            )
        )
    return rows


def dream_process(result: dict[str, Any]) -> list[Section]:
    sections = overview(result) if len(result["jobs"]) > 1 else []
    for job in result["jobs"][:MAX_DETAILED_JOBS]:
        (snapshots,) = need(job, "snapshots", where=f"job {job.get('job')}")
        if not snapshots:
            sections.append(
                Section("dream-process", f"Dream process — {job_name(job)}", [Note("no snapshots recorded", "warning")])
            )
            continue
        steps = [s["step"] for s in snapshots]
        curves = LinePlot(
            "activation and temperature over iterations",
            "iteration",
            "activation",
            [
                Series("soft activation", steps, [s["soft_activation"] for s in snapshots]),
                Series("snapped activation", steps, [s["snapped_activation"] for s in snapshots]),
                Series("temperature", steps, [s["temperature"] for s in snapshots], right=True),
            ],
            right_label="temperature",
        )
        ends = TokenRows(
            "start vs final (best snapped) and last",
            [
                TokenRow(
                    "start",
                    compared(job["start_tokens"], job["start_tokens"], job, "plain", "changed"),
                    f"{job['start_activation']:.4g}",
                    {"end": "start"},
                ),
                TokenRow(
                    "final",
                    compared(job["final_tokens"], job["start_tokens"], job, "plain", "changed"),
                    f"{job['final_activation']:.4g}",
                    {"end": "final"},
                ),
                TokenRow(
                    "last",
                    compared(job["last_tokens"], job["start_tokens"], job, "plain", "changed"),
                    f"{job['last_activation']:.4g}",
                    {"end": "last"},
                ),
            ],
            ("changed", "fixed"),
        )
        title = f"Dream process — {job_name(job)}"
        subtitle = (
            f"{job.get('sentence', '')!r}: activation {job['start_activation']:.4g} before "
            f"vs {job['final_activation']:.4g} after optimisation"
        )
        rows = TokenRows("snapped sentence over iterations", sentence_rows(job, snapshots), ("changed", "fixed"))
        sections.append(Section("dream-process", title, [rows, curves, ends], subtitle))
    if len(result["jobs"]) > MAX_DETAILED_JOBS:
        sections.append(
            Section(
                "dream-process",
                "More jobs",
                [Note(f"details shown for the first {MAX_DETAILED_JOBS} of {len(result['jobs'])} jobs")],
            )
        )
    return sections


def annealing(result: dict[str, Any]) -> list[Section]:
    sections = []
    for job in result["jobs"][:MAX_DETAILED_JOBS]:
        snapshots = [s for s in job.get("snapshots", []) if "softmax_top" in s]
        title = f"Annealing — {job_name(job)}"
        if not snapshots:
            why = (
                f"results of format {result.get('upgraded_from') or result.get('format')} keep no softmax top"
                " tokens per snapshot "
                "(re-run with this version to get them)"
            )
            sections.append(Section("annealing", title, [Note(why, "warning")]))
            continue
        final = job.get("final_tokens", [])
        blocks = []
        for snap in spread(snapshots, ANNEALING_STEPS):
            panels = [
                BarPanel(
                    f"position {p['position']}",
                    *with_ties(p["tokens"], p["weights"]),
                    highlight=final[p["position"]] if p["position"] < len(final) else None,
                )
                for p in snap["softmax_top"]
            ]
            blocks.append(
                BarPanels(
                    f"step {snap['step']} · T {snap['temperature']:.3g}",
                    panels,
                    "softmax weight",
                    max_value=1.0,
                    caption="the final (best snapped) token is marked blue",
                )
            )
        sections.append(Section("annealing", title, blocks, "top tokens of the softmax at each changeable position"))
    return sections
