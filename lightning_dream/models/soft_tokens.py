"""The soft input: trainable token logits at the positions that may change.

Every job (row) has its own logits; positions outside its change span (always ``[CLS]`` and
``[SEP]``) stay hard one-hot tokens. The model sees ``softmax(logits / T) @ E`` there, and the
*snapped* input (argmax tokens) is what real tokens would give.

That mixture is computed by ``soft_embedding``, an exact autograd function that never builds
the (positions, vocab) intermediates autograd's version would: with a few dozen jobs the logits
are tens of millions of numbers and those intermediates cost more than the encoder. Once the
temperature is low, most softmax weights are exactly zero in float32 and it works on the others
alone.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import torch
from torch import Tensor, nn

Init = Literal["sentence", "random_tokens", "uniform"]

#: elements worked on at once by ``soft_embedding``: 4 MiB of float32, inside the L3 cache
#: (timings: docs/performance.md)
CHUNK_ELEMENTS = 2**20
#: below this fraction of non-zero softmax weights the mixture and its gradient are computed on
#: the non-zero weights only, where that is faster than the dense product; reached late in an
#: annealed run (timings: docs/performance.md)
SPARSE_DENSITY = 0.03


def job_generator(seed: int, job: int, step: int = 0) -> torch.Generator:
    """A generator that depends only on (seed, job, step): results do not depend on how jobs
    are batched or sharded across processes."""
    return torch.Generator().manual_seed((seed * 1_000_003 + job) * 1_000_033 + step)


def csr_weights(probs: Tensor, where: Tensor) -> Tensor:
    """``probs`` as a CSR matrix, given the (row, column) of its non-zero entries in row-major order."""
    counts = torch.bincount(where[:, 0], minlength=len(probs))
    crow = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
    with warnings.catch_warnings():  # torch calls its CSR support "beta"; the operations used here are tested
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta", UserWarning)
        return torch.sparse_csr_tensor(
            crow, where[:, 1].contiguous(), probs[where[:, 0], where[:, 1]], probs.shape, check_invariants=False
        )


class SoftEmbedding(torch.autograd.Function):
    """``softmax((logits + noise) / T) @ table``, exact, without (rows, vocab) temporaries.

    Forward: the softmax is written a block of rows at a time into ``probs`` (a buffer the caller
    may reuse every step, so no fresh tens-of-MB allocation is page-faulted each time), then one
    matmul -- bit for bit the plain formula. When at most ``sparse_below`` of the weights are not
    zero (weights underflow to exactly 0 once ``T`` is small), the matmul and the backward run on
    a CSR copy of the non-zero weights instead: the zeros contribute nothing to either, so only the
    order of float additions differs. Backward: since ``sum_v p_v (g . E_v) = g . e``,
    ``dz = p * (g @ E^T - rowsum(g * e)) / T``, computed a block of the vocabulary at a time so
    the block of ``g @ E^T`` is still in cache when it is scaled (equal to autograd's gradient up
    to float rounding). ``probs`` is saved for the backward: overwriting it by a second forward
    before that backward raises autograd's in-place error instead of giving a wrong gradient.

    ``grad_buffer`` (optional) receives the logits' gradient, returned as a fresh view of it, which
    autograd keeps as ``.grad`` without copying; once ``zero_grad`` drops that ``.grad`` the same
    memory serves the next backward, so no tens-of-MB gradient is allocated (page-faulted) and
    freed each step. While ``.grad`` still lives in the buffer (gradients accumulating,
    ``zero_grad(set_to_none=False)``) a new tensor is used instead.
    """

    @staticmethod
    def forward(
        ctx,
        logits: Tensor,
        table: Tensor,
        temperature: float,
        noise: Tensor | None,
        probs: Tensor,
        grad_buffer: Tensor | None,
        chunk: int,
        sparse_below: float,
    ) -> Tensor:
        rows = max(1, chunk // max(1, logits.shape[1]))
        found: list[Tensor] | None = [] if probs.dtype == table.dtype and sparse_below > 0 else None
        for start in range(0, len(logits), rows):
            part = (
                logits[start : start + rows]
                if noise is None
                else logits[start : start + rows] + noise[start : start + rows]
            )
            block = probs[start : start + rows]
            torch.softmax(part / temperature, -1, out=block)
            if found is not None:  # the non-zero weights, found while the block is still in cache
                where = block.nonzero()
                found = (
                    found + [where + torch.tensor([start, 0], device=where.device)]
                    if len(where) <= sparse_below * block.numel()
                    else None
                )
        sparse = None if found is None else csr_weights(probs, torch.cat(found))
        embeds = (sparse if sparse is not None else probs.to(table.dtype)) @ table
        ctx.save_for_backward(probs, table, embeds)
        ctx.temperature, ctx.chunk, ctx.logits, ctx.grad_buffer, ctx.sparse = (
            temperature,
            chunk,
            logits,
            grad_buffer,
            sparse,
        )
        return embeds

    @staticmethod
    def gradient_tensor(ctx, probs: Tensor) -> Tensor:
        """Where the logits' gradient goes: the caller's buffer unless ``.grad`` still uses it."""
        buffer, held = ctx.grad_buffer, ctx.logits.grad
        if buffer is None or (
            held is not None and held.untyped_storage().data_ptr() == buffer.untyped_storage().data_ptr()
        ):
            return torch.empty_like(probs)
        return buffer

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, ...]:
        probs, table, embeds = ctx.saved_tensors
        grad = grad.to(probs.dtype)
        grad_table = (probs.t() @ grad).to(table.dtype) if ctx.needs_input_grad[1] else None
        grad_logits = None
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[3]:
            centre = (grad * embeds.to(grad.dtype)).sum(-1, keepdim=True)  # = rowsum(p * (g @ E^T))
            grad_logits = SoftEmbedding.gradient_tensor(ctx, probs)
            if ctx.sparse is not None:
                SoftEmbedding.sparse_gradient(ctx.sparse, grad, table, centre, ctx.temperature, grad_logits)
            else:
                cols = max(1, ctx.chunk // max(1, len(probs)))
                for start in range(0, probs.shape[1], cols):
                    block = slice(start, start + cols)
                    part = grad @ table[block].to(grad.dtype).t()
                    grad_logits[:, block] = part.sub_(centre).mul_(probs[:, block]).div_(ctx.temperature)
            grad_logits = grad_logits.view_as(grad_logits)  # a new tensor object: autograd may keep it as .grad
        return (
            grad_logits if ctx.needs_input_grad[0] else None,
            grad_table,
            None,
            grad_logits.clone() if ctx.needs_input_grad[3] else None,
            None,
            None,
            None,
            None,
        )

    @staticmethod
    def sparse_gradient(
        weights: Tensor, grad: Tensor, table: Tensor, centre: Tensor, temperature: float, out: Tensor
    ) -> None:
        """``out = p * (g @ E^T - centre) / T`` where ``weights`` (CSR ``p``) is not zero, else 0:
        ``g @ E^T`` is needed at the non-zero weights alone (a sampled matmul)."""
        products = torch.sparse.sampled_addmm(weights, grad, table.t().to(grad.dtype), beta=0.0).values()
        rows = torch.repeat_interleave(torch.arange(len(out), device=out.device), weights.crow_indices().diff())
        cols = weights.col_indices()
        out.zero_()
        out[rows, cols] = (products - centre[rows, 0]) * weights.values() / temperature


def soft_embedding(
    logits: Tensor,
    table: Tensor,
    temperature: float,
    noise: Tensor | None = None,
    probs: Tensor | None = None,
    grad_buffer: Tensor | None = None,
    chunk: int = CHUNK_ELEMENTS,
    sparse_below: float = SPARSE_DENSITY,
) -> Tensor:
    """``softmax((logits + noise) / temperature) @ table`` for logits (rows, vocab), table (vocab, H).

    ``probs`` / ``grad_buffer``: optional (rows, vocab) buffers for the softmax and the logits'
    gradient, reused across calls (see ``SoftEmbedding``); ``chunk``: elements handled at once
    (tests make it small to cross block boundaries); ``sparse_below``: the fraction of non-zero
    weights under which only those are worked on (0: never, 1: always)."""
    if probs is None:
        probs = torch.empty_like(logits, requires_grad=False)
    return SoftEmbedding.apply(logits, table, temperature, noise, probs, grad_buffer, chunk, sparse_below)


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
        temperature: float = 1.0,
    ):
        """``input_ids``/``change_mask``: (jobs, L). ``job_ids``: global index of each row (for
        per-job random streams). ``confidence``: softmax mass of the initial token at
        ``temperature`` (the start temperature makes the start the input at step 0)."""
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
            rows = [
                torch.rand(int(m.sum()), vocab_size, generator=job_generator(seed, j))
                for m, j in zip(change_mask, self.job_ids)
            ]
            logits = torch.cat(rows) if rows else logits
        else:
            boost = temperature * math.log(confidence / (1 - confidence) * (vocab_size - 1))
            logits[torch.arange(len(logits)), start_ids[self.change_mask]] = boost
        self.logits = nn.Parameter(logits)
        self._probs: Tensor | None = None  # softmax buffer reused every step (not state)
        self._grad: Tensor | None = None  # memory of the logits' gradient, reused every step (not state)

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
            -torch.log(
                -torch.log(
                    torch.rand(int(m.sum()), self.vocab_size, generator=job_generator(self.seed, j, step)).clamp_min(
                        1e-20
                    )
                )
            )
            for m, j in zip(self.change_mask, self.job_ids)
        ]
        return torch.cat(noise).to(self.logits.device) if noise else torch.zeros_like(self.logits)

    def probabilities(self, temperature: float, noise: Tensor | None = None) -> Tensor:
        """The softmax weights (a new tensor; for snapshots and logging, not the optimisation)."""
        logits = self.logits if noise is None else self.logits + noise
        return torch.softmax(logits / temperature, dim=-1)

    def _buffer(self, name: str) -> Tensor:
        buffer, logits = getattr(self, name), self.logits
        if (
            buffer is None
            or buffer.shape != logits.shape
            or buffer.dtype != logits.dtype
            or buffer.device != logits.device
        ):
            buffer = torch.empty_like(logits, requires_grad=False)
            setattr(self, name, buffer)
        return buffer

    def probs_buffer(self) -> Tensor:
        """The softmax buffer of ``embeds``, kept between steps: a new one each step would be a
        fresh allocation of the logits' size (tens of MB for dozens of jobs), page-faulted anew.
        Until the logits move it holds the last ``embeds``' weights (``probabilities`` of that
        temperature and noise)."""
        return self._buffer("_probs")

    def embeds(self, word_embeddings: Tensor, temperature: float, noise: Tensor | None = None) -> Tensor:
        """Input embeddings (jobs, L, H): soft mixtures where the input may change, else fixed.

        Call backward on one result before asking for the next (they share the softmax buffer;
        autograd refuses a stale one)."""
        fixed = nn.functional.embedding(self.input_ids, word_embeddings)
        soft = soft_embedding(
            self.logits, word_embeddings, temperature, noise, self.probs_buffer(), self._buffer("_grad")
        )
        return fixed.masked_scatter(self.change_mask.unsqueeze(-1), soft.to(fixed.dtype))

    @torch.no_grad()
    def set_ids(self, ids: Tensor) -> None:
        """Make ``ids`` (jobs, L) the input: logits one-hot on them at the changeable positions
        (the discrete search methods keep their tokens here, so snapshots and logging read them)."""
        self.logits.zero_()
        self.logits[torch.arange(len(self.logits)), ids[self.change_mask]] = 100.0

    def snapped_ids(self) -> Tensor:
        """The real tokens closest to the soft input: argmax where it may change."""
        ids = self.input_ids.clone()
        ids[self.change_mask] = self.logits.detach().argmax(-1)
        return ids
