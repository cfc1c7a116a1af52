"""Dream: move the input to maximise a neuron, a word's vector or a layer (any search method)."""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor

from lightning_dream.errors import ConfigError
from lightning_dream.experiments.soft_input.base import SoftInputExperiment
from lightning_dream.experiments.soft_input.jobs import Job, change_span
from lightning_dream.experiments.soft_input.targets import TargetLine, read_targets
from lightning_dream.models.readout import ActivationTarget
from lightning_dream.results import DREAM_FORMAT
from lightning_dream.tokenization import tokenize_sentence

#: sequences per forward when candidates are evaluated (docs/search_methods.md: why batching them pays)
CANDIDATE_BATCH = 128


def job_from_line(line: TargetLine, index: int, tokenizer: Any, config: Any) -> Job:
    """The job of one targets-file line, checked against the model (positions, layers, neurons)."""
    ids = tokenize_sentence(tokenizer, line.sentence)
    start, end = change_span(ids, line.start_change, line.end_change)
    target = ActivationTarget(line.layer_id, line.word_id, line.neuron_id, line.reduction)
    target.validate(config.num_hidden_layers, config.hidden_size, len(ids))
    return Job(index, line.sentence, ids, start, end, target, {}, line.seed)


class Dream(SoftInputExperiment):
    result_format = DREAM_FORMAT

    def __init__(
        self,
        sentences: list[str] | str = "i hate kickshaws .",
        layer_id: int = 5,
        neuron_ids: list[int] | int | None = 314,
        word_id: int | None = 2,
        target: Literal["neuron", "word", "layer"] = "neuron",
        reduction: Literal["mean", "norm"] = "mean",
        normalize: bool = False,
        start_change: int | None = None,
        end_change: int | None = None,
        targets: str | None = None,
        **kwargs,
    ):
        """
        Args:
            sentences: one sentence or a list; every sentence x neuron is one job.
            layer_id: 0 = embedding output, k = output of block k.
            neuron_ids: hidden unit(s) to maximise (``target: neuron``).
            word_id: token position of the target ([CLS] = 0); unused for ``target: layer``.
            target: a neuron, a word's whole vector, or the whole layer.
            reduction: how a vector target becomes one number (mean or L2 norm).
            normalize: divide the target by the norm of the word's (or layer's) vectors over all
                layers, so growing every activation does not count; runs the whole encoder.
            start_change: first position that may change (default 1, after [CLS]).
            end_change: last position that may change, inclusive (default: before [SEP]).
            targets: a targets file (``.jsonl``, one job per line with its own sentence, layer,
                neuron, position, span and seed; ``soft_input.targets``); replaces ``sentences``
                and the target options above.
        """
        super().__init__(**kwargs)
        self.sentences = [sentences] if isinstance(sentences, str) else list(sentences)
        if isinstance(neuron_ids, int):
            neuron_ids = [neuron_ids]
        if target == "neuron" and not neuron_ids:
            raise ConfigError("target 'neuron' needs neuron_ids (a list of hidden units)")
        if target != "layer" and word_id is None:
            raise ConfigError(f"target {target!r} needs a word_id (token position, [CLS] = 0)")
        self.neuron_ids = neuron_ids if target == "neuron" else [None]
        self.target_kind = target
        self.word_id = word_id if target != "layer" else None
        self.span = (start_change, end_change)
        self.targets_file = targets

    def build_jobs(self) -> list[Job]:
        if self.targets_file is None:
            return super().build_jobs()
        jobs = []
        for number, line in enumerate(read_targets(self.targets_file), 1):
            try:
                jobs.append(job_from_line(line, len(jobs), self.tokenizer, self.config))
            except ConfigError as err:
                raise ConfigError(f"targets line {number}: {err}") from None
        return jobs

    def sentence_targets(self, ids: list[int]) -> list[tuple[ActivationTarget, dict]]:
        return [
            (ActivationTarget(self.hparams.layer_id, self.word_id, n, self.hparams.reduction), {})
            for n in self.neuron_ids
        ]

    @property
    def depth(self) -> int:
        return self.readout.num_layers if self.hparams.normalize else max(j.target.layer for j in self.local_jobs)

    def objective(self, hidden: Tensor, mask: Tensor) -> Tensor:
        return self.values(hidden, mask, self.local_jobs)

    def values(self, hidden: Tensor, mask: Tensor, jobs: list[Job]) -> Tensor:
        """The target of ``jobs[row]`` read from row ``row`` of ``hidden`` (layers, rows, L, H)."""
        values = []
        for row, job in enumerate(jobs):
            value = job.target.scalar(hidden[job.target.layer, row], mask[row])
            if self.hparams.normalize:
                states = (
                    hidden[:, row, mask[row].bool()]
                    if job.target.position is None
                    else hidden[:, row, job.target.position]
                )
                value = value / states.norm()
            values.append(value)
        return torch.stack(values)

    @torch.no_grad()
    def candidate_values(self, candidates: Tensor) -> Tensor:
        """All candidates of all jobs in batches of about ``CANDIDATE_BATCH`` sequences."""
        count, jobs = candidates.shape[:2]
        flat, mask = candidates.flatten(0, 1), self.attention_mask.repeat(count, 1)
        owners = self.local_jobs * count
        step = max(1, CANDIDATE_BATCH // jobs) * jobs
        values = [
            self.values(
                self.readout.hidden_states(mask[i : i + step], self.depth, input_ids=flat[i : i + step]),
                mask[i : i + step],
                owners[i : i + step],
            )
            for i in range(0, len(flat), step)
        ]
        return torch.cat(values).view(count, jobs)
