"""``lightning-dream tokenize``: how a sentence is split, so positions in configs are chosen right.

Every config counts positions in tokens ([CLS] = 0), and a word the tokenizer does not know is
several word pieces ("kickshaws" -> kick ##sha ##ws): a ``word_id`` or ``change_word`` must
name the piece meant.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

from lightning_dream.errors import ConfigError
from lightning_dream.experiments.jobs import tokenize_sentence
from lightning_dream.models.loading import load_tokenizer


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


def tokenize(sentence: str, model: str = "minilm-l6", output: Literal["table", "json"] = "table") -> list[Piece]:
    """Print the tokens, ids and word-piece boundaries of a sentence.

    Args:
        sentence: the text to split.
        model: embedded name, local folder or hub name whose tokenizer is used.
        output: ``table`` (one line per token) or ``json``.
    """
    pieces = split_sentence(sentence, model)
    if output == "json":
        print(json.dumps([asdict(p) for p in pieces]))
        return pieces
    print(f"{'position':>8}  {'token':<16} {'id':>6}  {'word':>4}  piece")
    for p in pieces:
        kind = "special" if p.word is None else "word start" if p.starts_word else "continues word"
        print(f"{p.position:>8}  {p.token:<16} {p.id:>6}  {'-' if p.word is None else p.word:>4}  {kind}")
    return pieces
