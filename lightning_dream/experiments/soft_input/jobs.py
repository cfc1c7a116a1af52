"""Jobs: independent optimisations batched into one run, and their bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

import torch
from torch import Tensor

from lightning_dream.errors import check_range
from lightning_dream.models.readout import ActivationTarget


@dataclass
class Job:
    """One optimisation: a tokenised sentence, the span that may change, what is read out."""

    index: int
    sentence: str
    input_ids: list[int]
    start_change: int
    end_change: int
    target: ActivationTarget
    info: dict[str, Any] = field(default_factory=dict)
    #: the job's own seed (a targets file's ``seed``); None: the run's seed with the job's index
    seed: int | None = None

    @property
    def change_positions(self) -> range:
        return range(self.start_change, self.end_change + 1)


def change_span(ids: list[int], start: int | None, end: int | None) -> tuple[int, int]:
    """Default: every word between [CLS] and [SEP]; a given span may not cover either."""
    last_word = len(ids) - 2
    start = 1 if start is None else start
    end = last_word if end is None else end
    check_range("start_change", start, 1, last_word)
    check_range("end_change", end, start, last_word)
    return start, end


def token_recovery(ids: torch.Tensor, job: Job) -> float:
    """Fraction of the job's changeable positions whose token equals the original sentence's."""
    positions = list(job.change_positions)
    original = torch.tensor([job.input_ids[p] for p in positions])
    return float((ids[positions].cpu() == original).float().mean())


class JobBatch(NamedTuple):
    """Jobs side by side, each (jobs, L), right-padded."""

    input_ids: Tensor
    attention_mask: Tensor
    change_mask: Tensor  # True at the positions the job may change


def batch_jobs(jobs: list[Job], pad_id: int) -> JobBatch:
    length = max((len(j.input_ids) for j in jobs), default=0)
    ids = torch.full((len(jobs), length), pad_id, dtype=torch.long)
    mask = torch.zeros(len(jobs), length, dtype=torch.long)
    change = torch.zeros(len(jobs), length, dtype=torch.bool)
    for row, job in enumerate(jobs):
        ids[row, : len(job.input_ids)] = torch.tensor(job.input_ids)
        mask[row, : len(job.input_ids)] = 1
        change[row, job.start_change : job.end_change + 1] = True
    return JobBatch(ids, mask, change)


@dataclass
class JobResult:
    """One job's entry in results.json. ``to_json`` writes ``job``, then the job's ``info``
    (e.g. DreamMLM's target token, a shift's magnitude), then the fields below in order, then
    ``extra``: what a subclass adds (Reconstruct's ``token_recovery``, ``distance``, ...)."""

    job: int
    info: dict[str, Any]
    layer_id: int
    word_id: int | None
    neuron_id: int | None
    reduction: str
    start_change: int
    end_change: int
    sentence: str
    start_sentence: str
    start_tokens: list[str]
    start_activation: float
    #: the best real (snapped) input seen: the method's result
    final_sentence: str
    final_tokens: list[str]
    final_activation: float
    #: the last step's input, reported beside it
    last_sentence: str
    last_tokens: list[str]
    last_activation: float
    snapshots: list[dict[str, Any]]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        named = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("job", "info", "extra")}
        return {"job": self.job, **self.info, **named, **self.extra}


class JobTracker:
    """Start, final (the best snapped input seen: the job's result) and periodic snapshots of each
    local job; checkpointed so resume is exact. Every objective is maximised (Reconstruct's is minus
    its distance), so the final is the highest value seen."""

    def __init__(self) -> None:
        self.start_ids: Tensor | None = None
        self.start_value: Tensor | None = None
        self.final_ids: Tensor | None = None
        self.final_value: Tensor | None = None
        self.snapshots: list[dict[str, Any]] = []

    def update(self, step: int, ids: Tensor, snapped: Tensor, record: dict[str, Any] | None) -> None:
        ids, snapped = ids.detach().cpu(), snapped.detach().float().cpu()
        if self.start_ids is None:
            self.start_ids, self.start_value = ids.clone(), snapped.clone()
            self.final_ids, self.final_value = ids.clone(), snapped.clone()
        better = snapped > self.final_value
        self.final_value = torch.where(better, snapped, self.final_value)
        self.final_ids[better] = ids[better]
        if record is not None:
            self.snapshots.append({"step": step, **record})

    def state_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """A tracker's state; one saved before ``final_*`` was called so (``best_*``) reads the same."""
        vars(self).update({OLD_NAMES.get(key, key): value for key, value in state.items()})


#: the tracker's fields in checkpoints written before the final (best snapped) input was called final
OLD_NAMES = {"best_ids": "final_ids", "best_value": "final_value"}
