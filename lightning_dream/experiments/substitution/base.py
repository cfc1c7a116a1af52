"""Put other tokens at one position of a sentence and read a target: the base of token search
and similar embeddings (``lightning-dream predict``).

A subclass says which token ids to try (``candidates``) and how to report them
(``job_results``); this base validates the inputs, scores candidates in batches with the
position readout (only the blocks the target needs, the first block's shared work done once),
and merges the scores of every process.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback
from torch import Tensor
from torch.utils.data import DataLoader
from transformers import PreTrainedModel

from lightning_dream.checks import PositiveInt, check_arguments
from lightning_dream.data.batches import sharded_loader
from lightning_dream.errors import ConfigError, check_range
from lightning_dream.models.loading import load_config_and_tokenizer, load_encoder
from lightning_dream.models.position_readout import substituted_at_position
from lightning_dream.models.readout import ActivationTarget
from lightning_dream.results import ResultSource, Summary
from lightning_dream.strategies import gather_to_rank_zero
from lightning_dream.tokenization import tokenize_sentence


class SubstitutionExperiment(pl.LightningModule, ResultSource):
    #: independent jobs: on several devices the CLI gives them job sharding (``strategies.job_strategy``)
    independent_jobs: ClassVar[bool] = True

    def __init__(
        self,
        model: str = "minilm-l6",
        sentence: str = "i hate kickshaws .",
        change_word: int = 2,
        layer_id: int = 2,
        neuron_ids: list[int] | int | None = 314,
        word_id: int | None = None,
        target: Literal["neuron", "word"] = "neuron",
        reduction: Literal["mean", "norm"] = "mean",
        top_k: PositiveInt = 10,
        batch_size: PositiveInt = 1024,
    ):
        """
        Args:
            model: embedded name (``minilm-l6``), local folder or hub name of the encoder.
            sentence: the sentence whose token at ``change_word`` is replaced.
            change_word: position of the replaced token ([CLS] = 0; words are 1..L-2).
            layer_id: 0 = embedding output, k = output of block k.
            neuron_ids: hidden unit(s) read (``target: neuron``); each is one job.
            word_id: position the target is read at (default: ``change_word``).
            target: one neuron, or the word's whole vector reduced to one number.
            reduction: how a word vector becomes one number (mean or L2 norm).
            top_k: how many tokens to report.
            batch_size: substituted sentences per forward pass.
        """
        super().__init__()
        self.save_hyperparameters()
        check_arguments(type(self), self.hparams)
        self.model_name = model
        self.config, self.tokenizer = load_config_and_tokenizer(model)
        self.input_ids = torch.tensor(tokenize_sentence(self.tokenizer, sentence, self.config.max_position_embeddings))
        check_range("change_word", change_word, 1, len(self.input_ids) - 2)
        self.word_id = change_word if word_id is None else word_id
        if isinstance(neuron_ids, int):
            neuron_ids = [neuron_ids]
        if target == "neuron" and not neuron_ids:
            raise ConfigError("target 'neuron' needs neuron_ids (a list of hidden units)")
        self.neuron_ids: list[int | None] = list(neuron_ids) if target == "neuron" else [None]
        for neuron in self.neuron_ids:
            ActivationTarget(layer_id, self.word_id, neuron).validate(
                self.config.num_hidden_layers, self.config.hidden_size, len(self.input_ids)
            )
        check_range("top_k", top_k, 1, self.max_top_k)
        self.original_id = int(self.input_ids[change_word])
        self.encoder: PreTrainedModel | None = None
        self.values: Tensor | None = None

    # -- what subclasses provide -------------------------------------------------------------
    @property
    def max_top_k(self) -> int:
        return self.config.vocab_size

    def candidates(self) -> Tensor:
        """Token ids to put at ``change_word`` (the original token among them)."""
        raise NotImplementedError

    def job_results(self) -> dict[int, dict[str, Any]]:
        """Every job's row, on rank 0 (the scores of every rank are merged first)."""
        raise NotImplementedError

    # -- scoring -----------------------------------------------------------------------------
    def configure_model(self) -> None:
        if self.encoder is None:
            self.encoder = load_encoder(self.model_name)

    def configure_callbacks(self) -> list[Callback]:
        from lightning_dream.callbacks import ResultWriter, default_callbacks

        return default_callbacks(self._trainer, ResultWriter())

    def scores(self, candidates: Tensor) -> Tensor:
        """(B, jobs): every job's target value with each candidate token at ``change_word``."""
        ids = self.input_ids.to(candidates.device)
        vectors = substituted_at_position(
            self.encoder, ids, self.hparams.change_word, candidates, self.hparams.layer_id, self.word_id
        )
        layer, reduction = self.hparams.layer_id, self.hparams.reduction
        targets = [ActivationTarget(layer, self.word_id, neuron, reduction) for neuron in self.neuron_ids]
        return torch.stack([target.reduce(vectors) for target in targets], -1)

    def predict_dataloader(self) -> DataLoader:
        return sharded_loader(self.candidates().split(self.hparams.batch_size))

    def on_predict_start(self) -> None:
        self.values = torch.full((self.config.vocab_size, len(self.neuron_ids)), float("nan"))

    def predict_step(self, batch: Tensor, batch_idx: int) -> None:
        self.values[batch.cpu()] = self.scores(batch.to(self.device)).float().cpu()

    def merged_values(self) -> Tensor:
        """(V, jobs) scores of every process's candidates (NaN: a token not tried)."""
        parts = torch.stack(gather_to_rank_zero(self.values))
        return parts.nan_to_num(float("-inf")).amax(0).where(~parts.isnan().all(0), float("nan"))

    # -- results -----------------------------------------------------------------------------
    #: the row field listing the tokens found, shown in the summary table
    summary_field: ClassVar[str] = "top"

    def summary_table(self, payload: dict[str, Any]) -> Summary:
        """Per job: the original token's value and the top tokens found."""
        rows = [
            [
                j["job"],
                j["neuron_id"] if j["neuron_id"] is not None else j["target"],
                f"{j['original']['token']} {j['original']['activation']:.3g}",
                ", ".join(f"{t['token']} {t['activation']:.3g}" for t in j[self.summary_field][:5]),
            ]
            for j in payload["jobs"][:20]
        ]
        columns = ["job", "neuron", "original", f"{self.summary_field} 5 (activation)"]
        return Summary(f"{type(self).__name__}: tokens found", columns, rows)

    def token(self, token_id: int, value: float, **fields: float) -> dict[str, Any]:
        return {"token": self.tokenizer.convert_ids_to_tokens(token_id), "id": token_id, **fields, "activation": value}

    def job_header(self, job: int, values: Tensor) -> dict[str, Any]:
        """The fields every substitution job reports: what was changed, what was read."""
        return {
            "job": job,
            "sentence": self.hparams.sentence,
            "tokens": self.tokenizer.convert_ids_to_tokens(self.input_ids.tolist()),
            "change_word": self.hparams.change_word,
            "layer_id": self.hparams.layer_id,
            "word_id": self.word_id,
            "neuron_id": self.neuron_ids[job],
            "target": self.hparams.target,
            "reduction": self.hparams.reduction if self.neuron_ids[job] is None else None,
            "original": self.token(self.original_id, float(values[self.original_id, job])),
        }
