"""Experiments that only read a frozen model over given texts (attention maps, activation
factorisation): one predict step, each text a job, results through ``ResultWriter``.

Run with ``lightning-dream predict --config configs/sentence_attention.yaml``; jobs shard over ranks
like every other experiment's.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback
from torch.utils.data import DataLoader

from lightning_dream.checks import check_arguments
from lightning_dream.data.steps import step_loader
from lightning_dream.errors import ConfigError
from lightning_dream.models.loading import load_config_and_tokenizer, load_encoder
from lightning_dream.results import INSPECT_FORMAT, ResultSource
from lightning_dream.strategies import shard
from lightning_dream.tokenization import tokenize_sentence


class InspectExperiment(pl.LightningModule, ResultSource):
    #: independent jobs: on several devices the CLI gives them job sharding (``strategies.job_strategy``)
    independent_jobs: ClassVar[bool] = True
    result_format: ClassVar[str] = INSPECT_FORMAT

    def __init__(self, model: str = "minilm-l6", sentences: list[str] | str = "the cat sat on the mat ."):
        """
        Args:
            model: embedded name (``minilm-l6``), local folder or hub name of the encoder.
            sentences: one text or a list; each is one job.
        """
        super().__init__()
        self.save_hyperparameters()
        check_arguments(type(self), self.hparams)
        self.model_name = model
        self.config, self.tokenizer = load_config_and_tokenizer(model)
        texts = [sentences] if isinstance(sentences, str) else list(sentences)
        if not texts:
            raise ConfigError("sentences is empty: give at least one text")
        limit = self.config.max_position_embeddings
        self.input_ids = [tokenize_sentence(self.tokenizer, text, limit) for text in texts]
        self.texts = texts
        self.encoder = None
        self.results: dict[int, dict[str, Any]] = {}

    def inspect(self, ids: torch.Tensor) -> dict[str, Any]:
        """The result fields of one text, from its token ids (1, L)."""
        raise NotImplementedError

    def prepare_encoder(self, encoder: torch.nn.Module) -> torch.nn.Module:
        """Hook: adjust the loaded encoder (e.g. eager attention so it returns attention maps)."""
        return encoder

    def configure_model(self) -> None:
        if self.encoder is None:
            self.encoder = self.prepare_encoder(load_encoder(self.model_name))

    def predict_dataloader(self) -> DataLoader:
        return step_loader(1)

    def configure_callbacks(self) -> list[Callback]:
        from lightning_dream.callbacks import FigureLogger, ResultWriter, default_callbacks

        return default_callbacks(self._trainer, ResultWriter(), FigureLogger())

    @torch.no_grad()
    def predict_step(self, batch: Any, batch_idx: int) -> int:
        """Inspects this rank's texts; returns how many (the results go to ``job_results``)."""
        world = self.trainer.world_size if self._trainer is not None else 1
        rank = self.trainer.global_rank if self._trainer is not None else 0
        self.results = {}
        for job in shard(len(self.texts), rank, world):
            ids = torch.tensor([self.input_ids[job]], device=self.device)
            tokens = self.tokenizer.convert_ids_to_tokens(self.input_ids[job])
            self.results[job] = {"job": job, "sentence": self.texts[job], "tokens": tokens, **self.inspect(ids)}
        return len(self.results)

    def job_results(self) -> dict[int, dict[str, Any]]:
        return self.results
