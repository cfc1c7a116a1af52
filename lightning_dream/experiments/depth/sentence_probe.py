"""Sentence-task probe at a depth: a fresh linear readout on the pooled state after ``depth`` layers.

How much of a sentence task can be read from the iterated ALBERT after 1, 10, 100 steps? The
encoder runs through ``hidden_at_depth`` (ALBERT: its shared layer ``depth`` times).
``fix_encoder`` trains the readout only; ``init_model`` re-initialises the encoder first (a
random-weights baseline). Metrics follow the task type: accuracy, F1 and Matthews correlation
for classification, Pearson and Spearman for regression.

    lightning-dream fit --model SentenceProbe --data SentenceTaskData ...   # one depth
    lightning-dream sentence-probe-sweep --config configs/sentence_probe_sweep.yaml
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal

import pytorch_lightning as pl
import torch
from rich.progress import track
from torch import Tensor, nn
from torchmetrics import MetricCollection
from torchmetrics.classification import BinaryF1Score, MulticlassAccuracy, MulticlassF1Score, MulticlassMatthewsCorrCoef
from torchmetrics.regression import PearsonCorrCoef, SpearmanCorrCoef
from transformers import AutoModel

from lightning_dream.data.sentence_tasks import PooledFeatureData, SentenceTaskData
from lightning_dream.errors import ConfigError, check_positive
from lightning_dream.experiments.depth.sweep import check_depths, final_metrics, run_depth_sweep, trainer_for_depth
from lightning_dream.models.depth import check_depth, hidden_at_depth, hidden_by_depth
from lightning_dream.models.loading import load_config, load_encoder


def pool(hidden: Tensor, attention_mask: Tensor, pooling: str) -> Tensor:
    """(batch, H) readout input: the mean of the real tokens' states, or the [CLS] state."""
    if pooling == "cls":
        return hidden[:, 0]
    weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1)


def task_metrics(num_labels: int) -> MetricCollection:
    if num_labels == 1:
        return MetricCollection({"pearson": PearsonCorrCoef(), "spearman": SpearmanCorrCoef()})
    f1 = BinaryF1Score() if num_labels == 2 else MulticlassF1Score(num_labels, average="macro")
    return MetricCollection(
        {
            "accuracy": MulticlassAccuracy(num_labels, average="micro"),
            "f1": f1,
            "matthews": MulticlassMatthewsCorrCoef(num_labels),
        }
    )


