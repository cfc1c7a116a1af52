"""Writing result files: strict JSON (``formats``' contract), atomically, durably.

A file is written to a temporary file beside it, fsynced, renamed over it, then its folder fsynced:
readers never see half a file and the rename survives a crash.
"""

from __future__ import annotations

import glob
import json
import math
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any


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
    Strict JSON: non-finite floats become ``null`` with a reason (see ``results.formats``)."""
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
