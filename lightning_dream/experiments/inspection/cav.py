"""Concept activation vectors: a linear readout per layer separating two concepts' activations.

``ConceptData`` serves the activations at the concept word (e.g. "he" vs "she" in news
sentences) at every layer; this module trains one logistic readout per requested layer, logs
torchmetrics accuracy on held-out sentences, and writes ``cav.json`` through ``ResultWriter``,
like every run's results: per layer the readout's weight vector normalised to unit length. The
vector points from the first concept (label 0) toward the second (label 1): adding it moves an
activation toward the second concept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback
from torch import Tensor, nn
from torchmetrics.classification import BinaryAccuracy

from lightning_dream.checks import NonNegativeFloat, PositiveFloat, check_arguments
from lightning_dream.data.concepts import ConceptData
from lightning_dream.errors import ConfigError
from lightning_dream.models.loading import load_config
from lightning_dream.models.readout import parse_layers
from lightning_dream.results import CAV_FORMAT, ResultSource, Summary, read_results

CAV_FILE = "cav.json"


class CAV(pl.LightningModule, ResultSource):
    result_format = CAV_FORMAT
    result_rows = None  # one vector per layer, no jobs

    def __init__(
        self,
        model: str = "minilm-l6",
        layers: list[int] | int | Literal["all"] = "all",
        lr: PositiveFloat = 0.01,
        weight_decay: NonNegativeFloat = 1e-4,
        cav_file: str | None = None,
    ):
        """
        Args:
            model: the encoder; must be the data module's model.
            layers: ``all`` (every block output 1..N) or the layers to train a readout at (0 = embeddings).
            lr: Adam learning rate of the readouts.
            weight_decay: L2 penalty on the readout weights.
            cav_file: also write the CAV file here (it is always written into the run folder).
        """
        super().__init__()
        self.save_hyperparameters()
        check_arguments(type(self), self.hparams)
        config = load_config(model)
        self.layers = parse_layers(layers, config.num_hidden_layers)
        hidden = config.hidden_size
        self.weight = nn.Parameter(torch.zeros(len(self.layers), hidden))
        self.bias = nn.Parameter(torch.zeros(len(self.layers)))
        self.heldout_metrics = nn.ModuleList(BinaryAccuracy() for _ in self.layers)
        self.heldout_accuracy: dict[int, float] = {}

    def setup(self, stage: str) -> None:
        data = self.trainer.datamodule
        if not isinstance(data, ConceptData):
            raise ConfigError(
                "CAV needs the ConceptData data module (data: class_path: lightning_dream.data.concepts.ConceptData)"
            )
        if data.hparams.model != self.hparams.model:
            raise ConfigError(f"data.model={data.hparams.model!r} differs from model.model={self.hparams.model!r}")
        self.concepts = list(data.hparams.concepts)

    def logits(self, features: Tensor) -> Tensor:
        """(batch, layers) readout of activations (batch, all layers, H)."""
        return torch.einsum("blh,lh->bl", features[:, self.layers], self.weight) + self.bias

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        features, labels = batch
        logits = self.logits(features)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, labels[:, None].expand_as(logits))
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        features, labels = batch
        logits = self.logits(features)
        for i, layer in enumerate(self.layers):
            self.heldout_metrics[i].update(logits[:, i], labels.long())
            self.log(f"heldout_accuracy/layer_{layer}", self.heldout_metrics[i], on_epoch=True)

    def on_validation_epoch_end(self) -> None:
        self.heldout_accuracy = {layer: float(m.compute()) for layer, m in zip(self.layers, self.heldout_metrics)}

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)

    def configure_callbacks(self) -> list[Callback]:
        from lightning_dream.callbacks import ResultWriter, default_callbacks

        # a user's own ResultWriter replaces this one, its file name and copy included
        return default_callbacks(self._trainer, ResultWriter(CAV_FILE, copy_to=self.hparams.cav_file))

    def result_fields(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        first, second = self.concepts
        vectors = nn.functional.normalize(self.weight.detach().float(), dim=1)
        return {
            "model": self.hparams.model,
            "concepts": [first, second],
            "sign": f"label 0 = {first!r}, label 1 = {second!r}; each vector points toward {second!r}:"
            f" a positive multiple moves an activation toward {second!r}, a negative one toward {first!r}",
            "hidden_size": vectors.shape[1],
            "layers": {
                str(layer): {"heldout_accuracy": self.heldout_accuracy.get(layer), "vector": vector.tolist()}
                for layer, vector in zip(self.layers, vectors)
            },
        }

    def summary_table(self, payload: dict[str, Any]) -> Summary:
        rows = [[layer, entry["heldout_accuracy"]] for layer, entry in payload["layers"].items()]
        return Summary(f"CAV {' vs '.join(payload['concepts'])}", ["layer", "held-out accuracy"], rows)

    def headline(self, payload: dict[str, Any]) -> float | None:
        """Mean held-out accuracy over the layers (the validation metric)."""
        values = [e["heldout_accuracy"] for e in payload["layers"].values() if e["heldout_accuracy"] is not None]
        return sum(values) / len(values) if values else None


@dataclass
class CavFile:
    """A CAV file read back: unit vectors per layer and the concept each sign moves toward."""

    path: str
    model: str
    concepts: tuple[str, str]
    vectors: dict[int, Tensor]

    def check(self, hidden_size: int, layers: list[int], model: str) -> None:
        size = next(iter(self.vectors.values())).shape[0]
        if size != hidden_size:
            raise ConfigError(
                f"cav_file {self.path} has hidden size {size} (model {self.model!r}); {model!r} needs {hidden_size}"
            )
        missing = sorted(set(layers) - set(self.vectors))
        if missing:
            raise ConfigError(
                f"cav_file {self.path} has no vector for layers {missing}: it holds layers {sorted(self.vectors)}"
            )


def load_cav(path: str | Path) -> CavFile:
    payload = read_results(path, CAV_FORMAT)
    vectors = {int(layer): torch.tensor(entry["vector"]) for layer, entry in payload["layers"].items()}
    if not vectors:
        raise ConfigError(f"cav_file {path} holds no layers")
    return CavFile(str(path), payload["model"], tuple(payload["concepts"]), vectors)