class SentenceProbe(pl.LightningModule):
    def __init__(
        self,
        model: str = "albert-news-tiny",
        depth: int | None = None,
        num_labels: int = 2,
        fix_encoder: bool = True,
        init_model: bool = False,
        lr: float | None = None,
        pooling: Literal["mean", "cls"] = "mean",
        seed: int = 42,
    ):
        """
        Args:
            model: encoder (embedded name, folder or hub name); ALBERT may be iterated past its depth.
            depth: layer read (k blocks / k applications of ALBERT's layer); None = the model's depth.
            num_labels: classes, or 1 for a regression task (STS-B).
            fix_encoder: train the readout only (the encoder is a fixed feature extractor).
            init_model: re-initialise the encoder's weights before training (random baseline).
            lr: Adam learning rate; default 1e-3 with a fixed encoder, 1e-6 when fine-tuning it.
            pooling: what the readout sees: ``mean`` of the real tokens' states, or the ``cls``
                state. A model pretrained by masked LM alone (albert-news-tiny: no
                sentence-order task, no pooler) never trains [CLS] to summarise the sentence; a
                linear readout of it predicted one class at every depth.
            seed: seed of the readout (and re-initialised encoder).
        """
        super().__init__()
        self.save_hyperparameters()
        config = load_config(model)
        self.depth = config.num_hidden_layers if depth is None else depth
        check_depth(self.depth, config)
        if num_labels < 1:
            raise ConfigError(f"num_labels={num_labels} must be >= 1 (1 = regression)")
        self.lr = lr if lr is not None else (1e-3 if fix_encoder else 1e-6)
        check_positive("lr", self.lr)
        self.encoder = load_encoder(model)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            if init_model:  # fresh weights of the same architecture (init_weights skips loaded modules)
                self.encoder.load_state_dict(AutoModel.from_config(config).state_dict())
            self.readout = nn.Linear(config.hidden_size, num_labels)
        self.encoder.requires_grad_(not fix_encoder)
        self.train_metrics = task_metrics(num_labels).clone(prefix="train/")
        self.val_metrics = task_metrics(num_labels).clone(prefix="val/")

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.hparams.fix_encoder):
            hidden = hidden_at_depth(self.encoder, input_ids, attention_mask, self.depth)
        return self.head(pool(hidden, attention_mask, self.hparams.pooling))

    def head(self, features: Tensor) -> Tensor:
        """Logits (or the regression value) from pooled states (batch, H)."""
        out = self.readout(features)
        return out[:, 0] if self.hparams.num_labels == 1 else out

    def _step(self, batch: dict[str, Tensor], metrics: MetricCollection, stage: str) -> Tensor:
        # a sweep with a fixed encoder hands in the pooled states it computed once for every depth
        out = self.head(batch["features"]) if "features" in batch else self(batch["input_ids"], batch["attention_mask"])
        labels = batch["labels"]
        if self.hparams.num_labels == 1:
            loss = nn.functional.mse_loss(out, labels)
            metrics.update(out, labels)
        else:
            loss = nn.functional.cross_entropy(out, labels)
            metrics.update(out.argmax(dim=-1), labels)
        self.log(f"{stage}/loss", loss, prog_bar=True, on_step=stage == "train", on_epoch=True)
        return loss

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, self.train_metrics, "train")

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._step(batch, self.val_metrics, "val")

    def on_train_epoch_end(self) -> None:
        self.log_dict(self.train_metrics.compute())
        self.train_metrics.reset()

    def on_validation_epoch_end(self) -> None:
        computed = self.val_metrics.compute()
        self.log_dict(computed, prog_bar=True)
        self.log("hp_metric", next(iter(computed.values())))  # the headline: the task's first metric
        self.val_metrics.reset()

    def configure_callbacks(self) -> list[pl.Callback]:
        from lightning_dream.callbacks.progress import progress_bar

        return progress_bar(self._trainer)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam([p for p in self.parameters() if p.requires_grad], lr=self.lr)

    def train(self, mode: bool = True) -> SentenceProbe:
        """A fixed encoder stays in eval mode (no dropout)."""
        super().train(mode)
        if self.hparams.fix_encoder:
            self.encoder.eval()
        return self

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if self.hparams.fix_encoder and not self.hparams.init_model:  # reloaded from `model`
            checkpoint["state_dict"] = {
                k: v for k, v in checkpoint["state_dict"].items() if not k.startswith("encoder.")
            }


class PooledFeatureCache:
    """A fixed encoder's pooled states of every example at every depth of a sweep, computed on first
    use in each process by one pass to the deepest depth. Without it each depth k runs the encoder
    k times per example and epoch: depths 1..100 cost 5,050 layer applications per example and
    epoch instead of 100. Memory: examples x hidden size x depths x 4 bytes per process."""

    def __init__(self, model: str, data: SentenceTaskData, depths: list[int], pooling: str):
        self.model, self.data, self.depths, self.pooling = model, data, depths, pooling
        self.features: dict[str, tuple[dict[int, Tensor], Tensor]] | None = None

    @torch.no_grad()
    def _split(self, encoder: nn.Module, split: str) -> tuple[dict[int, Tensor], Tensor]:
        loader = self.data.ordered(split)
        count, hidden_size = len(loader.dataset), encoder.config.hidden_size
        # allocated once: small results kept between the passes' large temporaries fragmented the
        # heap (resident memory grew ~15 MB/s on rotten-tomatoes at 100 steps)
        features = {d: torch.empty(count, hidden_size) for d in self.depths}
        labels, start = [], 0
        description = f"{split} states at depths {min(self.depths)}..{max(self.depths)}"
        for batch in track(loader, description=description, total=len(loader), transient=True):
            mask, end = batch["attention_mask"], start + len(batch["labels"])
            for depth, hidden in hidden_by_depth(encoder, batch["input_ids"], mask, max(self.depths)):
                if depth in features:
                    features[depth][start:end] = pool(hidden, mask, self.pooling)
            labels.append(batch["labels"])
            start = end
        return features, torch.cat(labels)

    def at(self, depth: int) -> PooledFeatureData:
        if self.features is None:
            encoder = load_encoder(self.model).eval()
            self.features = {split: self._split(encoder, split) for split in ("train", "validation")}
        (train, train_labels), (val, val_labels) = self.features["train"], self.features["validation"]
        return PooledFeatureData(
            {"features": train[depth], "labels": train_labels},
            {"features": val[depth], "labels": val_labels},
            self.data.hparams.batch_size,
            self.data.hparams.seed,
        )


