"""Find the runs under a folder and read their result files, saying plainly what is missing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lightning_dream.errors import ConfigError
from lightning_dream.results import RESULTS_FILE, read_results

#: files that also hold results (``combine_layers`` / ``combine_magnitudes``, a CAV's ``cav.json``);
#: the run folders inside a folder holding one are its parts, not unfinished runs
COMBINED_FILES = ("combined_layers.json", "combined_magnitudes.json", "cav.json")
#: signs that a folder is a run's folder even when it has no results yet
RUN_MARKS = ("hparams.yaml", "config.yaml", "checkpoints")


@dataclass
class Run:
    name: str
    path: Path  # the result file, or the run folder when it has none
    result: dict[str, Any] | None = None
    problem: str | None = None


def unfinished(folder: Path) -> str:
    """Why a run folder has no results: what it does hold, and how to go on."""
    found = []
    checkpoints = sorted((folder / "checkpoints").glob("*.ckpt")) if (folder / "checkpoints").is_dir() else []
    if checkpoints:
        found.append(f"checkpoints ({', '.join(p.name for p in checkpoints[-2:])})")
    if any(folder.glob("events.out.tfevents*")):
        found.append("TensorBoard events")
    if any(folder.glob(f".{RESULTS_FILE}.*")):
        found.append(f"a half-written {RESULTS_FILE} (the writer was stopped)")
    has = f"; it holds {', '.join(found)}" if found else ""
    hint = f": resume with --ckpt_path {checkpoints[-1]}" if checkpoints else ""
    return f"{folder} has no {RESULTS_FILE}: the run did not finish{has}{hint}"


def read(path: Path, name: str) -> Run:
    try:
        return Run(name, path, read_results(path))
    except ConfigError as err:
        return Run(name, path, problem=str(err))


def is_run_folder(folder: Path) -> bool:
    return any((folder / mark).exists() for mark in RUN_MARKS) or any(folder.glob("events.out.tfevents*"))


def find_runs(root: str | Path) -> list[Run]:
    """Every result under ``root`` (a result file, a run folder or a folder of runs), plus a
    problem entry for each run folder that has none. Raises ConfigError when nothing is there."""
    root = Path(root)
    if not root.exists():
        raise ConfigError(f"run_dir={str(root)!r} does not exist")
    if root.is_file():
        return [read(root, root.parent.name)]
    files = sorted(root.rglob(RESULTS_FILE)) + sorted(p for name in COMBINED_FILES for p in root.rglob(name))
    runs = [read(p, str(p.relative_to(root).parent if p.name == RESULTS_FILE else p.relative_to(root))) for p in files]
    for run in runs:
        run.name = root.resolve().name if run.name == "." else run.name
    with_results = {p.parent for p in files}
    combined = {p.parent for p in files if p.name in COMBINED_FILES}
    folders = [root] + sorted(p for p in root.rglob("*") if p.is_dir())
    for folder in folders:
        if folder in with_results or combined.intersection(folder.parents) or folder.name == "checkpoints":
            continue
        if is_run_folder(folder):
            name = str(folder.relative_to(root))
            runs.append(Run(root.resolve().name if name == "." else name, folder, problem=unfinished(folder)))
    if not runs:
        raise ConfigError(
            f"{root} holds no {RESULTS_FILE} and no run folders: give a run folder (where the run printed "
            f"'results: ...') or a folder of runs"
        )
    return runs
