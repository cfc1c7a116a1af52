"""Masked-token accuracy across depth in one run: a fresh MLM head per depth on a fixed encoder.

How much of the vocabulary can be read back after k applications of ALBERT's shared layer? Each
batch runs the frozen encoder once to the deepest depth; every depth's head reads the masked
positions of its own layer (decoder tied to the input embeddings, as BERT's). The heads' losses
add up and never mix. One depth with more options (a checkpoint's own head, tuned top blocks):
``MLMReadout``.

    lightning-dream fit --config configs/mlm_depth_probe.yaml
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics.classification import MulticlassAccuracy

from lightning_dream.checks import Fraction, NonNegativeFloat, PositiveFloat, check_arguments
from lightning_dream.experiments.depth.base import DepthStudy, check_depths, depth_key
from lightning_dream.experiments.depth.mlm_readout import IGNORE
from lightning_dream.models.depth import hidden_by_depth
from lightning_dream.models.loading import load_config, load_encoder
from lightning_dream.models.mlm_head import MLMHead
from lightning_dream.models.schedules import warmup_linear_decay


class MLMDepthProbe(DepthStudy):
    def __init__(
        self,
        model: str = "albert-news-tiny",
        depths: list[int] = [1, 2, 4, 8],
        lr: PositiveFloat = 2e-3,
        weight_decay: NonNegativeFloat = 0.01,
        warmup_fraction: Fraction = 0.06,
        seed: int = 0,
    ):
        """
        Args:
            model: encoder (embedded name, folder or hub name); ALBERT may be iterated past its depth.
            depths: layers read, one fresh MLM head each.
            lr: peak AdamW learning rate of the heads.
            weight_decay: AdamW weight decay of the heads' weight matrices.
            warmup_fraction: share of the steps warming the rate up; then linear decay to zero.
            seed: depth k's head starts from ``seed + k`` (as in a one-depth run).
        """
        super().__init__()
        self.save_hyperparameters()
        check_arguments(type(self), self.hparams)
        config = load_config(model)
        self.depths = check_depths(depths, config)
        self.encoder = load_encoder(model).requires_grad_(False)
        self.strict_loading = False  # the fixed encoder is reloaded from `model`
        heads = []
        for depth in self.depths:
            with torch.random.fork_rng():
                torch.manual_seed(seed + depth)
                heads.append(MLMHead.for_encoder(config, tie_decoder=True))
        self.heads = nn.ModuleList(heads)
        self.val_accuracy = nn.ModuleList(
            MulticlassAccuracy(config.vocab_size, average="micro", ignore_index=IGNORE) for _ in self.depths
        )

    def encoders(self) -> list[nn.Module]:
        return [self.encoder]

    def run_fields(self) -> dict[str, Any]:
        data = self.trainer.datamodule if self._trainer is not None else None
        return {"corpus": data.hparams.corpus if data is not None else None}

    def masked_logits(self, batch: dict[str, Tensor]) -> tuple[list[Tensor], Tensor]:
        """Every depth's logits at the positions selected for prediction, and their labels."""
        input_ids, labels = batch["input_ids"], batch["labels"]
        mask = batch.get("attention_mask", torch.ones_like(input_ids))
        selected, wanted = labels != IGNORE, set(self.depths)
        with torch.no_grad():
            states = [
                h[selected] for d, h in hidden_by_depth(self.encoder, input_ids, mask, self.depths[-1]) if d in wanted
            ]
        embeddings = self.encoder.get_input_embeddings().weight
        return [head(state, embeddings) for head, state in zip(self.heads, states)], labels[selected]

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        logits, labels = self.masked_logits(batch)
        loss = sum(nn.functional.cross_entropy(out, labels) for out in logits)
        self.log("train/loss", loss / len(logits), prog_bar=True)
        return loss

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        logits, labels = self.masked_logits(batch)
        for metric, out in zip(self.val_accuracy, logits):
            metric.update(out, labels)

    def on_validation_epoch_end(self) -> None:
        values = {}
        for depth, metric in zip(self.depths, self.val_accuracy):
            values[f"val/{depth_key(depth)}/accuracy"] = metric.compute()
            metric.reset()
        self.record(values)

    def configure_optimizers(self) -> dict[str, Any]:
        decay = [p for p in self.heads.parameters() if p.ndim >= 2]
        no_decay = [p for p in self.heads.parameters() if p.ndim < 2]
        groups = [
            {"params": decay, "weight_decay": self.hparams.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        optimizer = torch.optim.AdamW(groups, lr=self.hparams.lr)
        steps = int(self.trainer.estimated_stepping_batches)
        scheduler = warmup_linear_decay(optimizer, steps, self.hparams.warmup_fraction)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint["state_dict"]
        checkpoint["state_dict"] = {k: v for k, v in state.items() if not k.startswith("encoder.")}
