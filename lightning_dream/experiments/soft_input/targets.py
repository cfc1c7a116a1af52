"""A targets file: one job per JSON line, each with its own sentence, layer, position and span.

The blog's workflow dreams each neuron from its own best corpus sentence at its own position;
one line per job lets a single run (batched, sharded like any other) hold them all. Keys are the
configs' names::

    {"sentence": "...", "layer_id": 5, "neuron_id": 314, "word_id": 7}
    {"sentence": "...", "layer_id": 3, "target": "word", "word_id": 2, "start_change": 2, "end_change": 4, "seed": 1}

``target`` is ``neuron`` (the default when ``neuron_id`` is given), ``word`` or ``layer``;
``reduction`` (``mean``/``norm``), ``start_change``/``end_change`` and ``seed`` are optional.
``corpus-search`` writes one from its top sentences (``targets_file``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lightning_dream.errors import ConfigError

KEYS = {"sentence", "layer_id", "neuron_id", "word_id", "target", "reduction", "start_change", "end_change", "seed"}


@dataclass(frozen=True)
class TargetLine:
    """One job of a targets file."""

    sentence: str
    layer_id: int
    neuron_id: int | None = None
    word_id: int | None = None
    target: str = "neuron"
    reduction: str = "mean"
    start_change: int | None = None
    end_change: int | None = None
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def parse_line(entry: Any, where: str) -> TargetLine:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: a line must be a JSON object with sentence and layer_id")
    unknown = set(entry) - KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(KEYS)}")
    if not isinstance(entry.get("sentence"), str) or not isinstance(entry.get("layer_id"), int):
        raise ConfigError(f"{where}: needs a sentence (string) and a layer_id (integer)")
    kind = entry.get("target", "neuron" if entry.get("neuron_id") is not None else "word")
    if kind not in ("neuron", "word", "layer"):
        raise ConfigError(f"{where}: target {kind!r} must be neuron, word or layer")
    if kind == "neuron" and entry.get("neuron_id") is None:
        raise ConfigError(f"{where}: target 'neuron' needs a neuron_id")
    if kind != "layer" and entry.get("word_id") is None:
        raise ConfigError(f"{where}: target {kind!r} needs a word_id (token position, [CLS] = 0)")
    if entry.get("reduction", "mean") not in ("mean", "norm"):
        raise ConfigError(f"{where}: reduction must be mean or norm")
    for key in ("neuron_id", "word_id", "start_change", "end_change", "seed"):
        if entry.get(key) is not None and not isinstance(entry[key], int):
            raise ConfigError(f"{where}: {key} must be an integer or absent")
    return TargetLine(
        sentence=entry["sentence"],
        layer_id=entry["layer_id"],
        neuron_id=entry.get("neuron_id") if kind == "neuron" else None,
        word_id=entry.get("word_id") if kind != "layer" else None,
        target=kind,
        reduction=entry.get("reduction", "mean"),
        start_change=entry.get("start_change"),
        end_change=entry.get("end_change"),
        seed=entry.get("seed"),
    )


def read_targets(path: str | Path) -> list[TargetLine]:
    """Every line of a targets file (blank lines skipped), checked before any model work."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"targets file {str(path)!r} does not exist: give a .jsonl file, one job per line")
    lines = []
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if not text.strip():
            continue
        try:
            entry = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"{path}:{number}: not JSON ({err.msg}); one JSON object per line") from None
        lines.append(parse_line(entry, f"{path}:{number}"))
    if not lines:
        raise ConfigError(f"targets file {str(path)!r} holds no jobs: one JSON object per line")
    return lines


def write_targets(path: str | Path, lines: Iterable[TargetLine]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line.to_json()) + "\n" for line in lines))
