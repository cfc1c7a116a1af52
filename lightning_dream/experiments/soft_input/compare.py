"""CompareMethods: every search method on the same targets at the same budget of encoder passes.

Jobs are (target x span x method), in that order, sharded by target (every job of a target on one
rank, so its exhaustive search runs once; targets balanced by cost: ``rank_targets``); a span
is ``word`` (the target's position alone may change) or ``sentence`` (every word). On each rank one
child ``Dream`` per method holds that method's local jobs (its own soft tokens, tracker and pass
count; the frozen encoder is loaded once and shared). Each training step (manual optimisation)
advances every method whose jobs have not spent ``max_passes`` by one ``search_step``, so every
method stops within one of its steps of the budget; the wall time of each method's steps is
measured. For single-word jobs the exhaustive token search's best at that position is computed
in the run (``models.position_readout``, token search's mechanism; not charged to the methods).
"""

from __future__ import annotations

import math
import time
import warnings
from functools import cached_property
from typing import Any, ClassVar, Literal

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback
from torch import nn
from torch.utils.data import DataLoader
from transformers import PreTrainedModel

from lightning_dream.checks import PositiveInt, check_arguments
from lightning_dream.data.steps import step_loader
from lightning_dream.errors import ConfigError
from lightning_dream.experiments.soft_input.base import reopen_epoch
from lightning_dream.experiments.soft_input.dream import Dream, job_from_line
from lightning_dream.experiments.soft_input.jobs import Job
from lightning_dream.experiments.soft_input.methods import (
    METHODS,
    MethodChoice,
    SearchMethod,
    build_method,
    stored_spec,
)
from lightning_dream.experiments.soft_input.targets import TargetLine, read_targets
from lightning_dream.models.loading import load_config_and_tokenizer, load_encoder
from lightning_dream.models.position_readout import substituted_at_position
from lightning_dream.models.readout import without_frozen_encoder
from lightning_dream.results import COMPARE_METHODS_FORMAT, ResultSource, Summary
from lightning_dream.strategies import balanced_shard, check_whole_checkpoint, require_job_sharding

SPANS = ("word", "sentence")
#: the default budget: what the study's 3,000 annealing steps spend at most (3 passes a step)
DEFAULT_PASSES = 9000
#: exhaustive search: substituted sentences per forward
EXHAUSTIVE_BATCH = 1024


#: the end-of-run table's columns: results.json's ``table`` keys and their short names
TABLE_COLUMNS = {
    "method": "method",
    "runs": "runs",
    "median_final_over_start_sentence": "sentence final/start",
    "median_final_over_start_word": "word final/start",
    "median_last_over_start_sentence": "sentence last/start",
    "median_last_over_start_word": "word last/start",
    "share_5pct_above_start_sentence": "sentence >=5% up",
    "share_5pct_above_start_word": "word >=5% up",
    "share_word_reaching_exhaustive": "word = exhaustive",
    "share_front_fluent_5pct_above_start": "front: fluent & >=5% up",
    "median_fluency_final": "fluency final",
    "median_fluency_start": "fluency start",
    "median_passes": "passes",
    "wall_seconds": "wall s",
}


class MethodSearch(Dream):
    """One method's local jobs of a comparison: a Dream over given jobs, on the shared encoder
    (``of``: set after construction, so neither lands in its hyperparameters)."""

    given: tuple[list[Job], PreTrainedModel]

    @classmethod
    def of(cls, jobs: list[Job], encoder: PreTrainedModel, **settings: Any) -> MethodSearch:
        search = cls(**settings)
        search.given = (jobs, encoder)  # a tuple: the encoder is not registered as a submodule
        search.steps = 0
        return search

    def build_jobs(self) -> list[Job]:
        return self.given[0]

    def load_model(self) -> PreTrainedModel:
        return self.given[1]


