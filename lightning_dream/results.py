"""Result files: versioned JSON written atomically, read back with a clear error."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from lightning_dream.errors import ConfigError

RESULTS_FILE = "results.json"

#: files that are not one run's results.json
ACTIVATION_FORMAT = "lightning_dream.activation/1"
COMBINED_FORMAT = "lightning_dream.combined/1"


def write_json_atomic(path: str | Path, payload: Any) -> Path:
    """Write to a temporary file beside ``path`` and rename it over: readers never see half a file."""
    return write_text_atomic(path, json.dumps(payload, indent=1))


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Any text file (a report page) written the same way as the result files."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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
    return path


def read_results(path: str | Path, expected_format: str | None = None) -> dict[str, Any]:
    """Load a result file (or the results.json inside a run folder) and check its ``format``."""
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
    if expected_format is not None and found != expected_format:
        raise ConfigError(f"{path} holds format {found!r}, expected {expected_format!r}")
    return payload
