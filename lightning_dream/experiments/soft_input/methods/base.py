"""What a search method provides to the shared soft-input loop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from lightning_dream.experiments.soft_input.base import SoftInputExperiment


class MethodStep(NamedTuple):
    """One step of a method for every local job."""

    loss: Tensor | None  # (jobs,) what the gradient optimiser minimises; None: no gradient step
    soft: Tensor  # (jobs,) the value the method optimised this step (soft input, or the tokens it started from)
    snapped: Tensor  # (jobs,) the objective of the real tokens ``ids``
    ids: Tensor  # (jobs, L) the real tokens after this step
    temperature: float  # softmax temperature (1.0 for methods without one)


class SearchMethod(nn.Module):
    """A strategy for moving the input. Subclasses implement ``step``; a continuous method also
    ``parameters_to_optimise`` (the optimiser is the experiment's ``optimizer`` option)."""

    def setup(self, exp: SoftInputExperiment) -> None:
        """Called once the soft tokens and the readout exist (per rank)."""

    def parameters_to_optimise(self, exp: SoftInputExperiment) -> list[nn.Parameter]:
        """What the gradient optimiser moves; empty: the method takes no gradient steps."""
        return []

    def optimizer(self, exp: SoftInputExperiment) -> torch.optim.Optimizer | None:
        params = self.parameters_to_optimise(exp)
        if not params:
            return None
        if exp.hparams.optimizer == "sgd":
            return torch.optim.SGD(params, lr=exp.hparams.lr)
        return torch.optim.Adam(params, lr=exp.hparams.lr, fused=True)

    def step(self, exp: SoftInputExperiment, step: int) -> MethodStep:
        raise NotImplementedError

    def snapshot_probs(self, exp: SoftInputExperiment, temperature: float) -> Tensor:
        """The weights a snapshot shows per changeable position: one-hot on the current tokens."""
        return exp.soft.probabilities(1.0)

    def result_fields(self, exp: SoftInputExperiment, row: int) -> dict[str, Any]:
        """Fields of its own the method adds to local job ``row``'s result (EPO: its Pareto front)."""
        return {}


def banned_ids(exp: SoftInputExperiment) -> Tensor:
    """Tokens a discrete method never writes: [CLS], [SEP], [PAD], [MASK], [UNK]."""
    return torch.tensor(sorted(set(exp.tokenizer.all_special_ids)), dtype=torch.long)


def token_gradient(exp: SoftInputExperiment, ids: Tensor) -> tuple[Tensor, Tensor]:
    """The objective of the real tokens ``ids`` (jobs,) and the first-order gain of writing each
    vocabulary token at each changeable position (changeable rows, vocab): the gradient w.r.t.
    the one-hot input (HotFlip), one forward and one backward."""
    table = exp.readout.word_embeddings
    embeds = table[ids].detach().requires_grad_(True)
    value = exp.objective(exp.states(inputs_embeds=embeds), exp.attention_mask)
    (grad,) = torch.autograd.grad(value.sum(), embeds)
    return value.detach(), grad[exp.soft.change_mask] @ table.detach().t()


def swap_candidates(exp: SoftInputExperiment, ids: Tensor, scores: Tensor, count: int, draw: int) -> Tensor:
    """(count, jobs, L): each a copy of ``ids`` with one changeable position swapped for one of its
    ``search_top_k`` tokens by ``scores`` (changeable rows, vocab; banned tokens are set to -inf in
    place); the (position, token) pairs of a job are drawn without repeats from its own random
    stream number ``draw`` (gcg: the step)."""
    k = exp.hparams.search_top_k
    scores[:, banned_ids(exp).to(scores.device)] = float("-inf")
    top = scores.topk(k, dim=-1).indices.cpu()  # (changeable rows, k)
    out = ids.cpu().repeat(count, 1, 1)
    row_job = exp.soft.row_job.cpu()
    for job_row in range(len(ids)):
        rows = (row_job == job_row).nonzero()[:, 0]
        positions = exp.soft.change_mask[job_row].nonzero()[:, 0].cpu()
        generator = exp.job_generator(job_row, draw)
        # distinct (position, token) pairs while there are enough of them
        pairs = torch.randperm(len(rows) * k, generator=generator)[:count]
        if len(pairs) < count:
            pairs = torch.cat([pairs, torch.randint(len(rows) * k, (count - len(pairs),), generator=generator)])
        which, rank = pairs // k, pairs % k
        out[torch.arange(count), job_row, positions[which]] = top[rows[which], rank]
    return out.to(ids.device)
