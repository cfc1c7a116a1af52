"""Reconstruct: from random tokens, find the input whose activation matches a stored one.

The target is the sentence's own activation at a layer (the whole layer, one word's vector or one
neuron), read once before the optimisation; the objective is the negative mean squared
distance to it. ``layers: all`` (or a list) gives one job per (sentence, layer), all batched in
one run where each job leaves the encoder at its own layer (``EncoderReadout.at_layers``). Two
variants move the target first:
``ReconstructChanged`` swaps in a word vector exported from another sentence, and
``ReconstructShifted`` adds ``magnitude x CAV`` at some positions (one job per magnitude).
"""

from __future__ import annotations

import random
from functools import cached_property
from typing import Any, Literal

import torch
from jsonargparse import lazy_instance
from torch import Tensor

from lightning_dream.data.activations import load_activation
from lightning_dream.data.concepts import CHANGE_MARKS, classify_change
from lightning_dream.data.corpus import load_sentences
from lightning_dream.errors import ConfigError, check_range
from lightning_dream.experiments.inspection.cav import load_cav
from lightning_dream.experiments.soft_input.base import SoftInputExperiment
from lightning_dream.experiments.soft_input.jobs import Job, JobResult, batch_jobs, token_recovery
from lightning_dream.experiments.soft_input.methods import MethodChoice
from lightning_dream.experiments.soft_input.methods.anneal import Anneal
from lightning_dream.models.readout import ActivationTarget, parse_layers
from lightning_dream.models.soft_tokens import Init
from lightning_dream.results import (
    RECONSTRUCT_CHANGED_FORMAT,
    RECONSTRUCT_FORMAT,
    RECONSTRUCT_SHIFTED_FORMAT,
    Summary,
)
from lightning_dream.summaries import summarise