class CompareMethods(pl.LightningModule, ResultSource):
    independent_jobs: ClassVar[bool] = True
    #: settings an older version took: where they live now (parse errors say it)
    moved_settings: ClassVar[dict[str, str]] = {
        "method_settings": "method_settings is each method's own now: methods: [anneal, {class_path: GCG, "
        "init_args: {candidates: 32}}, ...]"
    }
    result_format = COMPARE_METHODS_FORMAT

    def __init__(
        self,
        targets: str,
        methods: list[MethodChoice] | None = None,
        max_passes: PositiveInt = DEFAULT_PASSES,
        spans: list[Literal["word", "sentence"]] = list(SPANS),  # noqa: B006  (jsonargparse shows the default)
        model: str = "minilm-l6",
        seed: int = 0,
        fluency_weight: float | None = 0.0,
        fluency_model: str = "minilm-l6-mlm",
        snapshots: PositiveInt = 20,
    ):
        """
        Args:
            targets: a targets file (``.jsonl``, Dream's ``targets`` format): one target per line.
            methods: the methods compared, each by name or with its own settings
                (``{class_path: gcg, init_args: {candidates: 32}}``); default: every one in
                ``methods.METHODS`` at its defaults.
            max_passes: encoder passes per job every method may spend (default 9,000: what 3,000
                annealing steps spend at most, 3 passes a step).
            spans: ``word`` (the target's position alone changes) and/or ``sentence`` (every word).
            model: the encoder (embedded name, folder or hub name).
            seed: seed of every random choice; job ``j`` draws from its own stream.
            fluency_weight: λ of every method's fluency term; 0: the start and final sentences'
                fluency reported only (``models.fluency``); None: no fluency.
            fluency_model: the masked LM of the fluency.
            snapshots: about how many snapshots each job keeps (the activation-vs-passes curves).
        """
        super().__init__()
        self.save_hyperparameters()
        check_arguments(type(self), self.hparams)
        self.automatic_optimization = False
        # a checkpoint after step N holds the state after that step's update, which is what resuming
        # at step N + 1 needs: Lightning's warning about manual optimization's checkpoints is expected
        warnings.filterwarnings("ignore", "Using ModelCheckpoint with manual optimization", UserWarning)
        self.strict_loading = False  # the frozen encoder is not in checkpoints
        chosen = [build_method(m) for m in (list(METHODS) if methods is None else methods)]
        names = [method.name for method in chosen]
        if not chosen or len(set(names)) < len(names):
            raise ConfigError(f"methods {names}: give each method once (known: {', '.join(METHODS)})")
        if not spans or set(spans) - set(SPANS):
            raise ConfigError(f"spans={spans}: use word and/or sentence")
        self.methods: dict[str, SearchMethod] = dict(zip(names, chosen))
        self.hparams["methods"] = [method.spec() for method in chosen]
        cost = {name: method.step_cost() for name, method in self.methods.items()}
        if max_passes < max(cost.values()):
            raise ConfigError(
                f"max_passes={max_passes} is less than one step: {', '.join(f'{m} {c}' for m, c in cost.items())}"
                " passes per job"
            )
        self.searches = nn.ModuleDict()
        self.wall: dict[str, float] = {}
        self.exhaustive: dict[int, tuple[str, float]] | None = None  # per single-word job: best token, value
        self.step_clock = nn.Parameter(torch.zeros(1))  # never moves (lr 0): see configure_optimizers
        self.method_optimizers: dict[str, torch.optim.Optimizer] = {}
        self.restored_optimizers: dict[str, dict[str, Any]] = {}

    @cached_property
    def jobs(self) -> list[Job]:
        """(target x span x method) jobs, in that order, from the targets file; each job's ``info``
        names its target (line index), span and method."""
        path = self.hparams.targets
        config, tokenizer = load_config_and_tokenizer(self.hparams.model)
        jobs: list[Job] = []
        for number, line in enumerate(read_targets(path), 1):
            for span in self.hparams.spans:
                if span == "word" and line.word_id is None:
                    raise ConfigError(f"{path}:{number}: a single-word run needs the target's word_id")
                first, last = (line.word_id, line.word_id) if span == "word" else (None, None)
                spanned = TargetLine(**{**line.to_json(), "start_change": first, "end_change": last})
                for method in self.methods:
                    try:
                        job = job_from_line(spanned, len(jobs), tokenizer, config)
                    except ConfigError as err:
                        raise ConfigError(f"{path}:{number} ({span} run): {err}") from None
                    job.info = {"target": number - 1, "span": span, "method": method}
                    jobs.append(job)
        return jobs

    def check_inputs(self) -> None:
        """Read and validate the targets file: one ConfigError before any model work."""
        self.jobs  # noqa: B018  (built and validated)

    def child(self, name: str, jobs: list[Job], encoder: PreTrainedModel) -> MethodSearch:
        """The search of one method over its local jobs: the method set for the budget (its steps),
        a snapshot about every budget / ``snapshots`` passes, the comparison's shared settings."""
        budget = self.hparams.max_passes
        method, steps = self.methods[name].for_budget(budget)
        return MethodSearch.of(
            jobs,
            encoder,
            num_iterations=steps,
            snapshot_every=max(1, budget // (method.step_cost() * self.hparams.snapshots)),
            method=method,
            model=self.hparams.model,
            seed=self.hparams.seed,
            max_passes=budget,
            fluency_weight=self.hparams.fluency_weight,
            fluency_model=self.hparams.fluency_model,
        )

    def setup(self, stage: str) -> None:
        self.check_inputs()
        require_job_sharding(self)

    def configure_model(self) -> None:
        if len(self.searches) or hasattr(self, "local"):
            return
        owned = set(self.rank_targets(self.trainer.global_rank, self.trainer.world_size))
        self.local = [job for job in self.jobs if job.info["target"] in owned]
        if not self.local:
            return
        encoder = load_encoder(self.hparams.model)
        for name in self.methods:
            jobs = [job for job in self.local if job.info["method"] == name]
            if jobs:
                search = self.child(name, jobs, encoder)
                search.configure_model()
                self.searches[name] = search
                self.wall[name] = 0.0

    def on_train_start(self) -> None:
        """The exhaustive searches, unless a resume restored them (they can take most of an hour)."""
        if self.local and self.exhaustive is None:
            self.exhaustive = self.exhaustive_best()

    def rank_targets(self, rank: int, world_size: int) -> list[int]:
        """The targets whose jobs (every span and method) run on ``rank``: a target's exhaustive search
        runs once, on its rank, and targets at deeper layers or in longer sentences (a pass costs
        layers x tokens) are spread over the ranks by ``balanced_shard``."""
        first = {}
        for job in self.jobs:
            first.setdefault(job.info["target"], job)
        costs = [first[t].target.layer * len(first[t].input_ids) for t in sorted(first)]
        return [sorted(first)[i] for i in balanced_shard(costs, rank, world_size)]

    @torch.no_grad()
    def exhaustive_best(self) -> dict[int, tuple[str, float]]:
        """Per local single-word job with a position target: the best token at its position and its
        value, every vocabulary token but the special ones tried (the methods never write those)."""
        search = next(iter(self.searches.values()))
        encoder = search.given[1]
        allowed = torch.ones(encoder.config.vocab_size, dtype=torch.bool)
        allowed[search.special_ids] = False
        candidates = allowed.nonzero()[:, 0]
        by_target: dict[int, tuple[str, float]] = {}
        found = {}
        for job in self.local:
            if job.info["span"] != "word" or job.target.position is None:
                continue
            if job.info["target"] not in by_target:
                ids, t = torch.tensor(job.input_ids), job.target
                values = torch.cat(
                    [
                        t.reduce(substituted_at_position(encoder, ids, job.start_change, batch, t.layer, t.position))
                        for batch in candidates.split(EXHAUSTIVE_BATCH)
                    ]
                )
                top = int(values.argmax())
                token = search.tokenizer.convert_ids_to_tokens(int(candidates[top]))
                by_target[job.info["target"]] = (token, float(values[top]))
            found[job.index] = by_target[job.info["target"]]
        return found

    # -- the loop --------------------------------------------------------------------------------
    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Lightning steps one optimiser per comparison step, so its global step (what checkpoints and
        results count) is the comparison's step whichever methods run; each continuous method's own
        optimiser is its search's, built here (after the move to the device) with a restored state."""
        self.method_optimizers = {}
        for method, search in self.searches.items():
            optimizer = search.configure_optimizers()
            if optimizer is not None:
                if method in self.restored_optimizers:
                    optimizer.load_state_dict(self.restored_optimizers[method])
                self.method_optimizers[method] = optimizer
        return torch.optim.SGD([self.step_clock], lr=0.0)

    def train_dataloader(self) -> DataLoader:
        """As many steps as the method with the cheapest steps can take within the budget."""
        budget = self.hparams.max_passes
        return step_loader(max(math.ceil(budget / m.fewest_passes()) for m in self.methods.values()) + 1)

    def training_step(self, batch: Any, batch_idx: int) -> None:
        budget = self.hparams.max_passes
        for method, search in self.searches.items():
            if search.passes >= budget:
                continue
            start = time.perf_counter()
            loss = search.search_step(search.steps)[0]
            optimizer = self.method_optimizers.get(method)
            if optimizer is not None and loss.requires_grad:
                optimizer.zero_grad()
                self.manual_backward(loss.sum())
                self.trainer.strategy.optimizer_step(optimizer, lambda: None)  # through the precision plugin
            search.steps += 1
            self.wall[method] += time.perf_counter() - start
        self.optimizers().step()  # the step clock
        if self.trainer.strategy.reduce_boolean_decision(self.budget_spent(), all=True):  # every rank the same steps
            self.trainer.should_stop = True

    # -- checkpoints: each method's own (its Dream's job tracker and passes), its steps and wall time,
    # and the exhaustive searches' results (a resumed run does not search again)
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["state_dict"] = without_frozen_encoder(checkpoint["state_dict"])
        methods = {}
        for method, search in self.searches.items():
            state: dict[str, Any] = {"state_dict": {}}
            search.on_save_checkpoint(state)  # its job tracker and passes per job
            del state["state_dict"]  # its parameters are in this module's
            methods[method] = {**state, "steps": search.steps, "wall_seconds": self.wall[method]}
            if method in self.method_optimizers:
                methods[method]["optimizer"] = self.method_optimizers[method].state_dict()
        checkpoint["methods"] = methods
        checkpoint["exhaustive"] = self.exhaustive

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        check_whole_checkpoint(checkpoint, self.trainer.ckpt_path)
        for method, search in self.searches.items():
            state = checkpoint["methods"][method]
            search.on_load_checkpoint(state)
            search.steps, self.wall[method] = state["steps"], state["wall_seconds"]
            if "optimizer" in state:
                self.restored_optimizers[method] = state["optimizer"]
        self.exhaustive = checkpoint["exhaustive"]
        if not self.budget_spent():
            reopen_epoch(checkpoint)

    def budget_spent(self) -> bool:
        """Every local method has spent ``max_passes`` per job."""
        return all(search.passes >= self.hparams.max_passes for search in self.searches.values())

    def run_complete(self, trainer: pl.Trainer) -> bool:
        return not trainer.interrupted and self.budget_spent()

    @classmethod
    def comparable_settings(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """Parsed settings as the run stores them (each method in its full spelling), for resume checks."""
        if settings.get("methods") is None:
            return settings
        return {**settings, "methods": [stored_spec(m) for m in settings["methods"]]}

    def configure_callbacks(self) -> list[Callback]:
        from lightning_dream.callbacks import FigureLogger, ResultWriter, default_callbacks

        return default_callbacks(self._trainer, ResultWriter(), FigureLogger())

    # -- results ---------------------------------------------------------------------------------
    def job_results(self) -> dict[int, dict[str, Any]]:
        """Per job: the method's Dream row (start, final, last, snapshots, passes, fluency), its
        steps and share of the method's wall time, and for single-word jobs the exhaustive best."""
        rows = {}
        for method, search in self.searches.items():
            wall = self.wall[method] / len(search.jobs)  # the jobs of a batch advance together
            for index, row in search.job_results().items():
                row.update(steps=search.steps, wall_seconds=wall)
                if self.exhaustive is None and row["span"] == "word":
                    row.update(exhaustive_best=None, exhaustive_best_undefined="stopped before the exhaustive search")
                elif index in self.exhaustive:
                    token, value = self.exhaustive[index]
                    row.update(exhaustive_token=token, exhaustive_best=value)
                elif row["span"] == "word":
                    row.update(exhaustive_best=None, exhaustive_best_undefined="the target has no position")
                rows[index] = row
        return rows

    def result_fields(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        from lightning_dream.report.methods import comparison_table

        return {"table": comparison_table(rows)}

    def summary_table(self, payload: dict[str, Any]) -> Summary:
        """The table per method, in short column names (``table`` in results.json has the full ones)."""
        rows = [[row.get(key) for key in TABLE_COLUMNS] for row in payload["table"]]
        title = "CompareMethods: per method (final = best snapped input seen; ratios are medians of final/start)"
        return Summary(title, list(TABLE_COLUMNS.values()), rows)

    def headline(self, payload: dict[str, Any]) -> float | None:
        """The best method's median final/start on whole-sentence runs."""
        values = [row["median_final_over_start_sentence"] for row in payload["table"]]
        values = [v for v in values if v is not None]
        return max(values) if values else None
