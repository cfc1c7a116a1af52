"""Older result files read as today's version: soft-input files from before ``FINAL_IS_BEST``.

Their ``best_*`` (the best snapped input) is today's ``final_*``, their ``final_*`` (the last
step's input) today's ``last_*``; ``read_results`` applies ``upgrade_soft_input`` to every file.
"""

from __future__ import annotations

from typing import Any

from lightning_dream.results.formats import COMBINED_FORMAT, FINAL_IS_BEST, parse_format


def _older(fmt: Any, current: str) -> bool:
    """``fmt`` is an earlier version of the format ``current``."""
    kind, version = parse_format(fmt)
    current_kind, current_version = parse_format(current)
    return bool(kind) and kind == current_kind and version < current_version


def _final_and_last(row: dict[str, Any]) -> dict[str, Any]:
    """A job of an older soft-input file with today's names: ``best_x`` -> ``final_x``, ``final_x`` -> ``last_x``."""
    renamed = {}
    for key, value in row.items():
        if key.startswith("final_"):
            key = "last_" + key.removeprefix("final_")
        elif key.startswith("best_"):
            key = "final_" + key.removeprefix("best_")
        renamed[key] = value
    return renamed


def _renamed(rows: Any) -> Any:
    """A list of rows with today's names (``_final_and_last``); anything else as it is."""
    return [_final_and_last(r) if isinstance(r, dict) else r for r in rows] if isinstance(rows, list) else rows


def upgrade_soft_input(payload: dict[str, Any]) -> dict[str, Any]:
    """A soft-input result of a version before ``FINAL_IS_BEST`` (or a combined file of them) read
    as today's: its fields renamed, ``format`` today's, ``upgraded_from`` the version it had."""
    key = "result_format" if payload.get("format") == COMBINED_FORMAT else "format"
    current = next((fmt for fmt in FINAL_IS_BEST if _older(payload.get(key), fmt)), None)
    if current is None:
        return payload
    payload = {**payload, key: current, "upgraded_from": payload[key]}
    for rows in ("jobs", "summary"):
        if rows in payload:
            payload[rows] = _renamed(payload[rows])
    if isinstance(payload.get("groups"), dict):
        payload["groups"] = {name: _renamed(group) for name, group in payload["groups"].items()}
    return payload
