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
from lightning_dream.models.mlm_scoring import pseudo_log_likelihood

#: the unigram model counts the first sentences of this corpus (20,000 of the ~81,000 news sentences:
#: tokenising all takes over a minute on a loaded CPU, and 20,000 already give ~500,000 tokens)
UNIGRAM_CORPUS = "news"
UNIGRAM_SENTENCES = 20_000


@lru_cache(maxsize=4)
def unigram_log_probs(model: str, corpus: str = UNIGRAM_CORPUS, sentences: int = UNIGRAM_SENTENCES) -> Tensor:
    """(vocab,) log-probability of each token in the corpus's first ``sentences``, add-one smoothed."""
    tokenizer = load_tokenizer(model)
    counts = torch.ones(len(tokenizer), dtype=torch.float64)
    sentences = list(load_sentences(corpus)[:sentences])
    for start in range(0, len(sentences), 4096):
        for ids in tokenizer(sentences[start : start + 4096], add_special_tokens=False)["input_ids"]:
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

    def to(self, device: torch.device) -> Fluency:
        self.model.to(device)
        self.unigram = self.unigram.to(device)
        return self

    @torch.no_grad()
    def __call__(self, input_ids: Tensor, attention_mask: Tensor) -> FluencyScore:
        if self.unigram.device != input_ids.device:  # the experiment moved to its device after setup
            self.to(input_ids.device)
        words = (attention_mask.sum(-1) - 2).clamp_min(1).float()
        self.passes += int(words.sum())
        pll = pseudo_log_likelihood(self.model, input_ids, attention_mask, self.mask_id).to(words.device) / words
        inside = attention_mask.bool().clone()
        inside[:, 0] = False
        inside[torch.arange(len(inside)), attention_mask.sum(-1) - 1] = False  # [CLS] and [SEP] are not scored
        unigram = (self.unigram[input_ids] * inside).sum(-1) / words
        return FluencyScore(pll - unigram, pll, unigram)
