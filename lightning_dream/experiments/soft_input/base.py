"""The shared loop of every experiment that optimises the soft input.

A subclass says which jobs to run (``build_jobs``), what to maximise (``objective``) and, if it
needs less than the stack of hidden states up to ``depth``, what to read (``states``); the search
method (``methods``) says how the input moves. This class owns the jobs, soft tokens, snapped
evaluation, pass budget, bookkeeping, checkpoint state and per-job results, and is the
``methods.SearchHost`` every method works through. Dream, Reconstruct and DreamMLM are small on top.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback
from torch import Tensor
from torch.utils.data import DataLoader
from transformers import PreTrainedModel

from lightning_dream.checks import OpenUnitInterval, PositiveInt, check_arguments
from lightning_dream.data.steps import step_loader
from lightning_dream.errors import ConfigError
from lightning_dream.experiments.soft_input.jobs import Job, JobResult, JobTracker, batch_jobs, change_span
from lightning_dream.experiments.soft_input.methods import MethodChoice, build_method, moved_settings, stored_spec
from lightning_dream.experiments.soft_input.methods.base import Evaluation
from lightning_dream.models.fluency import Fluency, FluencyScore
from lightning_dream.models.loading import load_config_and_tokenizer, load_encoder
from lightning_dream.models.readout import ActivationTarget, EncoderReadout, without_frozen_encoder
from lightning_dream.models.soft_tokens import Init, SoftTokens, job_generator
from lightning_dream.results import SOFT_INPUT_FORMAT, ResultSource, Summary
from lightning_dream.strategies import check_whole_checkpoint, require_job_sharding, shard
from lightning_dream.summaries import gain
from lightning_dream.tokenization import tokenize_sentence


def reopen_epoch(checkpoint: dict[str, Any]) -> None:
    """A run stopped before its last step (``max_steps``, ``max_time``, Ctrl-C) saved its last
    checkpoint with the one epoch marked processed, so resuming it would stop at once; mark the
    epoch started but not processed, so Lightning resumes mid-epoch and runs the remaining steps."""
    progress = checkpoint.get("loops", {}).get("fit_loop", {}).get("epoch_progress")
    if progress is None:
        return
    for counts in (progress["total"], progress["current"]):
        counts["processed"] = counts["completed"] = counts["started"] - 1


@dataclass
class StepRecord:
    """What one optimisation step produced for this rank's jobs (read by the callbacks); ``soft``
    and ``snapped`` are the values as reported (``SoftInputExperiment.reported``)."""

    step: int
    temperature: float
    job_ids: list[int]
    ids: Tensor
    soft: Tensor
    snapped: Tensor


class SoftInputExperiment(pl.LightningModule, ResultSource):
    #: independent jobs: on several devices the CLI gives them job sharding (``strategies.job_strategy``)
    independent_jobs: ClassVar[bool] = True
    result_format: ClassVar[str] = SOFT_INPUT_FORMAT
    #: how many of the softmax's top tokens each snapshot keeps per changeable position
    snapshot_top_k: ClassVar[int] = 8
    #: what the objective is called in TensorBoard tags and the summary (Reconstruct: distance)
    value_name: ClassVar[str] = "activation"
    #: settings this family took before each method owned its own: where they live now (parse errors say it)
    moved_settings: ClassVar[dict[str, str]] = moved_settings()

    def __init__(
        self,
        model: str = "minilm-l6",
        num_iterations: PositiveInt = 3000,
        method: MethodChoice = "anneal",
        max_passes: PositiveInt | None = None,
        init: Init = "sentence",
        confidence: OpenUnitInterval = 0.9,
        seed: int = 0,
        snapshot_every: PositiveInt = 10,
        fluency_weight: float | None = None,
        fluency_model: str = "minilm-l6-mlm",
    ):
        """
        Args:
            model: embedded name (``minilm-l6``), local folder or hub name of the encoder.
            num_iterations: optimisation steps of every job.
            method: how the input moves (``methods``): ``anneal`` (softmax annealing), ``gcg``
                (coordinate gradient search over single-token swaps), ``pez`` (projected
                embeddings) or ``epo`` (a population across fluency weights, a Pareto front of
                activation vs fluency); each with its own settings:
                ``{class_path: gcg, init_args: {top_k: 64, candidates: 128}}``.
            max_passes: stop once each job has spent this many encoder passes (one sequence
                forward = 1, its backward = 1 more); None: run ``num_iterations`` steps.
            init: ``sentence`` (logits peaked on the sentence's tokens), ``random_tokens``
                (peaked on random tokens) or ``uniform`` (random logits).
            confidence: softmax mass of the initial token, for the peaked inits; measured at the
                method's start temperature for ``sentence`` (the start sentence is the input at
                step 0), at T=1 for ``random_tokens``.
            seed: seed of every random choice; job ``j`` draws from its own stream.
            snapshot_every: record tokens and activations every k steps in the results.
            fluency_weight: λ of the objective's fluency term (``models.fluency``: PLL per token
                under ``fluency_model`` minus the unigram log-probability per token); gcg ranks
                swaps by activation + λ x fluency, its MLM passes counted in the budget. None: no
                fluency; 0: fluency of the start, final and last sentences reported only.
            fluency_model: the masked LM of the fluency term.
        """
        super().__init__()
        self.save_hyperparameters(ignore=["method"])  # collects the subclass's arguments too
        check_arguments(type(self), self.hparams)
        self.method = build_method(method)
        self.method.check_objective(fluency_weight)
        self.hparams["method"] = self.method.spec()  # results and resume see the method with its settings
        self.model_name = model
        self.config, self.tokenizer = load_config_and_tokenizer(model)
        self.num_iterations = num_iterations
        self.fluency_weight = fluency_weight
        self.fluency: Fluency | None = None
        self.strict_loading = False  # the frozen encoder is not in checkpoints
        self.readout: EncoderReadout | None = None
        self.soft: SoftTokens | None = None
        self.idle_weight: torch.nn.Parameter | None = None  # set on a rank without jobs
        self.tracker = JobTracker()
        self.last_step: StepRecord | None = None
        self._snapped: tuple[Tensor, Tensor] | None = None  # (ids, value) of the last snapped evaluation
        self._passes_before = 0.0  # passes per job spent before a resume

    @classmethod
    def comparable_settings(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """Parsed settings as the run stores them (``method`` in its full spelling), for resume checks."""
        return {**settings, "method": stored_spec(settings["method"])} if "method" in settings else settings

    # -- what subclasses provide -------------------------------------------------------------
    def sentence_targets(self, ids: list[int]) -> list[tuple[ActivationTarget, dict[str, Any]]]:
        """The (target, extra result info) pairs to optimise for one tokenised sentence."""
        raise NotImplementedError

    def build_jobs(self) -> list[Job]:
        """Every sentence (``self.sentences``, span ``self.span``) x every target of it."""
        if not self.sentences:
            raise ConfigError("sentences is empty: give at least one sentence")
        jobs = []
        for sentence in self.sentences:
            ids = tokenize_sentence(self.tokenizer, sentence, self.config.max_position_embeddings)
            start, end = change_span(ids, *self.span)
            for target, info in self.sentence_targets(ids):
                target.validate(self.config.num_hidden_layers, self.config.hidden_size, len(ids))
                jobs.append(Job(len(jobs), sentence, ids, start, end, target, dict(info)))
        return jobs

    def objective(self, hidden: Tensor, mask: Tensor) -> Tensor:
        """Per-job value to maximise from ``states(...)`` (by default stacked hidden states
        (depth+1, jobs, L, H))."""
        raise NotImplementedError

    def states(self, **inputs: Tensor) -> Tensor:
        """What ``objective`` reads, from ``input_ids`` or ``inputs_embeds`` of the local jobs: the
        hidden states of layers 0..depth. Reconstruct reads each job at its own layer only."""
        return self.readout.hidden_states(self.attention_mask, self.depth, **inputs)

    @property
    def depth(self) -> int:
        """How many blocks the objective needs."""
        return max(job.target.layer for job in self.local_jobs)

    def prepare_targets(self) -> None:
        """Hook for targets that need the model (stored activations); called once per rank."""

    def load_model(self) -> PreTrainedModel:
        """The frozen model the readout runs (an encoder; DreamMLM loads a masked LM)."""
        return load_encoder(self.model_name)

    # -- model and jobs ----------------------------------------------------------------------
    @cached_property
    def jobs(self) -> list[Job]:
        """Every job of the run, built from the arguments on first use (``check_inputs``)."""
        jobs = self.build_jobs()
        if not jobs:
            raise ConfigError("no jobs: give at least one sentence and target")
        return jobs

    def check_inputs(self) -> None:
        """Build and validate every job: a bad sentence, position or file is one ConfigError
        before any model work (the CLI calls it right after parsing; ``setup`` otherwise)."""
        self.jobs  # noqa: B018  (built and validated)

    def setup(self, stage: str) -> None:
        self.check_inputs()
        require_job_sharding(self)

    def configure_model(self) -> None:
        if self.readout is not None or self.idle_weight is not None:
            return
        world = self.trainer.world_size if self._trainer is not None else 1
        rank = self.trainer.global_rank if self._trainer is not None else 0
        self.local_jobs = [self.jobs[i] for i in shard(len(self.jobs), rank, world)]
        if not self.local_jobs:
            # more processes than jobs: this rank loads no model and optimises one dummy zero, so it
            # counts the same steps as the others and joins every gather (logging, results)
            self.idle_weight = torch.nn.Parameter(torch.zeros(1))
            return
        self.readout = EncoderReadout(self.load_model())
        batch = batch_jobs(self.local_jobs, self.tokenizer.pad_token_id or 0)
        self.register_buffer("attention_mask", batch.attention_mask, persistent=False)
        self.register_buffer("original_ids", batch.input_ids, persistent=False)  # the jobs' own sentences
        self.register_buffer("change_mask", batch.change_mask, persistent=False)
        self.soft = SoftTokens(
            batch.input_ids,
            batch.change_mask,
            self.readout.word_embeddings.shape[0],
            [job.index for job in self.local_jobs],
            seed=self.hparams.seed,
            init=self.hparams.init,
            confidence=self.hparams.confidence,
            special_ids=torch.tensor(self.tokenizer.all_special_ids),
            temperature=self.method.start_temperature() if self.hparams.init == "sentence" else 1.0,
        )
        self.prepare_targets()
        self.readout.passes = 0  # preparing targets is not search
        if self.fluency_weight is not None or self.method.needs_fluency:
            self.fluency = Fluency(self.hparams.fluency_model)
        self.method.setup(self, self.num_iterations)

    def configure_optimizers(self) -> torch.optim.Optimizer | None:
        if self.idle_weight is not None:  # a rank without jobs steps in time with the others
            return torch.optim.SGD([self.idle_weight], lr=0.0)
        return self.method.configure_optimizer(self)

    # -- what a search method sees (``methods.SearchHost``) ------------------------------------
    @property
    def word_embeddings(self) -> Tensor:
        return self.readout.word_embeddings

    @cached_property
    def special_ids(self) -> Tensor:
        """[CLS], [SEP], [PAD], [MASK], [UNK]: tokens a method never writes (sorted ids)."""
        return torch.tensor(sorted(set(self.tokenizer.all_special_ids)), dtype=torch.long)

    def objective_of(self, **inputs: Tensor) -> Tensor:
        """The objective of every local job from ``input_ids`` or ``inputs_embeds``."""
        return self.objective(self.states(**inputs), self.attention_mask)

    # -- budget and randomness ---------------------------------------------------------------
    @property
    def passes(self) -> float:
        """Encoder passes per job so far (the jobs of a batch advance together, so they share
        the batch's passes equally)."""
        spent = (self.readout.passes if self.readout is not None else 0) + (
            self.fluency.passes if self.fluency is not None else 0
        )
        return self._passes_before + spent / max(1, len(self.local_jobs))

    def fluency_of(self, ids: Tensor) -> FluencyScore:
        """The fluency of real tokens (rows, L), rows cycling through the local jobs."""
        mask = self.attention_mask.repeat(len(ids) // len(self.attention_mask), 1)
        return self.fluency(ids, mask)

    def job_generator(self, row: int, draw: int) -> torch.Generator:
        """The random stream number ``draw`` of local job ``row``: the job's own ``seed`` if it has
        one (a targets file), else the run's seed and the job's index, so batching never changes it."""
        job = self.local_jobs[row]
        if job.seed is not None:
            return job_generator(job.seed, 0, draw)
        return job_generator(self.hparams.seed, job.index, draw)

    def remember_snapped(self, ids: Tensor, value: Tensor) -> None:
        """A method that evaluated real tokens itself hands the value over (no second forward)."""
        self._snapped = (ids, value)

    def train_dataloader(self) -> DataLoader:
        return step_loader(self.num_iterations)

    def configure_callbacks(self) -> list[Callback]:
        from lightning_dream.callbacks import FigureLogger, ResultWriter, default_callbacks
        from lightning_dream.experiments.soft_input.step_logger import StepLogger

        return default_callbacks(self._trainer, StepLogger(), ResultWriter(), FigureLogger())

    # -- the loop ----------------------------------------------------------------------------
    def evaluate(self, temperature: float, noise: Tensor | None = None) -> Evaluation:
        """The soft input's value at ``temperature`` (with grad; ``noise`` added to the logits),
        the snapped tokens and their value, of every local job."""
        embeds = self.soft.embeds(self.readout.word_embeddings, temperature, noise)
        soft = self.objective_of(inputs_embeds=embeds)
        ids = self.soft.snapped_ids()
        return Evaluation(soft, self.snapped_value(ids), ids)

    @torch.no_grad()
    def snapped_value(self, ids: Tensor) -> Tensor:
        """The objective of the real tokens ``ids``. A job's value depends on its own tokens alone,
        so only the jobs whose tokens changed since the last call are evaluated again (no snapped
        token changes while the logits' lead of the start token holds, about boost / (2 lr) steps
        of Adam)."""
        if self._snapped is None:
            value = self.objective_of(input_ids=ids)
        else:
            rows = (self._snapped[0] != ids).any(1).nonzero()[:, 0]
            value = self._snapped[1]
            if len(rows):
                value = value.clone()
                value[rows] = self.snapped_rows(ids, rows)
        self._snapped = (ids, value)
        return value

    def snapped_rows(self, ids: Tensor, rows: Tensor) -> Tensor:
        """The objective of the real tokens ``ids`` for the job rows ``rows``. Here the whole batch
        is run and those rows picked; an experiment whose objective can run on a subset of its
        jobs (Reconstruct) runs only those rows."""
        return self.objective_of(input_ids=ids)[rows]

    @torch.no_grad()
    def candidate_values(self, candidates: Tensor) -> Tensor:
        """The objective of real-token candidates (count, jobs, L) -> (count, jobs), one batch of
        jobs at a time; an experiment whose targets can be read per row (Dream) batches them all."""
        return torch.stack([self.objective(self.states(input_ids=c), self.attention_mask) for c in candidates])

    def budget_spent(self) -> bool:
        """This rank's jobs spent ``max_passes`` (a rank without jobs has nothing to spend)."""
        budget = self.hparams.max_passes
        return budget is not None and (not self.local_jobs or self.passes >= budget)

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> int | None:
        # the ranks stop together, when every one has spent its budget: a rank that stopped alone
        # would leave the others waiting in StepLogger's gathers; until then a spent rank idles
        spent = self.hparams.max_passes is not None and self.trainer.strategy.reduce_boolean_decision(
            self.budget_spent(), all=True
        )
        if self.global_step >= self.num_iterations or spent:
            self.trainer.should_stop = True  # resumed epochs restart their iterator; or the budget is spent
            return -1
        return None

    def on_train_epoch_end(self) -> None:
        if self.global_step >= self.num_iterations:  # done: never open another (empty) epoch
            self.trainer.should_stop = True

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        step = self.global_step
        if self.idle_weight is not None or self.budget_spent():  # no jobs here, or their budget spent
            empty = torch.zeros(0)
            temperature = self.method.temperature(step, self.num_iterations)
            self.last_step = StepRecord(step, temperature, [], empty.long(), empty, empty)
            return torch.zeros((), requires_grad=True) if self.idle_weight is None else self.idle_weight.sum() * 0
        loss, ids, snapped, temperature = self.search_step(step)
        self.log("T", temperature, prog_bar=True, logger=False)  # TensorBoard's temperature comes from StepLogger
        for name, value in self.live_numbers(ids, snapped).items():
            self.log(name, value, prog_bar=True)  # this rank's jobs: no collective per step (idle ranks log nothing)
        if not loss.requires_grad:  # a method without gradient steps (gcg, epo): Lightning refuses a None
            return loss.sum().detach().requires_grad_()  # on several processes; this backward does nothing
        return loss.sum()

    def search_step(self, step: int) -> tuple[Tensor, Tensor, Tensor, float]:
        """One step of the method for every local job: move, evaluate, snapshot, keep the best.
        Returns (loss per job, with grad for a continuous method; snapped ids; their values;
        temperature). ``training_step`` and ``CompareMethods`` (one per method) both run it."""
        loss, soft, snapped, ids, temperature = self.method.step(self, step)
        loss = -soft if loss is None else loss
        record = None
        if step % self.hparams.snapshot_every == 0 or step == self.num_iterations - 1:
            top = self.method.snapshot_probs(self, temperature).detach().topk(self.snapshot_top_k, dim=-1)
            record = {
                "temperature": temperature,
                "ids": ids.cpu(),
                "soft": soft.detach().float().cpu(),
                "snapped": snapped.float().cpu(),
                "loss": loss.detach().float().cpu(),
                "top_ids": top.indices.cpu(),
                "top_weights": top.values.float().cpu(),
                "passes": self.passes,
            }
        self.tracker.update(step, ids, snapped, record)
        job_ids, reported = [j.index for j in self.local_jobs], self.reported
        self.last_step = StepRecord(step, temperature, job_ids, ids, reported(soft.detach()), reported(snapped))
        return loss, ids, snapped, temperature

    def reported(self, value: Tensor) -> Tensor:
        """The objective as logged and summarised (Reconstruct reports its distance, minus the objective)."""
        return value

    def live_numbers(self, ids: Tensor, snapped: Tensor) -> dict[str, Tensor]:
        """The progress bar's numbers (also TensorBoard scalars): the mean over jobs of the final
        (best snapped so far) activation relative to the start (``summaries.gain``; a sharded run's
        bar shows rank 0's jobs)."""
        return {"final/start": gain(self.tracker.start_value, self.tracker.final_value).mean()}

    # -- checkpoints -------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["state_dict"] = without_frozen_encoder(checkpoint["state_dict"])
        checkpoint["job_tracker"] = self.tracker.state_dict()
        checkpoint["passes_per_job"] = self.passes
        # the last snapped evaluation: without it a resumed run pays a forward the uninterrupted one does
        # not, and a pass budget ends a step earlier
        checkpoint["last_snapped"] = None if self._snapped is None else [t.cpu() for t in self._snapped]

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        check_whole_checkpoint(checkpoint, self._trainer.ckpt_path if self._trainer is not None else None)
        self.tracker.load_state_dict(checkpoint["job_tracker"])
        self._passes_before = checkpoint.get("passes_per_job", 0.0)
        if self.readout is not None:
            self.readout.passes = 0
            snapped = checkpoint.get("last_snapped")
            if snapped is not None:
                ids, value = (t.to(self.attention_mask.device) for t in snapped)
                self._snapped = (ids, value)
        if checkpoint.get("global_step", 0) < self.num_iterations:
            reopen_epoch(checkpoint)

    def run_complete(self, trainer: pl.Trainer) -> bool:
        """Every job ran every one of its ``num_iterations`` steps, or its pass budget is spent."""
        budget = self.hparams.max_passes
        return trainer.global_step >= self.num_iterations or (budget is not None and self.passes >= budget)

    # -- results -----------------------------------------------------------------------------
    def tokens(self, ids: Tensor, row: int) -> list[str]:
        return self.tokenizer.convert_ids_to_tokens(ids[row, : len(self.local_jobs[row].input_ids)].tolist())

    def text(self, ids: Tensor, row: int) -> str:
        return self.tokenizer.decode(ids[row, 1 : len(self.local_jobs[row].input_ids) - 1].tolist())

    @torch.no_grad()
    def last_snapped(self) -> tuple[Tensor, Tensor]:
        """Tokens after the last step and their value (also offered to the best-so-far, the final)."""
        ids = self.soft.snapped_ids()
        value = self.snapped_value(ids)
        self.tracker.update(self.global_step, ids, value, None)
        return ids.cpu(), value.float().cpu()

    def softmax_top(self, snapshot: dict[str, Any], row: int) -> list[dict[str, Any]]:
        """The snapshot's top softmax tokens and weights at each of the job's changeable positions."""
        rows = (self.soft.row_job == row).nonzero()[:, 0].tolist()
        return [
            {
                "position": position,
                "tokens": self.tokenizer.convert_ids_to_tokens(snapshot["top_ids"][r].tolist()),
                "weights": [round(w, 5) for w in snapshot["top_weights"][r].tolist()],
            }
            for position, r in zip(self.local_jobs[row].change_positions, rows)
        ]

    def job_result(self, row: int, job: Job, last: Tensor, last_value: Tensor) -> JobResult:
        """One job's entry in results.json: start, final (the best snapped input seen, the method's
        result) and last (the last step's input); subclasses add their own fields to its ``extra``."""
        t = self.tracker
        snapshots = [
            {
                "step": s["step"],
                "temperature": s["temperature"],
                "tokens": self.tokens(s["ids"], row),
                "soft_activation": float(s["soft"][row]),
                "snapped_activation": float(s["snapped"][row]),
                "loss": float(s["loss"][row]),
                "passes": s.get("passes"),
                "softmax_top": self.softmax_top(s, row),
            }
            for s in t.snapshots
        ]
        return JobResult(
            job=job.index,
            info=job.info,
            layer_id=job.target.layer,
            word_id=job.target.position,
            neuron_id=job.target.neuron,
            reduction=job.target.reduction,
            start_change=job.start_change,
            end_change=job.end_change,
            sentence=job.sentence,
            start_sentence=self.text(t.start_ids, row),
            start_tokens=self.tokens(t.start_ids, row),
            start_activation=float(t.start_value[row]),
            final_sentence=self.text(t.final_ids, row),
            final_tokens=self.tokens(t.final_ids, row),
            final_activation=float(t.final_value[row]),
            last_sentence=self.text(last, row),
            last_tokens=self.tokens(last, row),
            last_activation=float(last_value[row]),
            snapshots=snapshots,
            extra={
                "method": self.method.name,
                "passes": self.passes,
                **self.fluency_fields(row, last),
                **self.method.result_fields(self, row),
            },
        )

    def summary_table(self, payload: dict[str, Any]) -> Summary:
        """Per job: the start and the final (best snapped) sentence with their activations."""
        rows = [
            [
                j["job"],
                j["layer_id"],
                j["start_sentence"],
                j["start_activation"],
                j["final_sentence"],
                j["final_activation"],
            ]
            for j in payload["jobs"][:20]
        ]
        columns = ["job", "layer", "start", "start act.", "final (best snapped)", "final act."]
        return Summary(f"{type(self).__name__}: start -> final (best snapped) sentence", columns, rows)

    def headline(self, payload: dict[str, Any]) -> float:
        """Mean over jobs of the final (best snapped) activation relative to the start (``summaries.gain``)."""
        jobs = payload["jobs"]
        gains = [gain(float(j["start_activation"]), float(j["final_activation"])) for j in jobs]
        return sum(gains) / len(gains)

    def fluency_fields(self, row: int, last: Tensor) -> dict[str, float]:
        """Fluency and its two parts of the job's start, final and last sentences (if asked for)."""
        if self.fluency is None:
            return {}
        fields, spent = {}, self.fluency.passes
        for stage, ids in (("start", self.tracker.start_ids), ("final", self.tracker.final_ids), ("last", last)):
            score = self.fluency(ids[row : row + 1].to(self.device), self.attention_mask[row : row + 1])
            fields.update({f"{stage}_{name}": float(getattr(score, name)[0]) for name in ("fluency", "pll", "unigram")})
        self.fluency.passes = spent  # scoring the reported sentences is not search: the next job's passes stay
        return fields

    def job_results(self) -> dict[int, dict[str, Any]]:
        if not self.local_jobs:
            return {}
        last, value = self.last_snapped()
        return {job.index: self.job_result(row, job, last, value).to_json() for row, job in enumerate(self.local_jobs)}