class Reconstruct(SoftInputExperiment):
    result_format = RECONSTRUCT_FORMAT
    #: the summary groups jobs by these fields
    summary_keys: tuple[str, ...] = ("layer_id",)

    def __init__(
        self,
        sentences: list[str] | str | None = None,
        layers: list[int] | int | Literal["all"] = "all",
        target: Literal["layer", "word", "neuron"] = "layer",
        word_id: int | None = None,
        neuron_id: int | None = None,
        start_change: int | None = None,
        end_change: int | None = None,
        corpus: str | None = None,
        num_sentences: int = 5,
        min_words: int = 8,
        max_words: int = 12,
        num_iterations: int = 300,
        method: MethodChoice = lazy_instance(Anneal, end_temp=0.01, warmup=0),
        init: Init = "random_tokens",
        **kwargs: Any,
    ):
        """
        Args:
            sentences: sentence(s) whose activation is reconstructed (or draw them from ``corpus``).
            layers: ``all`` (blocks 1..N), one layer or a list; one job per (sentence, layer).
            target: the whole layer (every position, [CLS]/[SEP] included), one word's vector, or one neuron.
            word_id: position of the word (``target: word`` or ``neuron``; [CLS] = 0).
            neuron_id: hidden unit (``target: neuron``).
            start_change: first position that may change (default 1, after [CLS]).
            end_change: last position that may change, inclusive (default: before [SEP]).
            corpus: if no sentences are given, draw ``num_sentences`` from this corpus (``news``, a
                text file or ``hf:...``) with ``min_words..max_words`` words, by ``seed``.
            num_sentences: how many corpus sentences.
            min_words: shortest corpus sentence (words).
            max_words: longest corpus sentence (words).
            num_iterations: optimisation steps (300 reach full recovery at early layers).
            method: how the input moves; by default annealing from T=2 to 0.01 with no warm-up.
            init: ``random_tokens`` (the reconstruction starts from random words), ``uniform`` or ``sentence``.
        """
        super().__init__(num_iterations=num_iterations, method=method, init=init, **kwargs)
        if sentences is None and corpus is None:
            raise ConfigError("give sentences or a corpus to draw them from")
        if target == "neuron" and neuron_id is None:
            raise ConfigError("target 'neuron' needs a neuron_id")
        if target != "layer" and word_id is None:
            raise ConfigError(f"target {target!r} needs a word_id (token position, [CLS] = 0)")
        self.given_sentences = sentences
        self.corpus = (corpus, num_sentences, min_words, max_words)
        self.layers = parse_layers(layers, self.config.num_hidden_layers)
        self.position = None if target == "layer" else word_id
        self.neuron = neuron_id if target == "neuron" else None
        self.span = (start_change, end_change)

    # -- jobs and targets --------------------------------------------------------------------
    @cached_property
    def sentences(self) -> list[str]:
        """The given sentences, or ``num_sentences`` drawn from the corpus by ``seed``."""
        if self.given_sentences is not None:
            given = self.given_sentences
            return [given] if isinstance(given, str) else list(given)
        corpus, count, min_words, max_words = self.corpus
        pool = load_sentences(corpus, min_words, max_words)
        if len(pool) < count:
            raise ConfigError(
                f"corpus {corpus!r} has {len(pool)} sentences of {min_words}..{max_words} words, num_sentences={count}"
            )
        return random.Random(self.hparams.seed).sample(list(pool), count)

    def variants(self, ids: list[int]) -> list[dict[str, Any]]:
        """Extra job info per (sentence, layer); variants return one entry per target change."""
        return [{}]

    def sentence_targets(self, ids: list[int]) -> list[tuple[ActivationTarget, dict[str, Any]]]:
        return [
            (ActivationTarget(layer, self.position, self.neuron), info)
            for layer in self.layers
            for info in self.variants(ids)
        ]

    def change_target(self, target: Tensor) -> Tensor:
        """Hook: move the stored activations (jobs, L, H) before reconstruction."""
        return target

    @torch.no_grad()
    def prepare_targets(self) -> None:
        batch = batch_jobs(self.local_jobs, self.tokenizer.pad_token_id or 0)
        mask = batch.attention_mask
        self.register_buffer(
            "job_layers", torch.tensor([job.target.layer for job in self.local_jobs]), persistent=False
        )
        target = self.readout.at_layers(mask, self.job_layers, input_ids=batch.input_ids)
        self.register_buffer("target", self.change_target(target.clone()), persistent=False)
        weight = torch.zeros_like(self.target)
        for row, job in enumerate(self.local_jobs):
            t = job.target
            positions = mask[row].bool() if t.position is None else t.position
            weight[row, positions, slice(None) if t.neuron is None else t.neuron] = 1.0
        self.register_buffer("weight", weight, persistent=False)

    def states(self, **inputs: Tensor) -> Tensor:
        """Each job's hidden states at its own layer only, (jobs, L, H): a job leaves the encoder
        there, so ``layers: all`` runs about half the blocks of taking every job to the deepest."""
        return self.readout.at_layers(self.attention_mask, self.job_layers, **inputs)

    def objective(self, hidden: Tensor, mask: Tensor) -> Tensor:
        """Negative mean squared distance of each job's layer (jobs, L, H) to its target (maximised)."""
        return self.negative_distance(hidden, slice(None))

    def negative_distance(self, hidden: Tensor, rows: Tensor | slice) -> Tensor:
        """The objective of the job rows ``rows``, whose states at their layers are ``hidden``."""
        weight = self.weight[rows]
        return -((hidden - self.target[rows]).pow(2) * weight).sum((1, 2)) / weight.sum((1, 2))

    def snapped_rows(self, ids: Tensor, rows: Tensor) -> Tensor:
        """Only the given jobs go through the encoder, each to its own layer."""
        hidden = self.readout.at_layers(self.attention_mask[rows], self.job_layers[rows], input_ids=ids[rows])
        return self.negative_distance(hidden, rows)

    value_name = "distance"

    def reported(self, value: Tensor) -> Tensor:
        """The distance (the objective is minus it)."""
        return 0.0 - value  # 0.0 - : no "-0.000"

    def live_numbers(self, ids: Tensor, snapped: Tensor) -> dict[str, Tensor]:
        """Mean distance of the snapped tokens to the target and the fraction of the original's
        changeable tokens they recover, now (the result keeps the best)."""
        recovered = ((ids == self.original_ids) & self.change_mask).sum(1) / self.change_mask.sum(1)
        return {"distance": self.reported(snapped).mean(), "token_recovery": recovered.float().mean()}

    # -- results -----------------------------------------------------------------------------
    def summary_table(self, payload: dict[str, Any]) -> Summary:
        keys = list(self.summary_keys)
        fields = ["jobs", "token_recovery", "distance"]
        fields += ["changed_toward"] if any("changed_toward" in row for row in payload["summary"]) else []
        columns = [name.replace("_", " ") for name in keys + fields]
        rows = [[row.get(name) for name in keys + fields] for row in payload["summary"]]
        return Summary(f"{type(self).__name__}: mean over jobs", columns, rows)

    def headline(self, payload: dict[str, Any]) -> float:
        """Mean token recovery over every job."""
        jobs = payload["jobs"]
        return sum(float(j["token_recovery"]) for j in jobs) / len(jobs)

    def result_fields(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """Mean token recovery and distance per ``summary_keys`` group (layer, magnitude)."""
        return {"summary": summarise(rows, self.summary_keys)}

    def result_lines(self, payload: dict[str, Any]) -> list[str]:
        """The summary, and for shifted runs each job's marked tokens (``+`` toward the concept, ``~`` other)."""
        lines = []  # the summary is the table (``summary``)
        for job in payload["jobs"]:
            if "marked_tokens" in job:
                where = f"job {job['job']} layer {job['layer_id']} magnitude {job['magnitude']}"
                lines.append(f"{where}: {' '.join(job['marked_tokens'])}")
        return lines

    def job_result(self, row: int, job: Job, last: Tensor, last_value: Tensor) -> JobResult:
        """The final input is the one with the smallest distance seen (the objective is minus the
        distance, and the tracker keeps the highest); ``last_*`` is the last step's."""
        result = super().job_result(row, job, last, last_value)
        final = self.tracker.final_ids[row]
        result.extra.update(
            original_tokens=self.tokenizer.convert_ids_to_tokens(job.input_ids),
            distance=-result.final_activation,
            last_distance=-result.last_activation,
            token_recovery=token_recovery(final, job),
            last_token_recovery=token_recovery(last[row], job),
        )
        return result


class ReconstructChanged(Reconstruct):
    """Reconstruct a target whose vector at ``change_position`` was swapped for an exported one
    (e.g. the "he" of "he was playing baseball ..." put into "she was playing baseball ...")."""

    result_format = RECONSTRUCT_CHANGED_FORMAT

    def __init__(self, change_activation_file: str, change_position: int = 1, **kwargs: Any):
        """
        Args:
            change_activation_file: a file from ``lightning-dream export_activation`` (the word's
                vector at every layer, same model).
            change_position: position in each sentence whose vector is replaced ([CLS] = 0).
        """
        super().__init__(**kwargs)
        self.change_position = change_position
        self.swapped = load_activation(change_activation_file)

    def variants(self, ids: list[int]) -> list[dict[str, Any]]:
        check_range("change_position", self.change_position, 0, len(ids) - 1)
        layers, hidden = self.swapped["activations"].shape
        if hidden != self.config.hidden_size or layers <= max(self.layers):
            raise ConfigError(
                f"change_activation_file holds {layers} layers x {hidden} units: this model needs"
                f" hidden size {self.config.hidden_size} and layers up to {max(self.layers)}"
            )
        if self.position not in (None, self.change_position) or self.neuron is not None:
            raise ConfigError("a changed activation needs target 'layer', or 'word' with word_id = change_position")
        return [{"changed_from": self.swapped["sentence"], "changed_token": self.swapped["token"]}]

    def change_target(self, target: Tensor) -> Tensor:
        target[:, self.change_position] = self.swapped["activations"][self.job_layers].to(target)
        return target


class ReconstructShifted(Reconstruct):
    """Reconstruct a target moved by ``magnitude x CAV`` at positions ``shift_start..shift_end``.

    Sign convention: the CAV points from the CAV file's first concept (label 0) to its second
    (label 1), so with concepts [he, she] a negative magnitude moves toward "he", as in the
    original study. Every job's result states the concept its magnitude moves toward.
    """

    result_format = RECONSTRUCT_SHIFTED_FORMAT
    summary_keys = ("layer_id", "magnitude")

    def __init__(
        self,
        cav_file: str,
        magnitudes: list[float] = [-12.0, -6.0, 6.0, 12.0],  # noqa: B006  (jsonargparse shows the default)
        shift_start: int = 1,
        shift_end: int = 1,
        **kwargs: Any,
    ):
        """
        Args:
            cav_file: the ``cav.json`` written by a CAV run (unit vector per layer, same model).
            magnitudes: shift lengths along the unit CAV; negative moves toward the file's first
                concept, positive toward its second. One job per (sentence, layer, magnitude).
            shift_start: first position whose activation is shifted ([CLS] = 0).
            shift_end: last shifted position, inclusive.
        """
        super().__init__(**kwargs)
        if not magnitudes:
            raise ConfigError("magnitudes is empty: give at least one shift length")
        self.cav = load_cav(cav_file)
        self.magnitudes = list(magnitudes)
        self.shift = (shift_start, shift_end)

    def variants(self, ids: list[int]) -> list[dict[str, Any]]:
        start, end = self.shift
        check_range("shift_start", start, 0, len(ids) - 1)
        check_range("shift_end", end, start, len(ids) - 1)
        self.cav.check(self.config.hidden_size, self.layers, self.model_name)
        first, second = self.cav.concepts
        return [
            {
                "magnitude": m,
                "toward": second if m > 0 else first,
                "away_from": first if m > 0 else second,
                "shift_start": start,
                "shift_end": end,
            }
            if m
            else {"magnitude": 0.0, "toward": None, "away_from": None, "shift_start": start, "shift_end": end}
            for m in self.magnitudes
        ]

    def change_target(self, target: Tensor) -> Tensor:
        start, end = self.shift
        for row, job in enumerate(self.local_jobs):
            target[row, start : end + 1] += job.info["magnitude"] * self.cav.vectors[job.target.layer].to(target)
        return target

    def job_result(self, row: int, job: Job, last: Tensor, last_value: Tensor) -> JobResult:
        result = super().job_result(row, job, last, last_value)
        original = result.extra["original_tokens"]
        changes = []
        for position, (old, new) in enumerate(zip(original, result.final_tokens)):
            if old != new:
                kind = classify_change(new, job.info["toward"], job.info["away_from"])
                changes.append({"position": position, "from": old, "to": new, "kind": kind})
        marks = {c["position"]: CHANGE_MARKS[c["kind"]] + c["to"] for c in changes}
        result.extra["changes"] = changes
        result.extra["marked_tokens"] = [marks.get(p, tok) for p, tok in enumerate(original)]
        result.extra["changed_toward"] = any(c["kind"] == "toward" for c in changes)
        return result
