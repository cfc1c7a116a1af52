"""Per-layer and per-magnitude results: summaries, fusing result folders, exported activations.

A reconstruction run writes every job with its ``layer_id`` (and ``magnitude`` for shifted
runs); ``summarise`` groups them. ``combine_layers``/``combine_magnitudes`` fuse several runs
(one per subfolder, as the original tool's per-layer runs were) into one file after checking
they are results of the same experiment. ``export_activation`` writes the word vectors that a
changed-activation reconstruction swaps in.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from statistics import mean
from typing import TYPE_CHECKING, Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import TensorBoardLogger

from lightning_dream.callbacks import ResultWriter
from lightning_dream.errors import ConfigError, check_range
from lightning_dream.models.loading import load_encoder, load_tokenizer
from lightning_dream.models.readout import EncoderReadout
from lightning_dream.results import RESULTS_FILE, read_results, write_json_atomic

if TYPE_CHECKING:  # experiments import this module; it never imports them
    from lightning_dream.experiments.jobs import Job

ACTIVATION_FORMAT = "lightning_dream.activation/1"
COMBINED_FORMAT = "lightning_dream.combined/1"


def token_recovery(ids: torch.Tensor, job: Job) -> float:
    """Fraction of the job's changeable positions whose token equals the original sentence's."""
    positions = list(job.change_positions)
    original = torch.tensor([job.input_ids[p] for p in positions])
    return float((ids[positions].cpu() == original).float().mean())


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
        for field in ("token_recovery", "final_token_recovery", "distance", "changed_toward"):
            if all(field in m for m in members):
                row[field] = mean(float(m[field]) for m in members)
        rows.append(row)
    return rows


def summary_line(row: dict[str, Any]) -> str:
    where = ", ".join(f"{k} {row[k]}" for k in ("layer_id", "magnitude") if k in row)
    toward = f" (toward {row['toward']})" if row.get("toward") else ""
    shifted = f", changed toward concept {row['changed_toward']:.2f}" if "changed_toward" in row else ""
    return f"{where}{toward}: token recovery {row.get('token_recovery', float('nan')):.3f}, distance {row.get('distance', float('nan')):.4g}{shifted} ({row['jobs']} jobs)"


class SummaryResultWriter(ResultWriter):
    """results.json plus a ``summary`` per ``pl_module.summary_keys`` group; prints the summary
    and, for shifted runs, each job's marked tokens (``+`` toward the concept, ``~`` other)."""

    def payload(self, trainer: pl.Trainer, pl_module: pl.LightningModule, jobs: list[dict[str, Any]]) -> dict[str, Any]:
        payload = super().payload(trainer, pl_module, jobs)
        payload["summary"] = summarise(payload["jobs"], pl_module.summary_keys)
        for row in payload["summary"]:
            pl_module.print(summary_line(row))
        for job in payload["jobs"]:
            if "marked_tokens" in job:
                line = f"job {job['job']} layer {job['layer_id']} magnitude {job['magnitude']}: {' '.join(job['marked_tokens'])}"
                pl_module.print(line)
                if isinstance(trainer.logger, TensorBoardLogger):
                    trainer.logger.experiment.add_text(f"job_{job['job']:03d}/marked_tokens", line, trainer.global_step)
        return payload


# -- fusing result folders -----------------------------------------------------------------
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
        bad += [f"{name} ({r['format']}, not {kind[0]})" for name, r in found if (r["format"], r.get("experiment")) != kind]
        found = [(name, r) for name, r in found if (r["format"], r.get("experiment")) == kind]
    bad.sort()
    if bad and not skip_invalid:
        raise ConfigError(f"{root}: subfolders that are not results of the same experiment: {'; '.join(bad)} (skip_invalid=true combines the rest)")
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


def combine_magnitudes(results_dir: str, per_layer: bool = False, output: str | None = None, skip_invalid: bool = False) -> list[str]:
    """Fuse shifted-reconstruction runs (one per subfolder) into one file grouped by magnitude.

    Args:
        results_dir: folder of magnitude subfolders, or (``per_layer``) of layer subfolders
            each holding magnitude subfolders.
        per_layer: combine each layer subfolder separately, one file inside each.
        output: combined file when not ``per_layer`` (default ``results_dir/combined_magnitudes.json``).
        skip_invalid: combine the valid subfolders and report the others instead of failing.
    """
    folders = sorted(p for p in Path(results_dir).iterdir() if p.is_dir()) if per_layer and Path(results_dir).is_dir() else [Path(results_dir)]
    paths = []
    for folder in folders:
        combined = _combine(str(folder), "magnitude", ("layer_id", "magnitude"), skip_invalid)
        target = Path(output) if output and not per_layer else folder / "combined_magnitudes.json"
        paths.append(str(write_json_atomic(target, combined)))
        print(f"combined {len(combined['sources'])} runs by magnitude: {paths[-1]}")
    return paths


# -- exported activations for changed reconstructions --------------------------------------
@torch.no_grad()
def export_activation(sentence: str, word_id: int, output: str, model: str = "minilm-l6") -> str:
    """Write a word's vector at every layer (0..N) of ``sentence`` for ``ReconstructChanged``.

    Args:
        sentence: the sentence fed to the encoder.
        word_id: position of the word ([CLS] = 0).
        output: JSON file to write.
        model: encoder (embedded name, folder or hub name).
    """
    if not sentence.strip():
        raise ConfigError("sentence is empty: give at least one word")
    tokenizer = load_tokenizer(model)
    ids = tokenizer(sentence)["input_ids"]
    check_range("word_id", word_id, 0, len(ids) - 1)
    readout = EncoderReadout(load_encoder(model))
    hidden = readout.hidden_states(torch.ones(1, len(ids), dtype=torch.long), readout.num_layers, input_ids=torch.tensor([ids]))
    payload = {
        "format": ACTIVATION_FORMAT,
        "model": model,
        "sentence": sentence,
        "word_id": word_id,
        "token": tokenizer.convert_ids_to_tokens(ids[word_id]),
        "activations": hidden[:, 0, word_id].tolist(),
    }
    path = write_json_atomic(output, payload)
    print(f"activation of {payload['token']!r} at {len(payload['activations'])} layers: {path}")
    return str(path)


def load_activation(path: str) -> dict[str, Any]:
    payload = read_results(path, ACTIVATION_FORMAT)
    return {**payload, "activations": torch.tensor(payload["activations"])}
