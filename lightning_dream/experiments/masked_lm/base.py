"""Base of the experiments that only read a masked LM (``lightning-dream predict``).

A subclass lists its work items (``items()``, checked in ``__init__``), turns a batch of them
into result rows (``predict_step``) and may add a run-level summary (``summary()``). This base
loads the frozen model once, batches the items and writes ``results.json`` atomically into the
run folder with the experiment's ``result_format``.
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
from torch.utils.data import DataLoader
from transformers import PreTrainedModel

from lightning_dream.callbacks.results import run_dir
from lightning_dream.errors import ConfigError, check_positive
from lightning_dream.models.loading import load_config, load_masked_lm, load_tokenizer
from lightning_dream.results import RESULTS_FILE, write_json_atomic


class MaskedLMPrediction(pl.LightningModule):
    result_format: str = ""

    def __init__(self, model: str = "minilm-l6-mlm", batch_size: int = 16):
        """
        Args:
            model: a masked LM (embedded name, local folder or hub name); ``minilm-l6-mlm`` is
                the embedded MiniLM with the MLM head trained by this project.
            batch_size: items per forward pass.
        """
        super().__init__()
        self.save_hyperparameters()  # from the base: records the subclass's arguments too
        check_positive("batch_size", batch_size)
        self.model_name = model
        self.config = load_config(model)
        self.tokenizer = load_tokenizer(model)
        self.mlm: PreTrainedModel | None = None
        self.rows: list[dict[str, Any]] = []

    @property
    def vocab_size(self) -> int:
        return self.config.vocab_size

    def check_top_k(self, top_k: int) -> int:
        if not 1 <= top_k <= self.vocab_size:
            raise ConfigError(f"top_k={top_k} is out of range: allowed 1..{self.vocab_size} (the vocabulary size)")
        return top_k

    def items(self) -> list[Any]:
        raise NotImplementedError

    def summary(self) -> dict[str, Any]:
        """Run-level numbers beside the rows (metrics over all items)."""
        return {}

    def configure_model(self) -> None:
        if self.mlm is None:
            self.mlm = load_masked_lm(self.model_name)

    def predict_dataloader(self) -> DataLoader:
        return DataLoader(self.items(), batch_size=self.hparams.batch_size, collate_fn=list)

    def on_predict_start(self) -> None:
        self.rows = []

    def on_predict_batch_end(
        self, outputs: list[dict[str, Any]], batch: Any, batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        self.rows.extend(outputs)

    def on_predict_end(self) -> None:
        payload = {
            "format": self.result_format,
            "experiment": type(self).__name__,
            "config": dict(self.hparams),
            **self.summary(),
            "rows": self.rows,
        }
        path = write_json_atomic(run_dir(self.trainer) / RESULTS_FILE, payload)
        self.print(f"results: {path}")
