"""Masked-LM pretraining from scratch of any transformers config (ALBERT, BERT, ...).

No registry package ships ALBERT weights, so the project trains its own: a fresh model from a
config (``model_type`` + overrides), the bert-base-uncased word pieces of the embedded
``minilm-l6`` (no sentencepiece model needed), data from ``MaskedTextData`` (BERT masking),
AdamW with linear warm-up and linear decay. ``export_pretrained`` turns a checkpoint into a
Hugging Face folder (half precision) that ``AutoModelForMaskedLM`` / ``AutoModel`` load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor, nn
from torchmetrics.classification import MulticlassAccuracy
from transformers import AutoConfig, AutoModelForMaskedLM, PretrainedConfig, PreTrainedModel

from lightning_dream.checks import Fraction, NonNegativeFloat, PositiveFloat, check_arguments
from lightning_dream.errors import ConfigError
from lightning_dream.models.loading import load_tokenizer
from lightning_dream.models.schedules import warmup_linear_decay


def build_config(architecture: str, tokenizer: str, overrides: dict[str, Any]) -> PretrainedConfig:
    """A config of ``architecture`` sized by ``overrides``, its vocabulary and special ids from ``tokenizer``."""
    tok = load_tokenizer(tokenizer)
    special = {
        "vocab_size": len(tok),
        "pad_token_id": tok.pad_token_id,
        "bos_token_id": tok.cls_token_id,
        "eos_token_id": tok.sep_token_id,
    }
    try:
        return AutoConfig.for_model(architecture, **{**special, **overrides})
    except ValueError as err:
        raise ConfigError(f"architecture={architecture!r} is not a transformers model type ({err})") from None


def masked_lm_head(model: PreTrainedModel) -> nn.Module | None:
    """The module mapping hidden states to vocabulary logits, when it is the model's only other child.

    Scoring only the masked positions (15%) instead of every position saves most of the cost
    of the 30k-way output layer on CPU.
    """
    heads = [module for name, module in model.named_children() if name != model.base_model_prefix]
    return heads[0] if len(heads) == 1 else None


class MaskedLMPretraining(pl.LightningModule):
    def __init__(
        self,
        architecture: str = "albert",
        config_overrides: dict[str, Any] | None = None,
        tokenizer: str = "minilm-l6",
        lr: PositiveFloat = 1e-3,
        weight_decay: NonNegativeFloat = 0.01,
        warmup_fraction: Fraction = 0.06,
        seed: int = 0,
    ):
        """
        Args:
            architecture: transformers ``model_type`` (``albert``, ``bert``, ...).
            config_overrides: config fields (hidden_size, num_hidden_layers, ...); vocabulary and
                special token ids come from ``tokenizer``.
            tokenizer: model name whose word pieces the new model uses.
            lr: peak AdamW learning rate.
            weight_decay: AdamW weight decay (not on biases and LayerNorm weights).
            warmup_fraction: share of the optimisation steps spent warming the rate up linearly;
                it then decays linearly to zero at the last step.
            seed: seed of the weight initialisation.
        """
        super().__init__()
        self.save_hyperparameters()
        check_arguments(type(self), self.hparams)
        self.config = build_config(architecture, tokenizer, dict(config_overrides or {}))
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.model = AutoModelForMaskedLM.from_config(self.config)
        self.head = masked_lm_head(self.model)
        self.train_accuracy = MulticlassAccuracy(self.config.vocab_size, average="micro", ignore_index=-100)
        self.val_accuracy = MulticlassAccuracy(self.config.vocab_size, average="micro", ignore_index=-100)

    def masked_logits(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """(logits, labels) at the positions selected for prediction only."""
        labels = batch["labels"]
        selected = labels != -100
        if self.head is None:
            logits = self.model(input_ids=batch["input_ids"], attention_mask=batch.get("attention_mask")).logits
            return logits[selected], labels[selected]
        hidden = self.model.base_model(
            input_ids=batch["input_ids"], attention_mask=batch.get("attention_mask")
        ).last_hidden_state
        return self.head(hidden[selected]), labels[selected]

    def _step(self, batch: dict[str, Tensor], stage: str, accuracy: MulticlassAccuracy) -> Tensor:
        logits, labels = self.masked_logits(batch)
        loss = nn.functional.cross_entropy(logits.float(), labels)
        accuracy(logits, labels)
        on_step = stage == "train"
        self.log(f"{stage}/loss", loss, prog_bar=True, on_step=on_step, on_epoch=not on_step)
        self.log(f"{stage}/accuracy", accuracy, prog_bar=True, on_step=on_step, on_epoch=not on_step)
        return loss

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, "train", self.train_accuracy)

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._step(batch, "val", self.val_accuracy)
        self.log("hp_metric", self.val_accuracy, on_step=False, on_epoch=True)  # the headline

    def configure_callbacks(self) -> list[pl.Callback]:
        from lightning_dream.callbacks.defaults import default_callbacks

        return default_callbacks(self._trainer)  # no result file (the checkpoint is the result): the bar alone

    def configure_optimizers(self) -> dict[str, Any]:
        decay, no_decay = [], []
        for name, param in self.model.named_parameters():
            (no_decay if param.ndim < 2 else decay).append(param)
        optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": self.hparams.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=self.hparams.lr,
        )
        scheduler = warmup_linear_decay(
            optimizer, int(self.trainer.estimated_stepping_batches), self.hparams.warmup_fraction
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def export_pretrained(checkpoint: str, output_dir: str, half: bool = True) -> str:
    """Write a pretraining checkpoint as a Hugging Face folder (config, safetensors, tokenizer).

    Args:
        checkpoint: a ``.ckpt`` written while training ``MaskedLMPretraining``.
        output_dir: folder to create (loadable by ``AutoModelForMaskedLM.from_pretrained``).
        half: store float16 weights (half the size of float32); config.json still says float32,
            so ``from_pretrained`` upcasts them unless asked otherwise.
    """
    if not Path(checkpoint).is_file():
        raise ConfigError(f"checkpoint {checkpoint!r} does not exist")
    module = MaskedLMPretraining.load_from_checkpoint(checkpoint, map_location="cpu")
    model = module.model.half() if half else module.model
    model.save_pretrained(output_dir)
    model.config.dtype = torch.float32  # the default dtype of loaders that do not ask: compute in float32
    model.config.save_pretrained(output_dir)
    load_tokenizer(module.hparams.tokenizer).save_pretrained(output_dir)
    return output_dir
