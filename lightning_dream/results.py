"""Result files: versioned JSON written atomically, read back with a clear error.

Every result file names its ``format``, ``lightning_dream.<kind>/<version>``; every format string
of the project is one of the constants below, and experiments reference them (``result_format``).
A run's ``results.json`` is written by ``callbacks.results.ResultWriter`` alone: a header built
here (``result_header``: ``format``, ``experiment``, ``config``, ``trainer``), then the
experiment's run-level fields, then its rows (``jobs`` or ``rows``), one per job or item, in index
order.

The contracts a format keeps:

- **Versions.** A new *optional* field keeps the format's version (readers ignore what they do not
  know, and a report shows older files with a note where a field is missing). A renamed or
  removed field, or a field whose meaning or unit changes, bumps the version (``/1`` -> ``/2``);
  say in a comment beside the constant what the new version changed.
- **Undefined values.** A value that is legitimately undefined (the Lyapunov exponent of a run
  with no complete window, the distance between inputs when there is one input, a correlation of
  constant predictions) is written as ``null`` with the reason beside it under the same name plus
  ``_undefined``: ``"x": null, "x_undefined": "constant predictions"``. Never NaN or Infinity.
- **Complete.** ``complete`` (optional, so no format changed) is false when the run was stopped
  before its end (``max_steps``, ``max_time``, Ctrl-C); ``trainer.global_step`` is the step reached.
  Resuming the run's last checkpoint (``--ckpt_path``) continues it to the end.
- **Strict JSON.** Result files are strict JSON (RFC 8259), readable by any parser, a browser's
  included. ``write_json_atomic`` enforces it: it serialises with ``allow_nan=False``; if a payload
  still holds a non-finite float (an experiment that did not say why), that value is written as
  ``null`` with a generic ``<name>_undefined`` reason (``"not a finite number (nan)"``; for a list,
  how many of its values were not), a reason the experiment gave itself is kept, and a warning
  names the file. So a long run never loses its results to one NaN, and no file holds ``NaN``.
"""

from __future__ import annotations

import glob
import json
import math
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from lightning_dream.errors import ConfigError

RESULTS_FILE = "results.json"

# -- run results (results.json), by experiment family ------------------------------------------
#: /2: snapshots carry ``softmax_top`` (the annealing view's top tokens per changeable position).
#: /3: ``final_*`` is the best real (snapped) input seen, the method's result (was ``best_*``);
#: ``last_*`` is the last step's input (was ``final_*``); ``best_*`` is gone. The same for every
#: stage-named field: ``*_fluency``/``_pll``/``_unigram``, DreamMLM's ``*_probability``,
#: Reconstruct's ``last_distance``/``last_token_recovery`` (``distance``/``token_recovery`` are the
#: final's, as before). Older files are read as this version (``upgrade_soft_input``).
SOFT_INPUT_FORMAT = "lightning_dream.soft_input/3"
DREAM_FORMAT = "lightning_dream.dream/3"  # /2, /3: as SOFT_INPUT_FORMAT
DREAM_MLM_FORMAT = "lightning_dream.dream_mlm/2"  # /2: final/last as SOFT_INPUT_FORMAT/3
RECONSTRUCT_FORMAT = "lightning_dream.reconstruct/2"  # /2: final/last as SOFT_INPUT_FORMAT/3
RECONSTRUCT_CHANGED_FORMAT = "lightning_dream.reconstruct_changed/2"  # /2: as RECONSTRUCT_FORMAT
RECONSTRUCT_SHIFTED_FORMAT = "lightning_dream.reconstruct_shifted/2"  # /2: as RECONSTRUCT_FORMAT
#: the soft-input formats that renamed best/final to final/last
FINAL_IS_BEST = (
    SOFT_INPUT_FORMAT,
    DREAM_FORMAT,
    DREAM_MLM_FORMAT,
    RECONSTRUCT_FORMAT,
    RECONSTRUCT_CHANGED_FORMAT,
    RECONSTRUCT_SHIFTED_FORMAT,
)
#: ``CompareMethods``: per job a soft-input row (as SOFT_INPUT_FORMAT) with ``target``, ``span`` (word or
#: sentence), ``steps``, ``wall_seconds`` and, for single-word jobs, ``exhaustive_best`` and
#: ``exhaustive_token``; the run's ``table``: one row per method (``report.methods.comparison_table``)
COMPARE_METHODS_FORMAT = "lightning_dream.compare_methods/1"

