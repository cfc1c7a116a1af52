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


def tokenize_sentence(tokenizer: PreTrainedTokenizerBase, sentence: str, max_length: int | None = None) -> list[int]:
    """The token ids of one sentence, ``[CLS] ... [SEP]`` added by the tokenizer; the one place
    every experiment's sentences are checked, before any weights load:

    - a sentence with no words (empty, spaces, control characters only) is refused;
    - ``[CLS]``, ``[SEP]`` and ``[PAD]`` typed in a sentence are refused: the model adds its own,
      and a typed one would be changeable (or an attended pad). ``[MASK]`` and ``[UNK]`` stay
      ordinary tokens (the masked-LM experiments need ``[MASK]``);
    - more tokens than the model has positions (``max_length``, e.g. the config's
      ``max_position_embeddings``; the tokenizer's own limit always applies) is refused.
    """
    if not sentence or not sentence.strip():
        raise ConfigError("sentence is empty: give at least one word")
    ids = tokenizer(sentence)["input_ids"]
    special = {tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id} - {None}
    words = ids[1:-1] if ids and ids[0] == tokenizer.cls_token_id else ids
    if not words:
        raise ConfigError(f"sentence {sentence!r} has no words after normalisation (only spaces or control characters)")
    typed = sorted({token for token, i in zip(tokenizer.convert_ids_to_tokens(words), words) if i in special})
    if typed:
        raise ConfigError(
            f"sentence {sentence!r} contains {', '.join(typed)}: the model adds its own [CLS]/[SEP] and "
            "padding; remove them ([MASK] and [UNK] are allowed)"
        )
    limits = [n for n in (max_length, tokenizer.model_max_length) if n is not None and n < 1_000_000]
    if limits and len(ids) > min(limits):
        raise ConfigError(
            f"sentence {sentence[:40]!r}... is {len(ids)} tokens ([CLS]/[SEP] included): "
            f"the model has {min(limits)} positions"
        )
    return ids


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
