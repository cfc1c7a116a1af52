"""``combine-layers`` / ``combine-magnitudes``: fuse several runs (one per subfolder, as the original
tool's per-layer runs were) into one file, after checking they are results of the same experiment."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from lightning_dream.errors import ConfigError
from lightning_dream.results import COMBINED_FORMAT, RESULTS_FILE, read_results, write_json_atomic
from lightning_dream.summaries import summarise


def _newest_result(folder: Path) -> Path | None:
    found = sorted(folder.rglob(RESULTS_FILE), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def collect_results(results_dir: str | Path, skip_invalid: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """(subfolder name, result) for every subfolder; all must hold results of one experiment."""
    root = Path(results_dir)
    if not root.is_dir():
        raise ConfigError(f"results_dir={str(root)!r} is not a folder")
    found, bad = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        path = _newest_result(folder)
        if path is None:
            bad.append(f"{folder.name} (no {RESULTS_FILE})")
            continue
        try:
            found.append((folder.name, read_results(path)))
        except ConfigError as err:
            bad.append(f"{folder.name} ({err})")
    if found:
        kind = (found[0][1]["format"], found[0][1].get("experiment"))
        bad += [
            f"{name} ({r['format']}, not {kind[0]})" for name, r in found if (r["format"], r.get("experiment")) != kind
        ]
        found = [(name, r) for name, r in found if (r["format"], r.get("experiment")) == kind]
    bad.sort()
    if bad and not skip_invalid:
        raise ConfigError(
            f"{root}: subfolders that are not results of the same experiment: {'; '.join(bad)} "
            f"(skip_invalid=true combines the rest)"
        )
    if bad:
        print(f"skipped: {'; '.join(bad)}")
    if not found:
        raise ConfigError(f"{root} holds no result subfolders")
    return found


def _combine(results_dir: str, group_key: str, keys: tuple[str, ...], skip_invalid: bool) -> dict[str, Any]:
    found = collect_results(results_dir, skip_invalid)
    jobs = [{**job, "source": name} for name, result in found for job in result["jobs"]]
    if any(group_key not in job for job in jobs):
        raise ConfigError(f"{results_dir}: results of {found[0][1]['format']} have no {group_key!r} per job")
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for job in sorted(jobs, key=lambda j: (j[group_key], j["source"], j["job"])):
        grouped[str(job[group_key])].append(job)
    return {
        "format": COMBINED_FORMAT,
        "combined_by": group_key,
        "result_format": found[0][1]["format"],
        "experiment": found[0][1].get("experiment"),
        "sources": [name for name, _ in found],
        "summary": summarise(jobs, keys),
        "groups": dict(grouped),
    }


def combine_layers(results_dir: str, output: str | None = None, skip_invalid: bool = False) -> str:
    """Fuse the result subfolders of ``results_dir`` into one file grouped by layer.

    Args:
        results_dir: folder whose subfolders each hold one run (its newest results.json is used).
        output: combined file (default ``results_dir/combined_layers.json``).
        skip_invalid: combine the valid subfolders and report the others instead of failing.
    """
    combined = _combine(results_dir, "layer_id", ("layer_id",), skip_invalid)
    path = write_json_atomic(output or Path(results_dir) / "combined_layers.json", combined)
    print(f"combined {len(combined['sources'])} runs by layer: {path}")
    return str(path)


def combine_magnitudes(
    results_dir: str, per_layer: bool = False, output: str | None = None, skip_invalid: bool = False
) -> list[str]:
    """Fuse shifted-reconstruction runs (one per subfolder) into one file grouped by magnitude.

    Args:
        results_dir: folder of magnitude subfolders, or (``per_layer``) of layer subfolders
            each holding magnitude subfolders.
        per_layer: combine each layer subfolder separately, one file inside each.
        output: combined file when not ``per_layer`` (default ``results_dir/combined_magnitudes.json``).
        skip_invalid: combine the valid subfolders and report the others instead of failing.
    """
    folders = (
        sorted(p for p in Path(results_dir).iterdir() if p.is_dir())
        if per_layer and Path(results_dir).is_dir()
        else [Path(results_dir)]
    )
    paths = []
    for folder in folders:
        combined = _combine(str(folder), "magnitude", ("layer_id", "magnitude"), skip_invalid)
        target = Path(output) if output and not per_layer else folder / "combined_magnitudes.json"
        paths.append(str(write_json_atomic(target, combined)))
        print(f"combined {len(combined['sources'])} runs by magnitude: {paths[-1]}")
    return paths
