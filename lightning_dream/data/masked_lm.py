"""Masked-language-model data: corpus sentences packed into blocks, BERT masking (15%, 80/10/10).

Shared by every experiment that trains an MLM head or a whole model. Held-out blocks are masked
once with a fixed seed, so held-out accuracy is comparable across runs and depths.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader
from transformers import DataCollatorForLanguageModeling

from lightning_dream.checks import OpenUnitInterval, PositiveInt, at_least, check_arguments
from lightning_dream.data.corpus import load_sentences, train_heldout_split
from lightning_dream.errors import ConfigError
from lightning_dream.models.loading import load_tokenizer

#: tokens per training block, [CLS] and [SEP] included: "must be at least 8"
BlockSize = at_least(8)


def pack_blocks(token_lists: list[list[int]], block_size: int, cls_id: int, sep_id: int) -> torch.Tensor:
    """Concatenate word-piece ids and cut into ``[CLS] ... [SEP]`` blocks of ``block_size``."""
    stream = [t for ids in token_lists for t in ids]
    body = block_size - 2
    n = len(stream) // body
    if n == 0:
        raise ConfigError(f"corpus too small: {len(stream)} tokens, need at least {body} for one block of {block_size}")
    blocks = torch.tensor(stream[: n * body]).view(n, body)
    return torch.cat([torch.full((n, 1), cls_id), blocks, torch.full((n, 1), sep_id)], dim=1)


class MaskedTextData(pl.LightningDataModule):
    def __init__(
        self,
        corpus: str = "news",
        tokenizer: str = "minilm-l6",
        block_size: BlockSize = 128,
        batch_size: PositiveInt = 32,
        heldout_fraction: OpenUnitInterval = 0.05,
        max_sentences: PositiveInt | None = None,
        mlm_probability: OpenUnitInterval = 0.15,
        seed: int = 0,
    ):
        """
        Args:
            corpus: ``news`` (offline asset), a local text file, or hf:NAME[:CONFIG]:SPLIT:COLUMN.
            tokenizer: model name whose tokenizer (word pieces) is used.
            block_size: tokens per training block, [CLS] and [SEP] included.
            batch_size: blocks per batch.
            heldout_fraction: share of sentences kept for validation (fixed split by ``seed``).
            max_sentences: use only the first N sentences of the corpus (quick runs).
            mlm_probability: share of tokens selected for prediction (BERT: 0.15).
            seed: split and held-out masking seed.
        """
        super().__init__()
        self.save_hyperparameters()
        check_arguments(type(self), self.hparams)
        self.tokenizer = load_tokenizer(tokenizer)
        self.collator = DataCollatorForLanguageModeling(self.tokenizer, mlm_probability=mlm_probability)
        self.train_blocks: torch.Tensor | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_blocks is not None:
            return
        sentences = load_sentences(self.hparams.corpus)[: self.hparams.max_sentences]
        train, heldout = train_heldout_split(sentences, self.hparams.heldout_fraction, self.hparams.seed)
        encode = lambda texts: self.tokenizer(texts, add_special_tokens=False)["input_ids"]  # noqa: E731
        args = (self.hparams.block_size, self.tokenizer.cls_token_id, self.tokenizer.sep_token_id)
        self.train_blocks = pack_blocks(encode(train), *args)
        heldout_blocks = pack_blocks(encode(heldout), *args)
        with torch.random.fork_rng():
            torch.manual_seed(self.hparams.seed)
            self.heldout_batch = self.collator([{"input_ids": b} for b in heldout_blocks])

    def _collate(self, blocks: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        return self.collator([{"input_ids": b} for b in blocks])

    def train_dataloader(self) -> DataLoader:
        return DataLoader(
            list(self.train_blocks), batch_size=self.hparams.batch_size, shuffle=True, collate_fn=self._collate
        )

    def val_dataloader(self) -> DataLoader:
        rows = [{k: v[i] for k, v in self.heldout_batch.items()} for i in range(len(self.heldout_batch["input_ids"]))]
        return DataLoader(rows, batch_size=self.hparams.batch_size)
