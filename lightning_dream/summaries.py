"""The numbers results are read by: a job's gain over its start, per-layer and per-magnitude summaries.

``gain`` is the one "final over start" of every soft-input result (end tables, progress bar,
TensorBoard, ``method-table`` and the report). A reconstruction run writes every job with its
``layer_id`` (and ``magnitude`` for shifted runs); ``summarise`` groups them, for the run's own
results.json and for ``combine-layers`` / ``combine-magnitudes`` alike.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import mean
from typing import Any

#: the smallest |start| a gain divides by
GAIN_FLOOR = 1e-12


def gain(start: Any, final: Any) -> Any:
    """How far the final value got relative to the start: ``final / start`` for a positive start,
    ``1 + (final - start) / |start|`` in general (it grows as ``final`` does whatever the start's
    sign); 1 means no progress. Floats, or tensors elementwise."""
    size = abs(start)
    size = size.clamp_min(GAIN_FLOOR) if hasattr(size, "clamp_min") else max(size, GAIN_FLOOR)
    return 1 + (final - start) / size


def summarise(jobs: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Mean recovery and distance per group of jobs sharing ``keys`` (layer, magnitude)."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for job in jobs:
        groups[tuple(job.get(key) for key in keys)].append(job)
    rows = []
    for values, members in sorted(groups.items(), key=lambda item: [(v is None, v) for v in item[0]]):
        row: dict[str, Any] = dict(zip(keys, values))
        if "toward" in members[0]:
            row["toward"] = members[0]["toward"]
        row["jobs"] = len(members)
        for field in ("token_recovery", "last_token_recovery", "distance", "changed_toward"):
            if all(field in m for m in members):
                row[field] = mean(float(m[field]) for m in members)
        rows.append(row)
    return rows
