"""GLUE-style probes at every depth in one run: a linear readout per depth on the pooled state.

How much of a sentence task can be read from the iterated ALBERT after 1, 10, 100 steps? With a
fixed encoder each batch runs it once to the deepest depth and hands each depth's pooled state to
that depth's readout; the pooled states are cached on disk in the first epoch and read after
(``data/pooled_states.py``). ``init_model`` re-initialises the encoder (one seeded random encoder
shared by every depth). Fine-tuning (``fix_encoder: false``) trains one copy of the encoder per
depth. The task (classes or regression, GLUE's metrics) comes from the data (``SentenceTaskData``).

    lightning-dream fit --config configs/depth_probe.yaml
"""

from __future__ import annotations

import copy
from typing import Any, Literal

import torch
from torch import Tensor, nn
from torchmetrics import MetricCollection
from torchmetrics.classification import BinaryF1Score, MulticlassAccuracy, MulticlassMatthewsCorrCoef
from torchmetrics.regression import PearsonCorrCoef, SpearmanCorrCoef
from transformers import AutoModel

from lightning_dream.checks import PositiveFloat, check_arguments
from lightning_dream.data.glue import Task
from lightning_dream.data.pooled_states import PooledStateCache
from lightning_dream.data.sentence_tasks import SentenceTaskData
from lightning_dream.errors import ConfigError
from lightning_dream.experiments.depth.base import DepthStudy, check_depths, depth_key
from lightning_dream.models.depth import hidden_at_depth, hidden_by_depth
from lightning_dream.models.loading import load_config, load_encoder


def pool(hidden: Tensor, attention_mask: Tensor, pooling: str) -> Tensor:
    """(batch, H) readout input: the mean of the real tokens' states, or the [CLS] state."""
    if pooling == "cls":
        return hidden[:, 0]
    weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1)


def glue_metric(name: str, num_labels: int):
    """GLUE's metric ``name`` on predicted classes (or values, for regression)."""
    return {
        "accuracy": lambda: MulticlassAccuracy(num_labels, average="micro"),
        "f1": lambda: BinaryF1Score(),
        "matthews": lambda: MulticlassMatthewsCorrCoef(num_labels),
        "pearson": lambda: PearsonCorrCoef(),
        "spearman": lambda: SpearmanCorrCoef(),
    }[name]()


