"""The soft input: trainable token logits at the positions that may change.

Every job (row) has its own logits; positions outside its change span (always ``[CLS]`` and
``[SEP]``) stay hard one-hot tokens. The model sees ``softmax(logits / T) @ E`` there, and the
*snapped* input (argmax tokens) is what real tokens would give.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn

Init = Literal["sentence", "random_tokens", "uniform"]


def job_generator(seed: int, job: int, step: int = 0) -> torch.Generator:
    """A generator that depends only on (seed, job, step): results do not depend on how jobs
    are batched or sharded across processes."""
    return torch.Generator().manual_seed((seed * 1_000_003 + job) * 1_000_033 + step)


class SoftTokens(nn.Module):
    def __init__(
        self,
        input_ids: Tensor,
        change_mask: Tensor,
        vocab_size: int,
        job_ids: list[int],
        seed: int = 0,
        init: Init = "sentence",
        confidence: float = 0.9,
        special_ids: Tensor | None = None,
    ):
        """``input_ids``/``change_mask``: (jobs, L). ``job_ids``: global index of each row (for
        per-job random streams). ``confidence``: softmax mass (at T=1) of the initial token."""
        super().__init__()
        self.vocab_size = vocab_size
        self.seed = seed
        self.job_ids = list(job_ids)
        self.register_buffer("change_mask", change_mask.bool(), persistent=False)
        start_ids = input_ids.clone()
        if init == "random_tokens":
            start_ids = self._random_tokens(input_ids, change_mask, special_ids)
        self.register_buffer("input_ids", start_ids, persistent=False)
        #: row of each logit vector -> job row, for per-job noise and bookkeeping
        self.register_buffer("row_job", change_mask.nonzero()[:, 0], persistent=False)
        logits = torch.zeros(int(change_mask.sum()), vocab_size)
        if init == "uniform":
            rows = [torch.rand(int(m.sum()), vocab_size, generator=job_generator(seed, j)) for m, j in zip(change_mask, self.job_ids)]
            logits = torch.cat(rows) if rows else logits
        else:
            boost = math.log(confidence / (1 - confidence) * (vocab_size - 1))
            logits[torch.arange(len(logits)), start_ids[self.change_mask]] = boost
        self.logits = nn.Parameter(logits)

    def _random_tokens(self, input_ids: Tensor, change_mask: Tensor, special_ids: Tensor | None) -> Tensor:
        ids = input_ids.clone()
        allowed = torch.ones(self.vocab_size, dtype=torch.bool)
        if special_ids is not None:
            allowed[special_ids] = False
        choices = allowed.nonzero()[:, 0]
        for row, job in enumerate(self.job_ids):
            n = int(change_mask[row].sum())
            picks = torch.randint(len(choices), (n,), generator=job_generator(self.seed, job, step=-1))
            ids[row, change_mask[row]] = choices[picks]
        return ids

    def gumbel_noise(self, step: int) -> Tensor:
        noise = [
            -torch.log(-torch.log(torch.rand(int(m.sum()), self.vocab_size, generator=job_generator(self.seed, j, step)).clamp_min(1e-20)))
            for m, j in zip(self.change_mask, self.job_ids)
        ]
        return torch.cat(noise).to(self.logits.device) if noise else torch.zeros_like(self.logits)

    def probabilities(self, temperature: float, noise: Tensor | None = None) -> Tensor:
        logits = self.logits if noise is None else self.logits + noise
        return torch.softmax(logits / temperature, dim=-1)

    def embeds(self, word_embeddings: Tensor, temperature: float, noise: Tensor | None = None) -> Tensor:
        """Input embeddings (jobs, L, H): soft mixtures where the input may change, else fixed."""
        fixed = nn.functional.embedding(self.input_ids, word_embeddings)
        soft = self.probabilities(temperature, noise).to(word_embeddings.dtype) @ word_embeddings
        return fixed.masked_scatter(self.change_mask.unsqueeze(-1), soft.to(fixed.dtype))

    def snapped_ids(self) -> Tensor:
        """The real tokens closest to the soft input: argmax where it may change."""
        ids = self.input_ids.clone()
        ids[self.change_mask] = self.logits.detach().argmax(-1)
        return ids
