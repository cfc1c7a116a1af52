"""Cloze facts in LAMA's jsonl format, and the offline probe set built from held-out news.

A LAMA line holds ``masked_sentences`` (a list of sentences, one [MASK] each) and
``obj_label`` (the word that belongs there, one vocabulary token); the relation is read from
``predicate_id`` (T-REx), else ``pred`` (Google-RE), else the file name. Several sentences
(Google-RE's evidence) are one query, joined with [SEP] (``read_fact``). Bad lines stop the run,
every one named with its number: a probe that silently skips facts reports a wrong P@k.

``build_cloze_probe`` writes such a file from sentences the ``minilm-l6-mlm`` head never saw
(the held-out side of ``MaskedTextData``'s split), masking one word per sentence: a content word
(``news-cloze``: the knowledge-probe flavour, hard) or any word (``news-words``: what fill-mask
accuracy on running text means, function words included).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from transformers import PreTrainedTokenizerBase

from lightning_dream.data.corpus import load_sentences, train_heldout_split
from lightning_dream.errors import ConfigError
from lightning_dream.models.loading import load_tokenizer
from lightning_dream.tokenization import tokenize_sentence

LAMA_MASK = "[MASK]"
#: probe sets shipped inside the package, by name
_PROBES_DIR = Path(__file__).resolve().parents[1] / "embedded" / "probes"
EMBEDDED_PROBES = {"news-cloze": _PROBES_DIR / "news_cloze.jsonl", "news-words": _PROBES_DIR / "news_words.jsonl"}


#: how many bad lines a probe file's error names (the rest are counted)
MAX_BAD_LINES = 10


@dataclass(frozen=True)
class ClozeFact:
    line: int  # 1-based line in the file
    relation: str
    text: str  # the sentences of the query as one text, [SEP] between them
    obj_label: str
    label_id: int
    input_ids: tuple[int, ...]  # [CLS] sentence [SEP] sentence ... [SEP], within the model's length
    mask_position: int  # the first [MASK]: where the gold token is ranked
    id: str | None = None  # the record's ``uuid`` (or ``id``)
    sub_label: str | None = None


def resolve_probe(path: str) -> Path:
    if path in EMBEDDED_PROBES:
        return EMBEDDED_PROBES[path]
    if not Path(path).is_file():
        raise ConfigError(
            f"probe file {path!r} not found: give a LAMA jsonl file or one of {', '.join(EMBEDDED_PROBES)}"
        )
    return Path(path)


def read_fact(
    number: int, raw: str, relation: str, tokenizer: PreTrainedTokenizerBase, max_length: int | None
) -> ClozeFact:
    """One LAMA line as a query, or a ConfigError saying what is wrong with it.

    Several ``masked_sentences`` (Google-RE's evidence sentences, one [MASK] each) are one query:
    ``[CLS] s1 [SEP] s2 [SEP] ...``, as many whole sentences as fit the model's positions (at
    least the first), ranked at the first [MASK]."""
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ConfigError(f"not JSON ({err.msg})") from None
    missing = (
        [f for f in ("masked_sentences", "obj_label") if f not in record]
        if isinstance(record, dict)
        else ["masked_sentences", "obj_label"]
    )
    if missing:
        raise ConfigError(f"missing {', '.join(missing)}: a LAMA line needs masked_sentences (list) and obj_label")
    sentences = record["masked_sentences"]
    sentences = [sentences] if isinstance(sentences, str) else [str(s) for s in sentences]
    masks = [s.count(LAMA_MASK) for s in sentences]
    if not sentences or any(count != 1 for count in masks):
        counts = masks[0] if len(masks) == 1 else masks
        raise ConfigError(f"masked_sentences hold {counts} {LAMA_MASK}: each sentence needs exactly one")
    label = str(record["obj_label"])
    ids = tokenizer(label, add_special_tokens=False)["input_ids"]
    if len(ids) != 1 or ids[0] == tokenizer.unk_token_id:
        pieces = tokenizer.convert_ids_to_tokens(ids)
        raise ConfigError(f"obj_label {label!r} is not one vocabulary token (it tokenises as {pieces})")
    limit = min(n for n in (max_length, tokenizer.model_max_length) if n is not None)
    input_ids: list[int] = []
    kept = []
    for sentence in sentences:
        sentence_ids = tokenize_sentence(tokenizer, sentence.replace(LAMA_MASK, tokenizer.mask_token), max_length)
        joined = sentence_ids if not input_ids else input_ids + sentence_ids[1:]  # [CLS] a [SEP] b [SEP]
        if len(joined) > limit:
            break
        input_ids, kept = joined, [*kept, sentence]
    text = f" {tokenizer.sep_token} ".join(kept).replace(LAMA_MASK, tokenizer.mask_token)
    identity = record.get("uuid", record.get("id"))
    return ClozeFact(
        number,
        str(record.get("predicate_id", record.get("pred", relation))),
        text,
        label,
        ids[0],
        tuple(input_ids),
        input_ids.index(tokenizer.mask_token_id),
        None if identity is None else str(identity),
        None if record.get("sub_label") is None else str(record["sub_label"]),
    )


def read_lama(path: str, tokenizer: PreTrainedTokenizerBase, max_length: int | None = None) -> list[ClozeFact]:
    """Every fact of a LAMA jsonl file (or an embedded probe name), checked line by line; the
    error names every bad line (up to ``MAX_BAD_LINES``) so one run shows what to fix."""
    source = resolve_probe(path)
    facts, bad = [], []
    for number, raw in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            facts.append(read_fact(number, raw, source.stem, tokenizer, max_length))
        except ConfigError as err:
            bad.append(f"line {number}: {err}")
    if bad:
        more = f"; and {len(bad) - MAX_BAD_LINES} more" if len(bad) > MAX_BAD_LINES else ""
        raise ConfigError(f"{source.name} has {len(bad)} bad line(s): {'; '.join(bad[:MAX_BAD_LINES])}{more}")
    if not facts:
        raise ConfigError(f"probe file {source} holds no facts")
    return facts


_WORD = re.compile(r"^([^A-Za-z]*)([A-Za-z]+)([^A-Za-z]*)$")


def cloze_candidates(
    sentence: str, tokenizer: PreTrainedTokenizerBase, word_kind: Literal["content", "any"] = "content"
) -> list[tuple[int, str, str]]:
    """(word index, word, relation) of the words worth masking: alphabetic, one vocabulary token,
    and for ``content`` also 3+ letters and not a stop word. Capitalised words inside the
    sentence are ``news_name`` (mostly proper nouns), the rest ``news_word``."""
    found = []
    for index, word in enumerate(sentence.split()):
        match = _WORD.match(word)
        if not match:
            continue
        if word_kind == "content" and (len(match.group(2)) < 3 or match.group(2).lower() in ENGLISH_STOP_WORDS):
            continue
        core = match.group(2)
        ids = tokenizer(core, add_special_tokens=False)["input_ids"]
        if len(ids) != 1 or ids[0] == tokenizer.unk_token_id:
            continue
        relation = "news_name" if index > 0 and core[0].isupper() else "news_word"
        found.append((index, core, relation))
    return found


def build_cloze_probe(
    output: str,
    num_facts: int = 1000,
    corpus: str = "news",
    heldout_fraction: float = 0.05,
    split_seed: int = 0,
    min_words: int = 8,
    max_words: int = 40,
    tokenizer: str = "minilm-l6",
    seed: int = 0,
    word_kind: Literal["content", "any"] = "content",
) -> str:
    """Write a LAMA-format cloze probe from held-out corpus sentences, one word masked.

    Args:
        output: jsonl file to write.
        num_facts: number of sentences (facts) to keep, in held-out order.
        corpus: sentence source (as ``MaskedTextData``).
        heldout_fraction: must equal the MLM head's training split (``MaskedTextData``) so
            the probe holds only sentences the head never trained on.
        split_seed: seed of that split.
        min_words: shortest sentence kept (context enough to guess a word).
        max_words: longest sentence kept.
        tokenizer: whose vocabulary decides which words are one token.
        seed: which candidate word of a sentence is masked.
        word_kind: ``content`` (3+ letters, no stop words: the knowledge-probe set ``news-cloze``)
            or ``any`` alphabetic one-token word, drawn uniformly (``news-words``).
    """
    tok = load_tokenizer(tokenizer)
    train, heldout = train_heldout_split(load_sentences(corpus), heldout_fraction, split_seed)
    seen = set(train)  # the corpus repeats some sentences (wire stories): keep only unseen ones
    rng = random.Random(seed)
    lines = []
    for sentence in heldout:
        words = sentence.split()
        if not min_words <= len(words) <= max_words or tok.mask_token in sentence or sentence in seen:
            continue
        candidates = cloze_candidates(sentence, tok, word_kind)
        if not candidates:
            continue
        index, core, relation = rng.choice(candidates)
        words[index] = words[index].replace(core, LAMA_MASK, 1)
        fact = {
            "masked_sentences": [" ".join(words)],
            "obj_label": core.lower(),
            "predicate_id": relation,
            "uuid": f"news-{len(lines)}",
        }
        lines.append(json.dumps(fact))
        if len(lines) == num_facts:
            break
    if not lines:
        raise ConfigError(
            f"corpus {corpus!r} gave no held-out sentence of {min_words}..{max_words} words with a {word_kind} "
            f"word to mask"
        )
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return output
