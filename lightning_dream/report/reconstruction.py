"""Reconstruction views (the seed blog's figures 5 and 6).

Across layers: the original sentence on top, one row per layer, each token green when the
reconstruction recovered it and red when not. Changed / shifted activation: the target row
(the original with the moved positions marked) and one reconstruction per magnitude, tokens
coloured as changed toward the concept, changed otherwise, or unchanged, the magnitude beside.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import mean
from typing import Any

from lightning_dream.report.blocks import LinePlot, Section, Series, Token, TokenRow, TokenRows
from lightning_dream.report.common import MAX_DETAILED_JOBS, changeable, compared, need


def by_sentence(jobs: list[dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for job in jobs:
        (original,) = need(job, "original_tokens", where=f"job {job.get('job')}")
        groups[tuple(original)].append(job)
    return groups


def original_row(
    original: list[str], job: dict[str, Any], label: str = "original", marked: set[int] = frozenset(), note: str = ""
) -> TokenRow:
    tokens = [
        Token(t, "shifted" if i in marked else "plain" if changeable(job, i, len(original)) else "fixed")
        for i, t in enumerate(original)
    ]
    return TokenRow(label, tokens, note, {"row": label.split()[0]})


def across_layers(result: dict[str, Any]) -> list[Section]:
    sections = []
    for original, jobs in list(by_sentence(result["jobs"]).items())[:MAX_DETAILED_JOBS]:
        rows = [original_row(list(original), jobs[0])]
        for job in sorted(jobs, key=lambda j: j.get("layer_id", 0)):
            best, recovery = need(job, "final_tokens", "token_recovery", where=f"job {job.get('job')}")
            note = f"recovery {recovery:.2f} · distance {job.get('distance', float('nan')):.3g}"
            rows.append(
                TokenRow(
                    f"layer {job['layer_id']}",
                    compared(best, list(original), job, "recovered", "lost"),
                    note,
                    {"layer": job["layer_id"], "job": job["job"]},
                )
            )
        block = TokenRows("reconstructed sentence per layer", rows, ("recovered", "lost", "fixed"))
        sections.append(
            Section("reconstruction", f"Reconstruction across layers — {jobs[0].get('sentence', '')!r}", [block])
        )
    return sections + depth_plot(result)


def depth_plot(result: dict[str, Any]) -> list[Section]:
    """Mean token recovery per layer (over sentences), the reconstruction's depth curve."""
    per_layer: dict[int, list[float]] = defaultdict(list)
    for job in result["jobs"]:
        if "token_recovery" in job and job.get("magnitude") in (None, 0, 0.0):
            per_layer[job["layer_id"]].append(job["token_recovery"])
    if len(per_layer) < 2:
        return []
    layers = sorted(per_layer)
    plot = LinePlot(
        "token recovery vs layer",
        "layer",
        "token recovery",
        [Series("mean over sentences", layers, [mean(per_layer[k]) for k in layers])],
        markers=True,
    )
    return [Section("depth", "Reconstruction vs depth", [plot])]


def change_kinds(job: dict[str, Any], original: list[str]) -> dict[int, str]:
    """Position -> toward / away / other for every changed token of a job."""
    if "changes" in job:  # shifted results classify their changes
        return {c["position"]: c["kind"] for c in job["changes"]}
    concept = job.get("changed_token")  # changed results: moving to the swapped-in token is "toward"
    return {
        i: "toward" if t == concept else "other"
        for i, (o, t) in enumerate(zip(original, job["final_tokens"]))
        if o != t
    }


def shifted(result: dict[str, Any]) -> list[Section]:
    sections = []
    groups = by_sentence(result["jobs"])
    for original, jobs in list(groups.items())[:MAX_DETAILED_JOBS]:
        original = list(original)
        blocks = []
        for layer in sorted({j.get("layer_id") for j in jobs}):
            members = sorted((j for j in jobs if j.get("layer_id") == layer), key=lambda j: j.get("magnitude") or 0.0)
            first = members[0]
            if "magnitude" in first:
                start, end = first.get("shift_start", 0), first.get("shift_end", -1)
                concepts = sorted({j["toward"] for j in members if j.get("toward")})
                target = original_row(
                    original,
                    first,
                    "target",
                    set(range(start, end + 1)),
                    f"activation at {start}..{end} moved toward {' / '.join(concepts) or '—'}",
                )
            else:
                position = result.get("config", {}).get("change_position", 1)
                target = original_row(
                    original,
                    first,
                    "target",
                    {position},
                    f"vector of {first.get('changed_token')!r} from {first.get('changed_from', '?')!r}",
                )
            rows = [target]
            for job in members:
                (best,) = need(job, "final_tokens", where=f"job {job.get('job')}")
                kinds = change_kinds(job, original)
                tokens = [
                    Token(
                        t,
                        "fixed" if not changeable(job, i, len(best)) else kinds.get(i, "unchanged"),
                        title=f"was {original[i]!r}" if i in kinds else "",
                    )
                    for i, t in enumerate(best)
                ]
                magnitude = job.get("magnitude")
                label = f"magnitude {magnitude:+g}" if magnitude is not None else "reconstruction"
                note = (
                    f"{magnitude:+g}" + (f" toward {job['toward']}" if job.get("toward") else "")
                    if magnitude is not None
                    else f"recovery {job.get('token_recovery', float('nan')):.2f}"
                )
                rows.append(
                    TokenRow(
                        label,
                        tokens,
                        note,
                        {"layer": layer, "job": job["job"], "magnitude": magnitude if magnitude is not None else ""},
                    )
                )
            blocks.append(TokenRows(f"layer {layer}", rows, ("toward", "away", "other", "unchanged", "shifted")))
        title = f"{'Shifted' if 'magnitude' in jobs[0] else 'Changed'} activation — {jobs[0].get('sentence', '')!r}"
        sections.append(
            Section(
                "shifted",
                title,
                blocks,
                "target row: the original, moved positions underlined; below: what the reconstruction made of it",
            )
        )
    return sections
