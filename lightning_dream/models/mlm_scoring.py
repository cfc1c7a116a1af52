"""What a masked LM says about a position: logits at masks, sampling from them, pseudo-log-likelihood.

Shared by fill-mask, Gibbs sampling and cloze probes so that "the model's distribution at a
[MASK]" is computed one way everywhere.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from transformers import PreTrainedModel, PreTrainedTokenizerBase


def pad_batch(sequences: list[list[int]], pad_id: int) -> tuple[Tensor, Tensor]:
    """(input_ids, attention_mask), right-padded to the longest sequence."""
    length = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), length), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    return ids, mask


def logits_at(
    model: PreTrainedModel, input_ids: Tensor, attention_mask: Tensor, rows: Tensor, positions: Tensor
) -> Tensor:
    """(N, V) vocabulary logits at (rows[n], positions[n]).

    The head (hidden -> vocabulary: at 30k words about as many operations per token as MiniLM's six
    layers, and a tokens x vocabulary tensor) runs at those positions only: the encoder's output is
    cut to them on its way to the head."""

    def keep_positions(module: torch.nn.Module, args: tuple, output: Any) -> Any:
        return type(output)(**{**output, "last_hidden_state": output.last_hidden_state[rows, positions][:, None]})

    hook = model.base_model.register_forward_hook(keep_positions)
    try:
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits
    finally:
        hook.remove()
    return logits[:, 0].float()


def special_ids(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """[CLS], [SEP], [PAD], [MASK], [UNK], ...: never a word a sampler should write."""
    return sorted(set(tokenizer.all_special_ids))


def sample_tokens(
    logits: Tensor, temperature: float, top_k: int | None, generator: torch.Generator, banned: list[int]
) -> Tensor:
    """One token id per row from softmax(logits / T), restricted to the ``top_k`` best if given."""
    logits = logits / temperature
    logits[:, banned] = float("-inf")
    if top_k is not None:
        kth = logits.topk(top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return torch.multinomial(logits.softmax(-1), 1, generator=generator)[:, 0]


@torch.no_grad()
def pseudo_log_likelihood(
    model: PreTrainedModel, input_ids: Tensor, attention_mask: Tensor, mask_id: int, chunk: int = 64
) -> Tensor:
    """(B,) sum over every token but the first and last ([CLS], [SEP]) of log p(token | rest),
    each token masked in turn (Salazar et al. 2020); the masked copies run ``chunk`` at a time."""
    rows, positions = [], []
    for row, length in enumerate(attention_mask.sum(-1).tolist()):
        rows += [row] * (length - 2)
        positions += range(1, length - 1)
    rows_t, positions_t = torch.tensor(rows), torch.tensor(positions)
    scores = torch.zeros(len(input_ids))
    for start in range(0, len(rows), chunk):
        r, p = rows_t[start : start + chunk], positions_t[start : start + chunk]
        copies = input_ids[r].clone()
        copies[torch.arange(len(r)), p] = mask_id
        logits = logits_at(model, copies, attention_mask[r], torch.arange(len(r)), p)
        gold = input_ids[r, p]
        scores.index_add_(0, r, logits.log_softmax(-1).gather(1, gold[:, None])[:, 0])
    return scores
