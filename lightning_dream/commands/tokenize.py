"""``lightning-dream tokenize``: print how a sentence is split, so positions in configs are chosen right."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Literal

from lightning_dream.tokenization import Piece, split_sentence


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
