"""Reading result files: ``read_results`` checks a file's ``format``; ``Results`` and ``Row`` read a
run from Python (``Results.open("runs/dream")``)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lightning_dream.errors import ConfigError
from lightning_dream.results.formats import RESULTS_FILE
from lightning_dream.results.migration import upgrade_soft_input


def read_results(path: str | Path, expected_format: str | None = None) -> dict[str, Any]:
    """Load a result file (or the results.json inside a run folder) and check its ``format``.
    An older soft-input file is read as today's version (``upgrade_soft_input``)."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILE
    if not path.is_file():
        raise ConfigError(f"no result file at {path}")
    try:
        payload = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path} is not valid JSON (partially written?): {err}") from None
    found = payload.get("format") if isinstance(payload, dict) else None
    if found is None:
        raise ConfigError(f"{path} has no 'format' field: not a lightning_dream result file")
    payload = upgrade_soft_input(payload)
    found = payload["format"]
    if expected_format is not None and found != expected_format:
        raise ConfigError(f"{path} holds format {found!r}, expected {expected_format!r}")
    return payload


class Row(Mapping[str, Any]):
    """One job (or item) of a result file, read-only: ``row.final_sentence`` or ``row["final_sentence"]``.
    Its fields are the format's (``row.fields()`` lists them); older files may lack some."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]):
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"this row has no field {name!r} (it has {', '.join(self._values)})") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("result rows are read-only")

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def fields(self) -> list[str]:
        return list(self._values)

    def __repr__(self) -> str:
        shown = {k: v for k, v in self._values.items() if not isinstance(v, (list, dict))}
        return f"Row({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


@dataclass(frozen=True)
class Results:
    """A finished (or stopped) run's results.json, from Python.

    ``Results.open("runs/dream")`` takes a result file, a run folder, or a folder of runs (then the
    newest results.json under it); ``.rows`` are its jobs (or items) as ``Row`` s, ``.data`` the
    whole file.
    """

    path: Path
    data: dict[str, Any]

    @classmethod
    def open(cls, run: str | Path) -> Results:
        path = Path(run)
        if path.is_dir() and not (path / RESULTS_FILE).is_file():
            found = sorted(path.rglob(RESULTS_FILE), key=lambda p: p.stat().st_mtime)
            if not found:
                raise ConfigError(f"no {RESULTS_FILE} under {path}: give a run folder or a result file")
            path = found[-1]
        elif path.is_dir():
            path = path / RESULTS_FILE
        return cls(path, read_results(path))

    @property
    def format(self) -> str:
        return self.data["format"]

    @property
    def experiment(self) -> str:
        return self.data.get("experiment", "")

    @property
    def config(self) -> dict[str, Any]:
        return self.data.get("config", {})

    @property
    def complete(self) -> bool:
        """False for a run stopped early (files from before this field count as complete)."""
        return self.data.get("complete", True)

    @property
    def step(self) -> int | None:
        """The optimisation step the run reached."""
        return self.data.get("trainer", {}).get("global_step")

    @property
    def rows(self) -> list[Row]:
        """The jobs (or items) in index order; empty for whole-run results (a trajectory)."""
        rows = self.data.get("jobs", self.data.get("rows", []))
        return [Row(row) for row in rows] if isinstance(rows, list) else []

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __repr__(self) -> str:
        state = "" if self.complete else f", stopped at step {self.step}"
        return f"Results({self.experiment}, {self.format}, {len(self.rows)} rows{state}: {self.path})"


def open_results(run: str | Path) -> Results:
    """``Results.open(run)``."""
    return Results.open(run)