def _train_probe(
    depth: int,
    folder: Path,
    probe: dict[str, Any],
    data: SentenceTaskData,
    epochs: int,
    features: PooledFeatureCache | None = None,
) -> dict[str, Any]:
    trainer = trainer_for_depth(folder, epochs)
    datamodule = data if features is None else features.at(depth)
    trainer.fit(SentenceProbe(depth=depth, num_labels=data.num_labels, **probe), datamodule=datamodule)
    return final_metrics(trainer)


def sentence_probe_sweep(
    depths: list[int] = list(range(1, 101)),
    model: str = "albert-news-tiny",
    task: str = "rotten-tomatoes",
    fix_encoder: bool = True,
    init_model: bool = False,
    epochs: int | None = None,
    lr: float | None = None,
    pooling: Literal["mean", "cls"] = "mean",
    max_length: int = 64,
    batch_size: int = 8,
    max_train: int | None = None,
    max_validation: int | None = None,
    text_columns: list[str] | None = None,
    label_column: str | None = None,
    num_labels: int | None = None,
    seed: int = 42,
    devices: int = 1,
    output: str = "runs/sentence_probe_depth",
    cache_features: bool = True,
) -> list[dict[str, Any]]:
    """A sentence-task probe trained at every depth; validation metrics per depth in one table and plot.

    Args:
        depths: depths (ALBERT: applications of the shared layer; the study: 1..100).
        model: encoder (embedded name, folder or hub name).
        task: ``rotten-tomatoes`` (offline), a GLUE name, a GLUE folder or a CSV/TSV file.
        fix_encoder: train the readout only.
        init_model: re-initialise the encoder before training.
        epochs: epochs per depth; default 3 (10 for regression tasks).
        lr: learning rate; default 1e-3 with a fixed encoder, 1e-6 fine-tuning.
        pooling: readout input: ``mean`` of the real tokens' states or the ``cls`` state.
        max_length: tokens per example.
        batch_size: examples per batch.
        max_train: use only the first N training examples (quick runs).
        max_validation: use only the first N validation examples.
        text_columns: text column(s) of a local file.
        label_column: label column of a local file.
        num_labels: classes (1 = regression) of a local file.
        seed: seed of the split, the readout and the data order.
        devices: worker processes; depths are sharded across them.
        output: folder of the table (sweep.json, sweep.csv, sweep.png) and the per-depth runs.
        cache_features: with a fixed, not re-initialised encoder, compute every example's pooled
            state at all depths in one pass and train each depth's readout on those
            (``PooledFeatureCache``; the same numbers up to float rounding, a fraction of the time).
    """
    config = dict(locals())
    check_depths(depths)
    data = SentenceTaskData(
        task=task,
        tokenizer=model,
        text_columns=text_columns,
        label_column=label_column,
        num_labels=num_labels,
        max_length=max_length,
        batch_size=batch_size,
        max_train=max_train,
        max_validation=max_validation,
        seed=seed,
    )
    data.setup()
    probe = {
        "model": model,
        "fix_encoder": fix_encoder,
        "init_model": init_model,
        "lr": lr,
        "pooling": pooling,
        "seed": seed,
    }
    SentenceProbe(depth=max(depths), num_labels=data.num_labels, **probe)  # bad settings fail before any training
    epochs = epochs or (10 if data.num_labels == 1 else 3)
    cached = cache_features and fix_encoder and not init_model
    features = PooledFeatureCache(model, data, depths, pooling) if cached else None
    train_one = functools.partial(_train_probe, probe=probe, data=data, epochs=epochs, features=features)
    metric = "val/pearson" if data.num_labels == 1 else "val/accuracy"
    return run_depth_sweep(depths, train_one, output, devices, config, metric)
