"""Small helpers every view shares: checked field access and token colouring."""

from __future__ import annotations

from typing import Any

from lightning_dream.report.blocks import Token

#: at most this many jobs get their own detailed sections; the overview lists all of them
MAX_DETAILED_JOBS = 8


class MissingFields(Exception):
    """A result lacks fields a view needs (an older format or a partially written file)."""


def need(entry: dict[str, Any], *keys: str, where: str = "") -> list[Any]:
    """The values of ``keys`` in ``entry``, or MissingFields naming every absent one."""
    absent = [k for k in keys if k not in entry]
    if absent:
        raise MissingFields(f"{where or 'result'} lacks {', '.join(absent)}")
    return [entry[k] for k in keys]


def job_name(job: dict[str, Any]) -> str:
    parts = [f"job {job.get('job', '?')}"]
    if job.get("neuron_id") is not None:
        parts.append(f"neuron {job['neuron_id']}")
    if job.get("layer_id") is not None:
        parts.append(f"layer {job['layer_id']}")
    if job.get("word_id") is not None:
        parts.append(f"position {job['word_id']}")
    return ", ".join(parts)


def changeable(job: dict[str, Any], position: int, length: int) -> bool:
    """Whether the optimisation could change ``position`` (defaults: all but [CLS] and [SEP])."""
    start = job.get("start_change") if job.get("start_change") is not None else 1
    end = job.get("end_change") if job.get("end_change") is not None else length - 2
    return start <= position <= end


def compared(tokens: list[str], reference: list[str], job: dict[str, Any], same: str, different: str) -> list[Token]:
    """``tokens`` coloured ``same``/``different`` against ``reference`` where they could change, else ``fixed``."""
    out = []
    for i, text in enumerate(tokens):
        if not changeable(job, i, len(tokens)):
            out.append(Token(text, "fixed"))
        elif i < len(reference) and text == reference[i]:
            out.append(Token(text, same))
        else:
            out.append(Token(text, different, title=f"was {reference[i]!r}" if i < len(reference) else ""))
    return out


def spread(items: list[Any], count: int) -> list[Any]:
    """``count`` items evenly spread from first to last (all of them if there are fewer)."""
    if len(items) <= count:
        return list(items)
    picks = sorted({round(i * (len(items) - 1) / (count - 1)) for i in range(count)})
    return [items[i] for i in picks]


def with_ties(names: list[str], weights: list[float], rel: float = 1e-3) -> tuple[list[str], list[float]]:
    """Top softmax tokens with the tied tail as one entry: at a high temperature every token but a
    few has the same weight, and which of them the top-k picks (``[unused0]``, ``[PAD]``) means
    nothing. The tail's entries of (nearly) equal weight ``w`` become one ``"w × ~N tied tokens"``;
    ``N`` counts the tied entries shown plus the mass the top-k leaves out divided by ``w`` (exact
    when every token outside the top-k has that weight, a lower bound otherwise)."""
    if len(weights) < 2:
        return names, weights
    w = weights[-1]
    if w <= 0:  # weights are stored rounded: 0 is below the rounding step, for every token not shown
        first = next(i for i in range(len(weights)) if all(v <= 0 for v in weights[i:]))
        if first == 0:
            return names, weights
        return names[:first] + ["≈0 · every other token"], weights[:first] + [0.0]
    first = len(weights) - 1
    while first > 0 and abs(weights[first - 1] - w) <= rel * w:
        first -= 1
    if first == len(weights) - 1:
        return names, weights  # the last entry ties with nothing shown
    rest = max(0.0, 1.0 - sum(weights))
    count = len(weights) - first + round(rest / w)
    return names[:first] + [f"{w:.2g} × ~{count:,} tied tokens"], weights[:first] + [w]