class DepthProbe(DepthStudy):
    def __init__(
        self,
        model: str = "albert-news-tiny",
        depths: list[int] = [1, 2, 4, 8],
        fix_encoder: bool = True,
        init_model: bool = False,
        lr: PositiveFloat | None = None,
        pooling: Literal["mean", "cls"] = "mean",
        seed: int = 42,
        cache_states: bool = True,
        cache_dir: str | None = None,
    ):
        """
        Args:
            model: encoder (embedded name, folder or hub name); ALBERT may be iterated past its depth.
            depths: layers read (k blocks / k applications of ALBERT's shared layer), one readout each.
            fix_encoder: train the readouts only (the encoder is a fixed feature extractor).
            init_model: re-initialise the encoder's weights first (a random-weights baseline).
            lr: Adam learning rate; default 1e-3 with a fixed encoder, 1e-6 when fine-tuning it.
            pooling: what a readout sees: ``mean`` of the real tokens' states, or the ``cls`` state
                (a model pretrained by masked LM alone never trains [CLS] to summarise a sentence).
            seed: seed of the readouts (depth k's readout from ``seed + k``, as in a one-depth run)
                and of a re-initialised encoder.
            cache_states: with a fixed encoder, keep the pooled states on disk after their first
                pass (the encoder then runs once per example, not once per epoch).
            cache_dir: folder of the cache files (default ``$TMPDIR``); examples x depths x hidden x 4 bytes.
        """
        super().__init__()
        self.save_hyperparameters()
        check_arguments(type(self), self.hparams)
        config = load_config(model)
        self.depths = check_depths(depths, config)
        self.fixed_encoder = fix_encoder
        self.lr = lr if lr is not None else (1e-3 if fix_encoder else 1e-6)
        self.hidden_size = config.hidden_size
        encoder = load_encoder(model)
        if init_model:  # fresh weights of the same architecture, one seeded encoder for every depth
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                encoder.load_state_dict(AutoModel.from_config(config).state_dict())
        encoder.requires_grad_(not fix_encoder)
        self.encoder = encoder if fix_encoder else nn.ModuleList(copy.deepcopy(encoder) for _ in self.depths)
        self.strict_loading = not fix_encoder or init_model  # else the encoder is reloaded from `model`
        self.readouts: nn.ModuleList | None = None
        self.caches: dict[int, PooledStateCache] = {}

    def encoders(self) -> list[nn.Module]:
        return [self.encoder]

    # -- the task comes from the data ---------------------------------------------------------
    def setup(self, stage: str) -> None:
        data = self.trainer.datamodule
        if not isinstance(data, SentenceTaskData):
            raise ConfigError("DepthProbe reads its task from the data: give --data SentenceTaskData")
        self.build(data.task)

    def build(self, task: Task) -> None:
        """The readouts and metrics of ``task`` (once; ``setup`` calls it, before a checkpoint loads).
        Depth k's readout starts from ``seed + k``, so a one-depth run starts it the same way."""
        if self.readouts is not None:
            return
        self.task = task
        readouts = []
        for depth in self.depths:
            with torch.random.fork_rng():
                torch.manual_seed(self.hparams.seed + depth)
                readouts.append(nn.Linear(self.hidden_size, task.num_labels))
        self.readouts = nn.ModuleList(readouts)
        self.val_metrics = nn.ModuleList(
            MetricCollection({m: glue_metric(m, task.num_labels) for m in task.metrics})
            for _ in task.dev_names
            for _ in self.depths
        )

    def run_fields(self) -> dict[str, Any]:
        data = self.trainer.datamodule
        task = getattr(self, "task", None)
        return {
            "task": task.name if task else None,
            "data_dir": data.hparams.data_dir if data is not None else None,
            "num_labels": task.num_labels if task else None,
            "dev_sets": list(task.dev_names) if task else [],
        }

    # -- the encoder, once per batch -------------------------------------------------------------
    def pooled(self, batch: dict[str, Tensor], split: int) -> Tensor:
        """(batch, depths, H) pooled states at every depth; ``split`` -1 = train, i = dev set i."""
        mask, index = batch["attention_mask"], batch["index"].cpu()
        if not self.fixed_encoder:
            return torch.stack(
                [
                    pool(
                        hidden_at_depth(encoder, batch["input_ids"], mask, depth, batch["token_type_ids"]),
                        mask,
                        self.hparams.pooling,
                    )
                    for encoder, depth in zip(self.encoder, self.depths)
                ],
                dim=1,
            )
        cache = self.cache(split)
        if cache is not None and cache.holds(index):
            return cache.read(index).to(self.device)
        wanted = set(self.depths)
        with torch.no_grad():
            states = torch.stack(
                [
                    pool(hidden, mask, self.hparams.pooling)
                    for depth, hidden in hidden_by_depth(
                        self.encoder, batch["input_ids"], mask, self.depths[-1], batch["token_type_ids"]
                    )
                    if depth in wanted
                ],
                dim=1,
            )
        if cache is not None:
            cache.write(index, states)
        return states

    def cache(self, split: int) -> PooledStateCache | None:
        if not (self.hparams.cache_states and self.fixed_encoder):
            return None
        if split not in self.caches:
            data = self.trainer.datamodule
            count = len(data.train_set if split < 0 else data.val_sets[split])
            self.caches[split] = PooledStateCache(count, len(self.depths), self.hidden_size, self.hparams.cache_dir)
        return self.caches[split]

    def outputs(self, states: Tensor) -> list[Tensor]:
        """Each depth's readout of its pooled state: logits, or the regression value."""
        outs = [readout(states[:, i]) for i, readout in enumerate(self.readouts)]
        return [out[:, 0] for out in outs] if self.task.num_labels == 1 else outs

    def loss(self, out: Tensor, labels: Tensor) -> Tensor:
        if self.task.num_labels == 1:
            return nn.functional.mse_loss(out, labels)
        return nn.functional.cross_entropy(out, labels)

    # -- steps -----------------------------------------------------------------------------------
    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        outs = self.outputs(self.pooled(batch, -1))
        loss = sum(self.loss(out, batch["labels"]) for out in outs)  # independent readouts: gradients do not mix
        self.log("train/loss", loss / len(outs), prog_bar=True)
        return loss

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int, dataloader_idx: int = 0) -> None:
        labels = batch["labels"]
        for i, out in enumerate(self.outputs(self.pooled(batch, dataloader_idx))):
            predicted = out if self.task.num_labels == 1 else out.argmax(dim=-1)
            self.val_metrics[dataloader_idx * len(self.depths) + i].update(predicted, labels)

    def on_validation_epoch_end(self) -> None:
        values = {}
        names = self.task.dev_names
        for j, name in enumerate(names):
            suffix = f"_{name}" if len(names) > 1 else ""
            for i, depth in enumerate(self.depths):
                metrics = self.val_metrics[j * len(self.depths) + i]
                for metric, value in metrics.compute().items():
                    values[f"val/{depth_key(depth)}/{metric}{suffix}"] = value
                metrics.reset()
        self.record(values)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam([p for p in self.parameters() if p.requires_grad], lr=self.lr)

    # -- checkpoints and cleanup ---------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if not self.strict_loading:  # a fixed pretrained encoder is reloaded from `model`
            state = checkpoint["state_dict"]
            checkpoint["state_dict"] = {k: v for k, v in state.items() if not k.startswith("encoder.")}

    def teardown(self, stage: str) -> None:
        for cache in self.caches.values():
            cache.close()
        self.caches = {}
