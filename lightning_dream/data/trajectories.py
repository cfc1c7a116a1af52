"""Trajectories of the iterated system on disk: written in chunks as they run, read by step range.

A trajectory folder holds ``meta.json`` (format, model fingerprint, inputs, chunk index) and
one ``.npy`` file per chunk of steps (``states_*``: (steps, B, L, H); ``attentions_*``:
(steps, B, heads, L, L)). The writer keeps one chunk in memory, so memory stays flat however
many steps run; ``meta.json`` is rewritten atomically after every chunk, so a stopped run is
readable up to its last complete chunk. The reader memory-maps only the chunks a range needs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from lightning_dream.errors import ConfigError
from lightning_dream.results import TRAJECTORY_FORMAT, read_results, write_json_atomic

META_FILE = "meta.json"


def _save_npy_atomic(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        np.save(handle, array)
    os.replace(tmp, path)


class TrajectoryWriter:
    def __init__(self, folder: str | Path, meta: dict[str, Any], chunk_size: int, first_step: int = 0):
        """
        Args:
            folder: where chunks and meta.json go (created).
            meta: model name, fingerprint, inputs -- stored as they are beside the chunk index.
            chunk_size: steps per file.
            first_step: step index of the first state appended (0 = the embeddings).
        """
        if chunk_size < 1:
            raise ConfigError(f"chunk_size={chunk_size} must be at least 1")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.meta = {"format": TRAJECTORY_FORMAT, **meta, "chunks": []}
        self.chunk_size = chunk_size
        self.next_step = first_step
        self.states: list[Tensor] = []
        self.attentions: list[Tensor] = []

    def append(self, state: Tensor, attentions: Tensor | None = None) -> None:
        """One step's state (B, L, H) and optionally its attention weights (B, heads, L, L)."""
        self.states.append(state.detach().cpu())
        if attentions is not None:
            self.attentions.append(attentions.detach().cpu())
        if len(self.states) == self.chunk_size:
            self.flush()

    def flush(self) -> None:
        if not self.states:
            return
        start, stop = self.next_step, self.next_step + len(self.states)
        entry = {"start": start, "stop": stop, "states": f"states_{start:07d}.npy"}
        _save_npy_atomic(self.folder / entry["states"], torch.stack(self.states).numpy())
        if self.attentions:
            entry["attentions"] = f"attentions_{start:07d}.npy"
            _save_npy_atomic(self.folder / entry["attentions"], torch.stack(self.attentions).numpy())
        self.meta["chunks"].append(entry)
        self.meta["num_steps"] = stop
        write_json_atomic(self.folder / META_FILE, self.meta)
        self.next_step = stop
        self.states, self.attentions = [], []


class TrajectoryReader:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        if not (self.folder / META_FILE).is_file():
            raise ConfigError(f"{folder} is not a trajectory folder (no {META_FILE})")
        self.meta = read_results(self.folder / META_FILE, TRAJECTORY_FORMAT)

    @property
    def num_steps(self) -> int:
        """States stored: steps 0 .. num_steps - 1 (relative to the stored first step)."""
        return self.meta.get("num_steps", 0)

    def check_model(self, model: str, fingerprint: str) -> None:
        """A trajectory continues or is compared only on the map that made it."""
        if self.meta["fingerprint"] != fingerprint:
            raise ConfigError(
                f"trajectory {self.folder} was made by model {self.meta['model']!r} (fingerprint "
                f"{self.meta['fingerprint']}), not by {model!r} ({fingerprint})"
            )

    def _read(self, key: str, start: int, stop: int | None) -> Tensor:
        first = self.meta["chunks"][0]["start"] if self.meta["chunks"] else 0
        stop = self.num_steps if stop is None else stop
        if not first <= start < stop <= self.num_steps:
            raise ConfigError(
                f"steps {start}..{stop} out of range: the trajectory holds steps {first}..{self.num_steps}"
            )
        parts = []
        for chunk in self.meta["chunks"]:
            low, high = max(start, chunk["start"]), min(stop, chunk["stop"])
            if low >= high:
                continue
            if key not in chunk:
                raise ConfigError(f"trajectory {self.folder} was recorded without {key}")
            array = np.load(self.folder / chunk[key], mmap_mode="r")
            parts.append(torch.from_numpy(np.array(array[low - chunk["start"] : high - chunk["start"]])))
        return torch.cat(parts)

    def states(self, start: int = 0, stop: int | None = None) -> Tensor:
        """States of steps ``start .. stop - 1``: (steps, B, L, H)."""
        return self._read("states", start, stop)

    def attentions(self, start: int = 0, stop: int | None = None) -> Tensor:
        """Attention weights of steps ``start .. stop - 1``: (steps, B, heads, L, L)."""
        return self._read("attentions", start, stop)
