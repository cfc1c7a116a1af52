"""Fluency a string of frequent tokens cannot fake: the MLM's pseudo-log-likelihood per token minus
the tokens' unigram log-probability per token.

PLL alone rewards "the the , the ." (each token is easy to guess); subtracting what a unigram
model of the news corpus already expects leaves what the context adds, so a soup of common words
scores about 0 and a sentence a reader would write scores above it. Both parts are reported.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import torch
from torch import Tensor

from lightning_dream.data.corpus import load_sentences
from lightning_dream.models.loading import load_masked_lm, load_tokenizer
from lightning_dream.models.mlm_scoring import logits_at, pseudo_log_likelihood

#: the unigram model counts the first ``UNIGRAM_SENTENCES`` sentences of this corpus (of ~81,000 news
#: sentences; why not all: docs/performance.md)
UNIGRAM_CORPUS = "news"
UNIGRAM_SENTENCES = 20_000


@lru_cache(maxsize=4)
def unigram_log_probs(model: str, corpus: str = UNIGRAM_CORPUS, sentences: int = UNIGRAM_SENTENCES) -> Tensor:
    """(vocab,) log-probability of each token in the corpus's first ``sentences``, add-one smoothed."""
    tokenizer = load_tokenizer(model)
    counts = torch.ones(len(tokenizer), dtype=torch.float64)
    sentences = list(load_sentences(corpus)[:sentences])
    for start in range(0, len(sentences), 4096):
        # counting tokens, not feeding a model: a corpus line longer than its positions is fine (verbose=False:
        # no "sequence length is longer than the maximum" warning on every rank)
        chunk = tokenizer(sentences[start : start + 4096], add_special_tokens=False, verbose=False)
        for ids in chunk["input_ids"]:
            counts += torch.bincount(torch.tensor(ids, dtype=torch.long), minlength=len(counts)).double()
    return (counts / counts.sum()).log().float()


class FluencyScore(NamedTuple):
    fluency: Tensor  # (B,) pll - unigram, per token
    pll: Tensor  # (B,) pseudo-log-likelihood per token
    unigram: Tensor  # (B,) unigram log-probability per token


class Fluency:
    """Scores real token ids (B, L) with their attention mask; ``passes`` counts the MLM's
    sequences (one masked copy per scored token), the budget unit of the search methods."""

    def __init__(self, model: str = "minilm-l6-mlm"):
        self.model = load_masked_lm(model)
        self.mask_id = load_tokenizer(model).mask_token_id
        self.unigram = unigram_log_probs(model)
        self.passes = 0

    def follow(self, device: torch.device) -> None:
        """Move to ``device`` (the experiment moved to its device after setup)."""
        if self.unigram.device != device:
            self.to(device)

    def to(self, device: torch.device) -> Fluency:
        self.model.to(device)
        self.unigram = self.unigram.to(device)
        return self

    @torch.no_grad()
    def __call__(self, input_ids: Tensor, attention_mask: Tensor) -> FluencyScore:
        self.follow(input_ids.device)
        words = (attention_mask.sum(-1) - 2).clamp_min(1).float()
        self.passes += int(words.sum())
        pll = pseudo_log_likelihood(self.model, input_ids, attention_mask, self.mask_id).to(words.device) / words
        inside = attention_mask.bool().clone()
        inside[:, 0] = False
        inside[torch.arange(len(inside)), attention_mask.sum(-1) - 1] = False  # [CLS] and [SEP] are not scored
        unigram = (self.unigram[input_ids] * inside).sum(-1) / words
        return FluencyScore(pll - unigram, pll, unigram)

    @torch.no_grad()
    def swap_gains(self, input_ids: Tensor, attention_mask: Tensor, where: Tensor, chunk: int = 64) -> Tensor:
        """(positions, vocab): at each True position of ``where`` (row-major), what writing token v
        there does to the sequence's fluency through that position's own terms: log p(v | the rest,
        the position masked) minus log u(v), per token. The other positions' PLL terms (which also
        see v) are left out: a first-order ranking, one masked copy (one pass) per position."""
        self.follow(input_ids.device)
        rows, positions = where.nonzero(as_tuple=True)
        words = (attention_mask.sum(-1) - 2).clamp_min(1).float()
        self.passes += len(rows)
        gains = []
        for start in range(0, len(rows), chunk):
            r, p = rows[start : start + chunk], positions[start : start + chunk]
            copies = input_ids[r].clone()
            copies[torch.arange(len(r)), p] = self.mask_id
            logits = logits_at(self.model, copies, attention_mask[r], torch.arange(len(r)), p)
            gains.append((logits.log_softmax(-1) - self.unigram) / words[r, None])
        return torch.cat(gains)
