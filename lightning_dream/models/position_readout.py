"""One position's vector at one layer, computing only what that vector depends on.

Searches score many inputs against a target at (layer, position): token search over the whole
vocabulary, corpus search at a word position. The blocks below the target layer are needed in
full (every position feeds the keys and values above), but of the target layer's own block only
the target row: its query, attention output and feed-forward -- not even the other rows' keys
and values, since one query's attention can be taken in the input space. And when the inputs
differ at a single position (token search), what the first block computes row by row from the
embeddings -- queries, keys, values of the unchanged positions -- is the same for the whole
batch and is computed once.

The blocks are evaluated here from their own weights (BERT-style: ``attention.self.query/key/
value``, ``attention.output``, ``feed_forward_chunk``): transformers' forward up to the order
of the sums; tests hold the two equal to float tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import PreTrainedModel

from lightning_dream.errors import ConfigError
from lightning_dream.models.readout import block_list


@dataclass(frozen=True)
class OneRowBatch:
    """A batch of sequences that are identical except at ``position``: the common sequence
    ``shared`` (1, L, H) and the differing rows ``rows`` (B, H)."""

    shared: Tensor
    rows: Tensor
    position: int

    def map(self, fn: Callable[[Tensor], Tensor]) -> OneRowBatch:
        """Apply a row-wise function (a Linear) once to the shared rows and once per batch row."""
        return OneRowBatch(fn(self.shared), fn(self.rows), self.position)

    def dense(self) -> Tensor:
        out = self.shared.expand(len(self.rows), -1, -1).clone()
        out[:, self.position] = self.rows
        return out


Hidden = Tensor | OneRowBatch


def _check_bert_block(block: nn.Module) -> None:
    attention = getattr(getattr(block, "attention", None), "self", None)
    parts = ("query", "key", "value", "num_attention_heads", "attention_head_size", "scaling")
    if attention is None or not all(hasattr(attention, p) for p in parts) or not hasattr(block, "feed_forward_chunk"):
        raise ConfigError(
            f"{type(block).__name__} is not a BERT-style block: position readouts support BERT-like encoders only"
        )


def _attend_from_one_row(attention: nn.Module, row: Tensor, hidden: Tensor, attention_mask: Tensor | None) -> Tensor:
    """Self-attention output of one query row (B, 1, H) over ``hidden`` (B, L, H), without
    projecting the L keys and values.

    Per head, ``q . (W_k h_j + b_k) = (W_k^T q) . h_j + const`` (the constant cancels in the
    softmax) and ``sum_j p_j (W_v h_j + b_v) = W_v (sum_j p_j h_j) + b_v``: the query is moved
    into the input space once instead of every key being projected, so the block costs O(H^2)
    per sequence instead of O(L H^2).
    """
    batch, length, size = hidden.shape
    heads, head_size = attention.num_attention_heads, attention.attention_head_size
    query = attention.query(row).view(batch, heads, head_size).transpose(0, 1)  # (heads, B, d)
    query_in_input_space = torch.bmm(query, attention.key.weight.view(heads, head_size, size))  # (heads, B, H)
    scores = torch.einsum("hbk,blk->bhl", query_in_input_space, hidden) * attention.scaling
    if attention_mask is not None:
        scores = scores.masked_fill(~attention_mask[:, None, :].bool(), float("-inf"))
    mixed = torch.bmm(scores.softmax(-1), hidden)  # (B, heads, H): attention-weighted inputs
    values = torch.bmm(mixed.transpose(0, 1), attention.value.weight.view(heads, head_size, size).transpose(1, 2))
    return values.transpose(0, 1).reshape(batch, 1, heads * head_size) + attention.value.bias


def block_forward(
    block: nn.Module, hidden: Hidden, attention_mask: Tensor | None, position: int | None = None
) -> Tensor:
    """A BERT block's output for every row, (B, L, H), or for ``position`` only, (B, 1, H).

    ``attention_mask`` (B, L) marks real tokens (None: nothing padded).
    """
    _check_bert_block(block)
    attention = block.attention.self
    dense = hidden.dense() if isinstance(hidden, OneRowBatch) else hidden
    if position is not None:
        row = dense[:, position : position + 1]
        context = _attend_from_one_row(attention, row, dense, attention_mask)
        return block.feed_forward_chunk(block.attention.output(context, row))
    batch, length, _ = dense.shape
    heads, size = attention.num_attention_heads, attention.attention_head_size

    def project(linear: nn.Module) -> Tensor:
        out = hidden.map(linear).dense() if isinstance(hidden, OneRowBatch) else linear(hidden)
        return out.view(batch, length, heads, size).transpose(1, 2)

    mask = None if attention_mask is None else attention_mask[:, None, None, :].bool()
    context = F.scaled_dot_product_attention(
        project(attention.query),
        project(attention.key),
        project(attention.value),
        attn_mask=mask,
        scale=attention.scaling,
    )
    return block.feed_forward_chunk(
        block.attention.output(context.transpose(1, 2).reshape(batch, length, heads * size), dense)
    )


def _layer_at_position(
    model: PreTrainedModel, hidden: Hidden, attention_mask: Tensor | None, layer: int, position: int
) -> Tensor:
    blocks = list(getattr(*block_list(model)))[:layer]
    if not blocks:
        return (hidden.dense() if isinstance(hidden, OneRowBatch) else hidden)[:, position]
    for block in blocks[:-1]:
        hidden = block_forward(block, hidden, attention_mask)
    return block_forward(blocks[-1], hidden, attention_mask, position)[:, 0]


@torch.no_grad()
def hidden_at_position(
    model: PreTrainedModel,
    layer: int,
    position: int,
    attention_mask: Tensor | None = None,
    input_ids: Tensor | None = None,
    inputs_embeds: Tensor | None = None,
) -> Tensor:
    """Output of ``layer`` at ``position`` for a batch, (B, H); layer 0 is the embedding output.

    Runs blocks ``1..layer-1`` in full and block ``layer`` for the one position. Pass
    ``attention_mask=None`` when nothing is padded (faster attention). No gradients: this is
    the readout of searches, not of optimisation.
    """
    hidden = model.base_model.embeddings(input_ids=input_ids, inputs_embeds=inputs_embeds)
    return _layer_at_position(model, hidden, attention_mask, layer, position)


@torch.no_grad()
def substituted_at_position(
    model: PreTrainedModel, input_ids: Tensor, change_position: int, candidates: Tensor, layer: int, position: int
) -> Tensor:
    """``hidden_at_position`` of the sentence ``input_ids`` (L,) with ``candidates`` (B,) put in
    turn at ``change_position``, (B, H), sharing the first block's work on unchanged positions."""
    embeddings = model.base_model.embeddings
    shared = embeddings(input_ids=input_ids[None])
    prefixes = input_ids[: change_position + 1].repeat(len(candidates), 1)
    prefixes[:, change_position] = candidates
    # a prefix gets the same position and token-type embeddings as the whole sentence
    rows = embeddings(input_ids=prefixes)[:, change_position]
    return _layer_at_position(model, OneRowBatch(shared, rows, change_position), None, layer, position)
