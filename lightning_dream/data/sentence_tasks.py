"""Sentence(-pair) tasks, tokenised: GLUE (``data/glue.py``) or the offline ``rotten-tomatoes``.

Batches carry ``index`` (the example's place in its split, for the pooled-state cache),
``input_ids``, ``attention_mask``, ``token_type_ids`` (segment 1 on a pair's second text, as
GLUE is fed everywhere) and ``labels``. The training order comes from a ``DistributedSampler``
seeded by ``seed`` over the trainer's world size, so one process with batch b and two processes
with b/2 each see the same examples in the same steps.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, DistributedSampler

from lightning_dream.checks import OpenUnitInterval, PositiveInt, check_arguments
from lightning_dream.data.glue import ALL_TASKS, Example, Task, get_task, load_task
from lightning_dream.models.loading import load_tokenizer


class IndexedExamples(torch.utils.data.Dataset):
    """A split's examples, each with its index (what the pooled-state cache is keyed by)."""

    def __init__(self, examples: list[Example]):
        self.examples = examples

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> tuple[int, Example]:
        return index, self.examples[index]


class SentenceTaskData(pl.LightningDataModule):
    def __init__(
        self,
        task: str = "rotten-tomatoes",
        data_dir: str | None = None,
        tokenizer: str = "albert-news-tiny",
        max_length: PositiveInt = 64,
        batch_size: PositiveInt = 8,
        validation_fraction: OpenUnitInterval = 0.1,
        max_train: PositiveInt | None = None,
        max_validation: PositiveInt | None = None,
        seed: int = 42,
    ):
        """
        Args:
            task: ``rotten-tomatoes`` (offline) or a GLUE task: ``cola sst2 mrpc stsb qqp mnli qnli
                rte wnli``; classes or regression and the metrics follow from it.
            data_dir: the task's GLUE folder (``path/to/STS-B``) or the GLUE root holding GLUE's own
                subfolders; None: the hub's GLUE copy (needs a reachable hub).
            tokenizer: model whose tokenizer encodes the texts.
            max_length: tokens per example (the original study: 64).
            batch_size: examples per training batch and process (the original study: 8).
            validation_fraction: rotten-tomatoes' held-out share (fixed by ``seed``).
            max_train: use only the first N training examples (quick runs).
            max_validation: use only the first N examples of each validation set.
            seed: split and training-order seed.
        """
        super().__init__()
        self.save_hyperparameters()
        check_arguments(type(self), self.hparams)
        self.task: Task = get_task(task)
        self.tokenizer = load_tokenizer(tokenizer)
        self.train_set: list[Example] | None = None
        self.val_sets: list[list[Example]] = []

    @property
    def num_labels(self) -> int:
        return self.task.num_labels

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        hp = self.hparams
        train, devs = load_task(self.task, hp.data_dir, hp.validation_fraction, hp.seed)
        self.train_set = train[: hp.max_train]
        self.val_sets = [dev[: hp.max_validation] for dev in devs]

    def collate(self, items: list[tuple[int, Example]]) -> dict[str, torch.Tensor]:
        indices, examples = zip(*items)
        columns = list(zip(*(texts for texts, _ in examples)))
        batch = self.tokenizer(
            *columns,
            padding=True,
            truncation=True,
            max_length=self.hparams.max_length,
            return_tensors="pt",
            return_token_type_ids=True,
        )
        dtype = torch.float32 if self.num_labels == 1 else torch.long
        return {
            "index": torch.tensor(indices),
            "input_ids": batch["input_ids"],
            "attention_mask": batch["attention_mask"],
            "token_type_ids": batch["token_type_ids"],
            "labels": torch.tensor([label for _, label in examples], dtype=dtype),
        }

    def train_dataloader(self) -> DataLoader:
        dataset = IndexedExamples(self.train_set)
        trainer = self.trainer
        replicas, rank = (trainer.world_size, trainer.global_rank) if trainer is not None else (1, 0)
        sampler = DistributedSampler(dataset, replicas, rank, shuffle=True, seed=self.hparams.seed)
        return DataLoader(dataset, self.hparams.batch_size, sampler=sampler, collate_fn=self.collate)

    def val_dataloader(self) -> list[DataLoader]:
        return [self.ordered(examples) for examples in self.val_sets]

    def ordered(self, examples: list[Example]) -> DataLoader:
        """Examples in their order, in validation-sized batches."""
        return DataLoader(IndexedExamples(examples), 4 * self.hparams.batch_size, collate_fn=self.collate)


__all__ = ["ALL_TASKS", "SentenceTaskData"]
