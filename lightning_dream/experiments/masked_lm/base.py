"""Base of the experiments that only read a masked LM (``lightning-dream predict``).

A subclass lists its work items (``items()``, checked in ``__init__``), turns a batch of them
into one result row per item (``predict_step``) and may add run-level fields computed from all
rows (``result_fields(rows)``). This base loads the frozen model once and batches the items; each
process takes a contiguous share of the batches (the batches of a one-process run), and
``ResultWriter`` gathers the rows to rank 0 and writes them under ``rows``, each item once, in
item order.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from torch.utils.data import DataLoader
from transformers import PreTrainedModel

from lightning_dream.checks import PositiveInt, check_arguments
from lightning_dream.data.batches import sharded_loader
from lightning_dream.errors import ConfigError
from lightning_dream.models.loading import load_config_and_tokenizer, load_masked_lm
from lightning_dream.results import ResultSource


class MaskedLMPrediction(pl.LightningModule, ResultSource):
    #: independent jobs: on several devices the CLI gives them job sharding (``strategies.job_strategy``)
    independent_jobs: ClassVar[bool] = True
    result_rows = "rows"

    def __init__(self, model: str = "minilm-l6-mlm", batch_size: PositiveInt = 16):
        """
        Args:
            model: a masked LM (embedded name, local folder or hub name); ``minilm-l6-mlm`` is
                the embedded MiniLM with the MLM head trained by this project.
            batch_size: items per forward pass.
        """
        super().__init__()
        self.save_hyperparameters()  # from the base: records the subclass's arguments too
        check_arguments(type(self), self.hparams)
        self.model_name = model
        self.config, self.tokenizer = load_config_and_tokenizer(model)
        self.mlm: PreTrainedModel | None = None
        self.rows: dict[int, dict[str, Any]] = {}

    @property
    def vocab_size(self) -> int:
        return self.config.vocab_size

    def check_top_k(self, top_k: int) -> int:
        if not 1 <= top_k <= self.vocab_size:
            raise ConfigError(f"top_k={top_k} is out of range: allowed 1..{self.vocab_size} (the vocabulary size)")
        return top_k

    def items(self) -> list[int]:
        """The work items (indices), one result row each."""
        raise NotImplementedError

    def configure_model(self) -> None:
        if self.mlm is None:
            self.mlm = load_masked_lm(self.model_name)

    def configure_callbacks(self) -> list[Callback]:
        from lightning_dream.callbacks import ResultWriter, default_callbacks

        return default_callbacks(self._trainer, ResultWriter())

    def batches(self) -> list[list[int]]:
        """The items in batches of ``batch_size``, in order; batch ``i`` holds items ``i * batch_size ...``."""
        items, size = self.items(), self.hparams.batch_size
        return [items[start : start + size] for start in range(0, len(items), size)]

    def predict_dataloader(self) -> DataLoader:
        return sharded_loader(self.batches())

    def on_predict_start(self) -> None:
        self.rows = {}

    def on_predict_batch_end(
        self, outputs: list[dict[str, Any]], batch: list[int], batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        if len(outputs) != len(batch):
            raise RuntimeError(
                f"{type(self).__name__}.predict_step returned {len(outputs)} rows for {len(batch)} items"
            )
        self.rows.update(zip(batch, outputs))

    def job_results(self) -> dict[int, dict[str, Any]]:
        return self.rows
