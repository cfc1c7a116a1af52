"""How a sentence is split into token positions, the unit every config counts in.

Every config counts positions in tokens ([CLS] = 0), and a word the tokenizer does not know is
several word pieces ("kickshaws" -> kick ##sha ##ws): a ``word_id`` or ``change_word`` must
name the piece meant.
"""

from __future__ import annotations

from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from lightning_dream.errors import ConfigError
from lightning_dream.models.loading import load_tokenizer


def tokenize_sentence(tokenizer: PreTrainedTokenizerBase, sentence: str) -> list[int]:
    if not sentence or not sentence.strip():
        raise ConfigError("sentence is empty: give at least one word")
    return tokenizer(sentence)["input_ids"]


@dataclass(frozen=True)
class Piece:
    position: int  # token position, [CLS] = 0
    token: str
    id: int
    word: int | None  # index of the word it belongs to; None for [CLS], [SEP], ...
    starts_word: bool  # False for a continuation piece (##...) and for special tokens


def split_sentence(sentence: str, model: str = "minilm-l6") -> list[Piece]:
    tokenizer = load_tokenizer(model)
    if not tokenizer.is_fast:
        raise ConfigError(f"model {model!r} has no fast tokenizer: word-piece boundaries need one")
    tokenize_sentence(tokenizer, sentence)  # one clear error for an empty sentence
    encoding = tokenizer(sentence)
    ids, words = encoding["input_ids"], encoding.word_ids()
    tokens = tokenizer.convert_ids_to_tokens(ids)
    return [
        Piece(i, token, token_id, word, word is not None and (i == 0 or words[i - 1] != word))
        for i, (token, token_id, word) in enumerate(zip(tokens, ids, words))
    ]
