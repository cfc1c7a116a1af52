"""MLM readout: train a BERT-style masked-LM head on an encoder's hidden states at any depth.

How much of the vocabulary can be read back from layer k? The trainable parameters are the
head's (``MLMHead``; the encoder too if ``freeze_encoder: false``, or only its top blocks with
``train_top_blocks``). Data come from
``MaskedTextData`` (real text, BERT masking 15%, 80/10/10); loss and masked-token accuracy go
to TensorBoard. ``export_mlm_head`` stores the trained head (and any tuned top blocks) alone,
the form in which ``minilm-l6-mlm`` ships inside the package.

The encoder runs only through ``hidden_at_depth``, so ALBERT iterated past its trained depth
works the same way as a BERT-like encoder cut at a block.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor, nn
from torchmetrics.classification import MulticlassAccuracy
from transformers import AutoModelForMaskedLM, PreTrainedModel
from transformers.utils import logging as hf_logging

from lightning_dream.checks import Fraction, NonNegativeFloat, NonNegativeInt, PositiveFloat, check_arguments
from lightning_dream.errors import ConfigError, check_range
from lightning_dream.models.depth import check_depth, hidden_at_depth
from lightning_dream.models.embedded_heads import save_tuned_blocks
from lightning_dream.models.loading import load_config, resolve_model
from lightning_dream.models.mlm_head import MLMHead
from lightning_dream.models.readout import block_list
from lightning_dream.models.schedules import warmup_linear_decay

IGNORE = -100  # label of positions not selected for prediction (transformers' convention)


def load_with_head(name: str) -> tuple[PreTrainedModel, bool]:
    """(masked-LM model, whether the checkpoint held trained head weights), quietly.

    Encoder-only checkpoints (minilm-l6) load into the ``*ForMaskedLM`` class with a freshly
    initialised head; the missing keys tell the two cases apart.
    """
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model, info = AutoModelForMaskedLM.from_pretrained(resolve_model(name), output_loading_info=True)
    finally:
        hf_logging.set_verbosity(verbosity)
    prefix = model.base_model_prefix + "."
    return model, not any(not key.startswith(prefix) for key in info["missing_keys"])


class MLMReadout(pl.LightningModule):
    def __init__(
        self,
        model: str = "minilm-l6",
        depth: NonNegativeInt | None = None,
        freeze_encoder: bool = True,
        train_top_blocks: NonNegativeInt = 0,
        init_readout: bool = False,
        tie_decoder: bool = True,
        lr: PositiveFloat = 2e-3,
        encoder_lr: PositiveFloat = 2e-5,
        weight_decay: NonNegativeFloat = 0.01,
        warmup_fraction: Fraction = 0.06,
        prior_bias: bool = True,
        seed: int = 0,
    ):
        """
        Args:
            model: encoder (embedded name, local folder or hub name).
            depth: layer whose hidden states the head reads (0 = embedding output, k = block k;
                None = the model's full depth). ALBERT may be iterated past its trained depth.
            freeze_encoder: train the head only (the encoder runs without gradients, in eval
                mode, and is left out of checkpoints).
            train_top_blocks: with a frozen encoder, still fine-tune its top N blocks below the
                readout (blocks depth-N+1..depth) at ``encoder_lr``: an encoder whose last layers
                were trained for another objective (all-MiniLM's sentence embeddings keep little
                of a [MASK]'s context) must learn to carry word identity again. Only those blocks
                go into checkpoints and exports. Not for ALBERT (its layer is shared).
            init_readout: start the head from scratch even when the checkpoint has a trained
                one (e.g. splade-tiny); a checkpoint without one always starts from scratch.
            tie_decoder: decode with the encoder's input embeddings (BERT's choice) instead of a
                vocabulary matrix of the head's own.
            lr: peak AdamW learning rate of the head.
            encoder_lr: AdamW learning rate of the encoder (``freeze_encoder: false``) or of its
                top blocks (``train_top_blocks``).
            weight_decay: AdamW weight decay of weight matrices (not biases, LayerNorm).
            warmup_fraction: share of the steps warming the rate up linearly; it then decays
                linearly to zero at the last step.
            prior_bias: start a fresh head's output bias at the log-frequency of each token in
                the training blocks, so the first steps need not learn the unigram distribution.
            seed: seed of a fresh head's initialisation.
        """
        super().__init__()
        self.save_hyperparameters()
        check_arguments(type(self), self.hparams)
        config = load_config(model)
        self.depth = config.num_hidden_layers if depth is None else depth
        check_depth(self.depth, config, minimum=0)
        if train_top_blocks and config.model_type == "albert":
            raise ConfigError(
                "train_top_blocks needs separate blocks: ALBERT shares one layer (use freeze_encoder: false)"
            )
        check_range("train_top_blocks", train_top_blocks, 0, self.depth)

        masked_lm, has_head = load_with_head(model)
        self.encoder = masked_lm.base_model
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.head = MLMHead.for_encoder(config, tie_decoder=tie_decoder)
        self.head_from_checkpoint = has_head and not init_readout
        if self.head_from_checkpoint:
            self.head.load_from_masked_lm(masked_lm)
        if freeze_encoder:
            self.encoder.requires_grad_(False)
            if train_top_blocks:
                owner, attribute = block_list(self.encoder)
                getattr(owner, attribute)[self.depth - train_top_blocks : self.depth].requires_grad_(True)
        vocab = config.vocab_size
        self.train_accuracy = MulticlassAccuracy(vocab, average="micro", ignore_index=IGNORE)
        self.val_accuracy = MulticlassAccuracy(vocab, average="micro", ignore_index=IGNORE)
        self.val_top5 = MulticlassAccuracy(vocab, top_k=5, average="micro", ignore_index=IGNORE)

    def on_fit_start(self) -> None:
        blocks = getattr(self.trainer.datamodule, "train_blocks", None)
        if (
            self.hparams.prior_bias
            and not self.head_from_checkpoint
            and blocks is not None
            and self.trainer.global_step == 0
        ):
            counts = torch.bincount(blocks.flatten(), minlength=self.head.bias.numel()).float()
            with torch.no_grad():
                self.head.bias.copy_((counts + 1).log() - (counts + 1).sum().log())

    @property
    def encoder_trains(self) -> bool:
        return any(p.requires_grad for p in self.encoder.parameters())

    def tuned_encoder_keys(self) -> set[str]:
        """Checkpoint keys of the encoder parameters that train (all of them if unfrozen)."""
        return {f"encoder.{name}" for name, p in self.encoder.named_parameters() if p.requires_grad}

    def train(self, mode: bool = True) -> MLMReadout:
        """A frozen encoder stays in eval mode (no dropout), tuned top blocks included: it is a
        fixed feature extractor with a few blocks adapted, not a model being pretrained."""
        super().train(mode)
        if self.hparams.freeze_encoder:
            self.encoder.eval()
        return self

    def masked_logits(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """(logits, labels) at the positions selected for prediction only (15% of tokens):
        the 30k-way decoder is the costly part, so it never sees the other 85%."""
        input_ids, labels = batch["input_ids"], batch["labels"]
        mask = batch.get("attention_mask", torch.ones_like(input_ids))
        with torch.set_grad_enabled(torch.is_grad_enabled() and self.encoder_trains):
            hidden = hidden_at_depth(self.encoder, input_ids, mask, self.depth)
        selected = labels != IGNORE
        embeddings = self.encoder.get_input_embeddings().weight
        return self.head(hidden[selected], embeddings), labels[selected]

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        logits, labels = self.masked_logits(batch)
        loss = nn.functional.cross_entropy(logits, labels)
        self.train_accuracy(logits, labels)
        self.log("train/loss", loss, prog_bar=True)
        self.log("train/accuracy", self.train_accuracy, prog_bar=True)
        return loss

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        logits, labels = self.masked_logits(batch)
        self.val_accuracy(logits, labels)
        self.val_top5(logits, labels)
        self.log("val/loss", nn.functional.cross_entropy(logits, labels), prog_bar=True)
        self.log("val/accuracy", self.val_accuracy, prog_bar=True)
        self.log("val/top5_accuracy", self.val_top5)
        self.log("hp_metric", self.val_accuracy)  # the headline: held-out masked-token accuracy

    def configure_callbacks(self) -> list[pl.Callback]:
        from lightning_dream.callbacks.defaults import default_callbacks

        return default_callbacks(self._trainer)  # no result file (the checkpoint is the result): the bar alone

    def configure_optimizers(self) -> dict[str, Any]:
        decay = [p for p in self.head.parameters() if p.ndim >= 2]
        no_decay = [p for p in self.head.parameters() if p.ndim < 2]
        groups = [
            {"params": decay, "weight_decay": self.hparams.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        if self.encoder_trains:
            encoder = [p for p in self.encoder.parameters() if p.requires_grad]
            groups.append({"params": encoder, "lr": self.hparams.encoder_lr, "weight_decay": self.hparams.weight_decay})
        optimizer = torch.optim.AdamW(groups, lr=self.hparams.lr)
        scheduler = warmup_linear_decay(
            optimizer, int(self.trainer.estimated_stepping_batches), self.hparams.warmup_fraction
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if self.hparams.freeze_encoder:  # the frozen part is reloaded from `model`
            keep = self.tuned_encoder_keys()
            checkpoint["state_dict"] = {
                k: v for k, v in checkpoint["state_dict"].items() if not k.startswith("encoder.") or k in keep
            }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if self.hparams.freeze_encoder:  # put back the frozen part just loaded from `model`
            state = checkpoint["state_dict"]
            state.update(
                {f"encoder.{k}": v for k, v in self.encoder.state_dict().items() if f"encoder.{k}" not in state}
            )


def export_mlm_head(checkpoint: str, output_dir: str, note: str = "") -> str:
    """Store the head of an ``MLMReadout`` checkpoint alone (safetensors + config.json), with
    its tuned top blocks if it trained some (half precision, applied over the encoder on load).

    Args:
        checkpoint: a ``.ckpt`` written while training ``MLMReadout``.
        output_dir: folder to write (e.g. ``lightning_dream/embedded/minilm-l6-mlm``).
        note: free text kept in config.json (how it was trained, its accuracy).
    """
    if not Path(checkpoint).is_file():
        raise ConfigError(f"checkpoint {checkpoint!r} does not exist")
    module = MLMReadout.load_from_checkpoint(checkpoint, map_location="cpu")
    if not module.hparams.freeze_encoder:
        raise ConfigError(f"{checkpoint} fine-tuned its encoder: a head alone cannot reproduce it")
    module.head.save(output_dir, encoder=module.hparams.model, depth=module.depth, note=note)
    tuned = {name: p for name, p in module.encoder.named_parameters() if p.requires_grad}
    if tuned:
        save_tuned_blocks(output_dir, tuned)
    return output_dir