FILL_MASK_FORMAT = "lightning_dream.fill_mask/1"
KNOWLEDGE_PROBE_FORMAT = "lightning_dream.knowledge_probe/1"
MLM_SAMPLING_FORMAT = "lightning_dream.mlm_sampling/1"

TOKEN_SEARCH_FORMAT = "lightning_dream.token_search/1"
SIMILAR_EMBEDDINGS_FORMAT = "lightning_dream.similar_embeddings/1"
CORPUS_SEARCH_FORMAT = "lightning_dream.corpus_search/1"

INSPECT_FORMAT = "lightning_dream.inspect/1"
ATTENTION_FORMAT = "lightning_dream.attention/1"
FACTORIZE_FORMAT = "lightning_dream.factorize/1"

ALBERT_TRAJECTORY_FORMAT = "lightning_dream.albert_trajectory/1"
ALBERT_LYAPUNOV_FORMAT = "lightning_dream.albert_lyapunov/1"
#: ``DepthProbe`` / ``MLMDepthProbe``: a row per depth (``depth``, ``val/<metric>``), ``best`` per metric
DEPTH_PROBE_FORMAT = "lightning_dream.depth_probe/1"

# -- other files -------------------------------------------------------------------------------
#: ``cav.json``: a unit vector per layer (written by the CAV run's ResultWriter, read by ``load_cav``)
CAV_FORMAT = "lightning_dream.cav/1"
#: a trajectory folder's ``meta.json`` (``data/trajectories.py``)
TRAJECTORY_FORMAT = "lightning_dream.trajectory/1"
#: one word's vector at every layer (``export_activation``)
ACTIVATION_FORMAT = "lightning_dream.activation/1"
#: runs fused by layer or magnitude (``combine-layers`` / ``combine-magnitudes``)
COMBINED_FORMAT = "lightning_dream.combined/1"


class Summary(NamedTuple):
    """What a run found, as a short table printed at its end (``ResultWriter``)."""

    title: str
    columns: list[str]
    rows: list[list[Any]]


