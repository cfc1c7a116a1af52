"""Two concepts as sets of real sentences, and their activations at the concept word.

A concept is a single vocabulary word ("he", "she"). Its sentences are corpus sentences that
contain the word and none of the other concept's word, so a linear readout at the concept
word's position sees one concept per example. ``ConceptData`` reads those activations once
from the frozen encoder (all requested layers in one pass) and serves them to the CAV readout.
"""

from __future__ import annotations

import random
import re
from typing import Literal

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from lightning_dream.checks import OpenUnitInterval, PositiveInt, check_arguments
from lightning_dream.data.corpus import load_sentences, train_heldout_split
from lightning_dream.errors import ConfigError
from lightning_dream.models.loading import load_config, load_encoder, load_tokenizer
from lightning_dream.models.readout import EncoderReadout

#: Words that count as "belonging" to a concept when a reconstruction changes a token: a change
#: to one of the target concept's words is a change toward it ("her" -> "his" for "he").
CONCEPT_WORDS: dict[str, tuple[str, ...]] = {
    "he": ("he", "his", "him", "himself", "man", "men", "boy", "father", "son", "brother", "mr"),
    "she": ("she", "her", "hers", "herself", "woman", "women", "girl", "mother", "daughter", "sister", "mrs", "ms"),
}

ChangeKind = Literal["toward", "away", "other"]
#: How a changed token is marked in logs and ``marked_tokens``: ``+his`` moved toward the target
#: concept, ``-her`` toward the other one, ``~cat`` any other change.
CHANGE_MARKS: dict[str, str] = {"toward": "+", "away": "-", "other": "~"}


def classify_change(new_token: str, toward: str | None, away: str | None) -> ChangeKind:
    """``toward`` if the new token is a word of the concept the shift moves toward, ``away`` if
    it is a word of the other concept, else ``other`` (always ``other`` for an unshifted job)."""
    if toward is not None and new_token in CONCEPT_WORDS.get(toward, (toward,)):
        return "toward"
    if away is not None and new_token in CONCEPT_WORDS.get(away, (away,)):
        return "away"
    return "other"


def concept_token_id(tokenizer, concept: str) -> int:
    """The vocabulary id of a concept word; it must be one whole token."""
    ids = tokenizer(concept, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        raise ConfigError(f"concept {concept!r} is {len(ids)} tokens for this tokenizer: use a single-token word")
    return ids[0]


def check_concepts(concepts: list[str]) -> None:
    if len(concepts) != 2 or any(not c or not c.strip() for c in concepts):
        raise ConfigError(f"concepts={concepts!r}: give exactly two non-empty words, e.g. [he, she]")


def concept_sentences(
    concepts: list[str],
    corpus: str,
    min_words: int,
    max_words: int,
    max_per_concept: int,
    min_per_concept: int,
    seed: int,
) -> list[list[str]]:
    """For each concept, up to ``max_per_concept`` sentences containing it and no other concept."""
    check_concepts(concepts)
    patterns = [re.compile(rf"\b{re.escape(c.strip())}\b", re.IGNORECASE) for c in concepts]
    sentences = load_sentences(corpus, min_words, max_words)
    chosen = []
    for i, concept in enumerate(concepts):
        found = [s for s in sentences if patterns[i].search(s) and not patterns[1 - i].search(s)]
        if len(found) < min_per_concept:
            raise ConfigError(
                f"corpus {corpus!r} has {len(found)} sentences of {min_words}..{max_words} words for concept "
                f"{concept!r}:"
                f" need at least min_per_concept={min_per_concept}"
            )
        chosen.append(random.Random(seed).sample(found, min(max_per_concept, len(found))))
    return chosen


class ConceptData(pl.LightningDataModule):
    def __init__(
        self,
        concepts: list[str] = ["he", "she"],  # noqa: B006  (jsonargparse shows the default)
        corpus: str = "news",
        model: str = "minilm-l6",
        min_words: PositiveInt = 5,
        max_words: PositiveInt = 40,
        max_per_concept: PositiveInt = 400,
        min_per_concept: PositiveInt = 20,
        heldout_fraction: OpenUnitInterval = 0.2,
        batch_size: PositiveInt = 64,
        seed: int = 0,
    ):
        """
        Args:
            concepts: two single-token words; label 0 is the first, label 1 the second.
            corpus: ``news`` (offline asset), a local text file, or ``hf:NAME[:CONFIG]:SPLIT:COLUMN``.
            model: encoder whose activations are read (must match the CAV module's).
            min_words: shortest sentence (words) taken from the corpus.
            max_words: longest sentence taken from the corpus.
            max_per_concept: at most this many sentences per concept (balanced sample).
            min_per_concept: fewer sentences than this for a concept is an error.
            heldout_fraction: share of each concept's sentences kept for held-out accuracy.
            batch_size: activations per training batch.
            seed: sampling and split seed.
        """
        super().__init__()
        self.save_hyperparameters()
        check_arguments(type(self), self.hparams)
        self.tokenizer = load_tokenizer(model)
        self.config = load_config(model)
        check_concepts(concepts)
        self.concept_ids = [concept_token_id(self.tokenizer, c.strip()) for c in concepts]
        self.sentences = concept_sentences(
            concepts, corpus, min_words, max_words, max_per_concept, min_per_concept, seed
        )
        self.splits: dict[str, TensorDataset] = {}

    @property
    def num_layers(self) -> int:
        return self.config.num_hidden_layers

    @torch.no_grad()
    def activations(self, readout: EncoderReadout, sentences: list[str], concept_id: int) -> torch.Tensor:
        """(sentences, layers+1, H) activations at the first occurrence of the concept token."""
        out = []
        for start in range(0, len(sentences), 64):
            batch = self.tokenizer(
                sentences[start : start + 64], padding=True, truncation=True, max_length=128, return_tensors="pt"
            )
            hidden = readout.hidden_states(batch["attention_mask"], readout.num_layers, input_ids=batch["input_ids"])
            hits = batch["input_ids"] == concept_id
            keep = hits.any(1)  # truncation or tokenisation may have lost the word
            position = hits.float().argmax(1)
            rows = torch.arange(len(position))
            out.append(hidden[:, rows, position].transpose(0, 1)[keep])
        return torch.cat(out)

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        readout = EncoderReadout(load_encoder(self.hparams.model))
        parts: dict[str, list[tuple[torch.Tensor, torch.Tensor]]] = {"train": [], "heldout": []}
        for label, (sentences, concept_id) in enumerate(zip(self.sentences, self.concept_ids)):
            train, heldout = train_heldout_split(sentences, self.hparams.heldout_fraction, self.hparams.seed)
            for name, split in (("train", train), ("heldout", heldout)):
                features = self.activations(readout, split, concept_id)
                parts[name].append((features, torch.full((len(features),), float(label))))
        for name, pieces in parts.items():
            self.splits[name] = TensorDataset(torch.cat([f for f, _ in pieces]), torch.cat([y for _, y in pieces]))

    def train_dataloader(self) -> DataLoader:
        generator = torch.Generator().manual_seed(self.hparams.seed)
        return DataLoader(self.splits["train"], batch_size=self.hparams.batch_size, shuffle=True, generator=generator)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.splits["heldout"], batch_size=512)
