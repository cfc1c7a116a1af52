"""Corpus search: the sentences of a real corpus that activate a neuron most (``predict``).

The baseline the dreaming study starts from: before optimising inputs, find the best real ones.
Sentences run in batches of similar length (little padding), only to the target layer; at a
fixed word position the target layer's block is computed for that position alone. Each neuron
keeps a running top-k, so memory does not grow with the corpus.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback
from torch import Tensor
from torch.utils.data import DataLoader
from transformers import PreTrainedModel

from lightning_dream.checks import PositiveInt, check_arguments
from lightning_dream.data.batches import sharded_loader
from lightning_dream.data.corpus import load_sentences
from lightning_dream.errors import ConfigError, check_range
from lightning_dream.experiments.soft_input.targets import TargetLine, write_targets
from lightning_dream.models.loading import load_config_and_tokenizer, load_encoder
from lightning_dream.models.position_readout import hidden_at_position
from lightning_dream.models.readout import ActivationTarget, EncoderReadout
from lightning_dream.results import CORPUS_SEARCH_FORMAT, ResultSource, Summary
from lightning_dream.strategies import gather_to_rank_zero

TopK = tuple[Tensor, Tensor, Tensor]  # (values, sentence indices, positions), each (k, neurons)


def merge_top(parts: list[TopK], k: int) -> TopK:
    """The best ``k`` per neuron (column) of several partial top lists."""
    values, sentences, positions = (torch.cat(p) for p in zip(*parts))
    best = values.topk(min(k, len(values)), dim=0)
    return best.values, sentences.gather(0, best.indices), positions.gather(0, best.indices)


class CorpusSearch(pl.LightningModule, ResultSource):
    #: independent jobs: on several devices the CLI gives them job sharding (``strategies.job_strategy``)
    independent_jobs: ClassVar[bool] = True
    result_format = CORPUS_SEARCH_FORMAT

    def __init__(
        self,
        model: str = "minilm-l6",
        corpus: str = "news",
        min_words: PositiveInt = 3,
        max_words: PositiveInt = 60,
        max_sentences: PositiveInt | None = 20000,
        layer_id: int = 5,
        neuron_ids: list[int] | int = 314,
        word_id: int | None = None,
        top_k: PositiveInt = 10,
        batch_size: PositiveInt = 64,
        max_length: int = 128,
        targets_file: str | None = None,
    ):
        """
        Args:
            model: embedded name (``minilm-l6``), local folder or hub name of the encoder.
            corpus: ``news`` (offline asset), a local text file (one document per line) or
                ``hf:NAME[:CONFIG]:SPLIT:COLUMN``.
            min_words: shortest sentence searched, in words.
            max_words: longest sentence searched, in words.
            max_sentences: search only the first n sentences of the corpus (None: all).
            layer_id: 0 = embedding output, k = output of block k.
            neuron_ids: hidden unit(s); each is one job with its own top-k.
            word_id: read the neuron at this token position ([CLS] = 0); None: the sentence's
                best word (positions between [CLS] and [SEP]).
            top_k: sentences kept per neuron.
            batch_size: sentences per forward pass.
            max_length: sentences are cut to this many tokens.
            targets_file: also write the top sentences as a targets file (``.jsonl``, one job per
                sentence and neuron at the position found) for ``Dream(targets=...)``.
        """
        super().__init__()
        self.save_hyperparameters()
        check_arguments(type(self), self.hparams)
        self.model_name = model
        self.config, self.tokenizer = load_config_and_tokenizer(model)
        self.neuron_ids = [neuron_ids] if isinstance(neuron_ids, int) else list(neuron_ids)
        check_range("max_length", max_length, 3, self.config.max_position_embeddings)
        if not self.neuron_ids:
            raise ConfigError("neuron_ids is empty: give at least one hidden unit")
        for neuron in self.neuron_ids:
            ActivationTarget(layer_id, word_id if word_id is not None else 0, neuron).validate(
                self.config.num_hidden_layers, self.config.hidden_size, max_length
            )
        self.sentences = load_sentences(corpus, min_words, max_words)[:max_sentences]
        check_range("top_k", top_k, 1, len(self.sentences))
        self.encoder: PreTrainedModel | None = None

    def configure_model(self) -> None:
        if self.encoder is None:
            self.encoder = load_encoder(self.model_name)

    def configure_callbacks(self) -> list[Callback]:
        from lightning_dream.callbacks import ResultWriter, default_callbacks

        return default_callbacks(self._trainer, ResultWriter())

    def predict_dataloader(self) -> DataLoader:
        self.token_ids = self.tokenizer(list(self.sentences), truncation=True, max_length=self.hparams.max_length)[
            "input_ids"
        ]
        by_length = sorted(range(len(self.token_ids)), key=lambda i: len(self.token_ids[i]))
        return sharded_loader(torch.tensor(by_length).split(self.hparams.batch_size))

    def on_predict_start(self) -> None:
        empty = torch.empty(0, len(self.neuron_ids))
        self.top: TopK = (empty, empty.long(), empty.long())

    def values(self, input_ids: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """(B, neurons) activations and the positions they were read at."""
        layer, word_id = self.hparams.layer_id, self.hparams.word_id
        lengths = mask.sum(-1)
        if word_id is not None:
            values = hidden_at_position(self.encoder, layer, word_id, mask, input_ids=input_ids)[:, self.neuron_ids]
            values = values.masked_fill((lengths <= word_id)[:, None], float("-inf"))  # too short: never ranked
            return values, torch.full_like(values, word_id, dtype=torch.long)
        with torch.no_grad():
            hidden = EncoderReadout(self.encoder).layer(mask, layer, input_ids=input_ids)[..., self.neuron_ids]
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        words = (positions[None] >= 1) & (positions[None] < lengths[:, None] - 1)
        best = hidden.masked_fill(~words[..., None], float("-inf")).max(dim=1)
        return best.values, best.indices

    def predict_step(self, batch: Tensor, batch_idx: int) -> None:
        rows = [self.token_ids[i] for i in batch.tolist()]
        input_ids = torch.full((len(rows), max(map(len, rows))), self.tokenizer.pad_token_id or 0)
        mask = torch.zeros_like(input_ids)
        for row, ids in enumerate(rows):
            input_ids[row, : len(ids)], mask[row, : len(ids)] = torch.tensor(ids), 1
        values, positions = self.values(input_ids.to(self.device), mask.to(self.device))
        sentences = batch[:, None].expand_as(values)
        self.top = merge_top([self.top, (values.float().cpu(), sentences, positions.cpu())], self.hparams.top_k)

    def summary_table(self, payload: dict[str, Any]) -> Summary:
        """Per neuron: the top sentences and the token each peaks at."""
        rows = [
            [j["neuron_id"], t["activation"], t["token"], t["sentence"]]
            for j in payload["jobs"][:10]
            for t in j["top"][:3]
        ]
        return Summary("CorpusSearch: top sentences per neuron", ["neuron", "activation", "token", "sentence"], rows)

    def job_results(self) -> dict[int, dict[str, Any]]:
        values, sentences, positions = merge_top(gather_to_rank_zero(self.top), self.hparams.top_k)
        if self.global_rank != 0:
            return {}
        results = {}
        for job, neuron in enumerate(self.neuron_ids):
            top = []
            for value, index, position in zip(
                values[:, job].tolist(), sentences[:, job].tolist(), positions[:, job].tolist()
            ):
                if value == float("-inf"):
                    continue  # fewer sentences long enough than top_k
                token = self.tokenizer.convert_ids_to_tokens(self.token_ids[index][position])
                top.append(
                    {
                        "sentence": self.sentences[index],
                        "index": index,
                        "position": position,
                        "token": token,
                        "activation": value,
                    }
                )
            results[job] = {
                "job": job,
                "corpus": self.hparams.corpus,
                "layer_id": self.hparams.layer_id,
                "neuron_id": neuron,
                "word_id": self.hparams.word_id,
                "sentences_searched": len(self.sentences),
                "top": top,
            }
        return results

    def result_fields(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """Writes the targets file (rank 0, after the gather) and names it in the results."""
        if self.hparams.targets_file is None:
            return {}
        lines = [
            TargetLine(entry["sentence"], row["layer_id"], row["neuron_id"], entry["position"])
            for row in rows
            for entry in row["top"]
        ]
        write_targets(self.hparams.targets_file, lines)
        return {"targets_file": str(self.hparams.targets_file), "targets_written": len(lines)}