class ResultSource:
    """What a LightningModule offers ``ResultWriter`` (mixed into every experiment's base).

    ``job_results`` is called on every rank (it may gather itself); the rest run on rank 0 only,
    after the gather, so they see every row and must not start collective calls.
    """

    #: the file's ``format``: one of the constants above
    result_format: str = ""
    #: the key the rows are written under; None: the run has no rows, only run-level fields
    result_rows: str | None = "jobs"

    def job_results(self) -> dict[int, dict[str, Any]]:
        """This rank's rows by job (or item) index; every index on exactly one rank."""
        return {}

    def result_fields(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """Run-level fields computed from all rows (in index order), written before them."""
        return {}

    def result_lines(self, payload: dict[str, Any]) -> list[str]:
        """Lines to print (and log as TensorBoard text) once the file is written."""
        return []

    def result_scalars(self, payload: dict[str, Any]) -> dict[str, float]:
        """Run-level numbers to log to the trainer's logger (TensorBoard scalars), e.g. P@k."""
        return {}

    def summary_table(self, payload: dict[str, Any]) -> Summary | None:
        """The table printed at the end of the run: what it found, a few rows."""
        return None

    def headline(self, payload: dict[str, Any]) -> float | None:
        """The run's headline figure, logged as TensorBoard's ``hp_metric``."""
        return None

    def run_complete(self, trainer: Any) -> bool:
        """False when the run was stopped early: Ctrl-C, ``max_steps`` or ``max_time`` before the
        last epoch's end (experiments that count their own steps say it more precisely)."""
        if trainer.interrupted:
            return False
        if not trainer.training:
            return True
        if 0 <= trainer.max_steps <= trainer.global_step:
            return False
        if any(type(cb).__name__ == "Timer" and cb.time_remaining() <= 0 for cb in trainer.callbacks):
            return False
        loop = trainer.fit_loop
        return loop.max_epochs in (None, -1) or loop.epoch_progress.current.processed >= loop.max_epochs


def result_header(module: Any, trainer: Any) -> dict[str, Any]:
    """The fields every run's result file starts with: what ran, with which settings, on what."""
    return {
        "format": module.result_format,
        "experiment": type(module).__name__,
        "complete": module.run_complete(trainer),  # optional field: false for a run stopped early
        "config": {k: v for k, v in module.hparams.items() if not k.startswith("_")},
        "trainer": {
            "world_size": trainer.world_size,
            "precision": str(trainer.precision),
            "global_step": trainer.global_step,
        },
    }


def merge_rows(parts: list[dict[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every rank's rows as one list in index order; an index held by two ranks is an error."""
    merged: dict[int, dict[str, Any]] = {}
    for part in parts:
        for index, row in part.items():
            if index in merged:
                raise RuntimeError(f"row {index} was produced by two processes: the jobs were not sharded")
            merged[index] = row
    return [merged[index] for index in sorted(merged)]


def _finite(value: Any) -> tuple[Any, str | None, int]:
    """(value with non-finite floats as None, why if it held any, how many were replaced)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None, f"not a finite number ({value})", 1
    if isinstance(value, dict):
        clean, count = finite_payload(value)
        return clean, None, count
    if isinstance(value, (list, tuple)):
        parts = [_finite(item) for item in value]
        count = sum(part[2] for part in parts if part[1])  # entries of dicts inside carry their own reason
        why = f"{count} non-finite value(s) written as null" if count else None
        return [part[0] for part in parts], why, sum(part[2] for part in parts)
    return value, None, 0


def finite_payload(payload: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """``payload`` with every NaN/Infinity as ``null`` and a ``<key>_undefined`` reason beside the
    entry that held it (an experiment's own reason is kept); and how many values were replaced."""
    clean: dict[str, Any] = {}
    replaced = 0
    for key, value in payload.items():
        clean[key], why, count = _finite(value)
        replaced += count
        if why and f"{key}_undefined" not in payload:
            clean[f"{key}_undefined"] = why
    return clean, replaced


def write_json_atomic(path: str | Path, payload: Any) -> Path:
    """Write to a temporary file beside ``path`` and rename it over: readers never see half a file.
    Strict JSON: non-finite floats become ``null`` with a reason (see the module docstring)."""
    try:
        text = json.dumps(payload, indent=1, allow_nan=False)
    except ValueError:  # a NaN or Infinity somewhere (or a cycle, which fails again below)
        clean, _, replaced = _finite(payload)
        text = json.dumps(clean, indent=1, allow_nan=False)
        warnings.warn(f"{path}: {replaced} non-finite value(s) written as null with a reason", stacklevel=2)
    return write_text_atomic(path, text)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Any text file (a report page) written the same way as the result files: a temporary file
    beside it, fsynced, renamed over it, then the folder fsynced so the rename survives a crash.
    Temporary files a killed write left behind (``.<name>.XXXX``) are removed first (one writer
    per file: results.json is written by rank 0 alone)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path.parent, f".{path.name}.")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; results and reports are for others to read too
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)
    return path


def remove_stale(folder: Path, prefix: str) -> None:
    """Delete what an interrupted write left in ``folder`` under ``prefix`` (files or folders)."""
    for stale in folder.glob(f"{glob.escape(prefix)}*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def fsync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (POSIX: the directory entry is the folder's data)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _older(fmt: Any, current: str) -> bool:
    """``fmt`` is an earlier version of the format ``current``."""
    name, _, version = str(fmt).partition("/")
    new_name, _, new_version = current.partition("/")
    return name == new_name and version.isdigit() and int(version) < int(new_version)


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


def _renamed(rows: Any) -> Any:
    return [_final_and_last(r) if isinstance(r, dict) else r for r in rows] if isinstance(rows, list) else rows


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
