"""What a search method is, and the narrow view of its host experiment it works through.

A method owns its settings (its ``__init__`` arguments, typed, so LightningCLI reads them), its
optimiser (or none), its cost per step in encoder passes and its state (checkpointed through
``get_extra_state``). The host experiment (``SoftInputExperiment``) owns the jobs, the soft
tokens, the objective and the budget; it calls the method through the hooks below and knows no
method by name. A method sees the host only as a ``SearchHost``.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar, NamedTuple, Protocol

import torch
from torch import Tensor, nn

from lightning_dream.models.fluency import Fluency, FluencyScore
from lightning_dream.models.soft_tokens import SoftTokens


class SearchHost(Protocol):
    """What a method may use of the experiment hosting it (per rank: its local jobs, side by side
    as rows of (jobs, L) tensors)."""

    soft: SoftTokens  # the current input: logits, changeable positions, snapped and set real tokens
    attention_mask: Tensor  # (jobs, L)
    fluency: Fluency | None  # the fluency scorer, when the run scores fluency (always for ``needs_fluency``)
    fluency_weight: float | None  # λ of the objective's fluency term (None or 0: none)
    device: torch.device

    @property
    def word_embeddings(self) -> Tensor:
        """The encoder's input embedding table (vocab, H)."""

    @property
    def special_ids(self) -> Tensor:
        """Token ids a method never writes ([CLS], [SEP], [PAD], [MASK], [UNK]), sorted."""

    def objective_of(self, **inputs: Tensor) -> Tensor:
        """The objective (jobs,) of ``input_ids`` or ``inputs_embeds`` (jobs, L[, H]), with grad."""

    def evaluate(self, temperature: float, noise: Tensor | None = None) -> Evaluation:
        """The soft input's objective at ``temperature`` (with grad) and its snapped tokens' value."""

    def candidate_values(self, candidates: Tensor) -> Tensor:
        """The objective (count, jobs) of real-token candidates (count, jobs, L)."""

    def fluency_of(self, ids: Tensor) -> FluencyScore:
        """The fluency of real tokens (rows, L), rows cycling through the jobs."""

    def job_generator(self, row: int, draw: int) -> torch.Generator:
        """Job ``row``'s own random stream number ``draw`` (independent of batching and device)."""

    def remember_snapped(self, ids: Tensor, value: Tensor) -> None:
        """Hand over the value of real tokens the method evaluated itself (no second forward)."""

    def tokens(self, ids: Tensor, row: int) -> list[str]:
        """Row ``row`` of ``ids`` as the job's tokens."""

    def text(self, ids: Tensor, row: int) -> str:
        """Row ``row`` of ``ids`` as the job's sentence."""


class Evaluation(NamedTuple):
    """One step's objective of every local job, for the soft input and for its snapped tokens."""

    soft: Tensor  # (jobs,), with grad
    snapped: Tensor  # (jobs,), the real tokens ``ids``
    ids: Tensor  # (jobs, L) the snapped token ids


class MethodStep(NamedTuple):
    """One step of a method for every local job."""

    loss: Tensor | None  # (jobs,) what the gradient optimiser minimises; None: no gradient step
    soft: Tensor  # (jobs,) the value the method optimised this step (soft input, or the tokens it started from)
    snapped: Tensor  # (jobs,) the objective of the real tokens ``ids``
    ids: Tensor  # (jobs, L) the real tokens after this step
    temperature: float  # softmax temperature (1.0 for methods without one)


class SearchMethod(nn.Module):
    """A strategy for moving the input. Subclasses set ``name`` (their registry key, what results
    call them), implement ``step`` and say what a step costs; a continuous method also returns its
    optimiser from ``configure_optimizer``."""

    #: the method's name in configs (``method: gcg``), results and reports
    name: ClassVar[str] = ""
    #: the method needs the fluency scorer whatever the run's ``fluency_weight`` (EPO)
    needs_fluency: ClassVar[bool] = False

    def settings(self) -> dict[str, Any]:
        """The method's own settings (its ``__init__`` arguments and their values)."""
        return {}

    def spec(self) -> dict[str, Any]:
        """The method as a config writes it, ``{class_path, init_args}``: what results, checkpoints
        and resume checks hold (a method outside the registry is found again by its import path)."""
        klass = type(self)
        return {"class_path": f"{klass.__module__}.{klass.__qualname__}", "init_args": self.settings()}

    def step_cost(self) -> int:
        """The most encoder passes per job one step spends (without the fluency model's passes)."""
        raise NotImplementedError

    def fewest_passes(self) -> int:
        """The fewest encoder passes per job one step can spend (a run's longest step count is its
        budget over this)."""
        return self.step_cost()

    def for_budget(self, passes: int) -> tuple[SearchMethod, int]:
        """This method set for a budget of ``passes`` per job, and how many steps to allow: the
        budget ends the run (one more step than passes: a step spends at least one)."""
        return self, passes + 1

    def check_objective(self, fluency_weight: float | None) -> None:
        """Refuse (ConfigError) an objective the method cannot optimise; called before any model work."""

    def start_temperature(self) -> float:
        """The softmax temperature the soft input starts at (the ``sentence`` init is peaked for it)."""
        return 1.0

    def temperature(self, step: int, steps: int) -> float:
        """The softmax temperature at ``step`` of ``steps``."""
        return 1.0

    def setup(self, host: SearchHost, steps: int) -> None:
        """Called once the host's soft tokens and readout exist (per rank); ``steps``: the run's."""

    def configure_optimizer(self, host: SearchHost) -> torch.optim.Optimizer | None:
        """The gradient optimiser of a continuous method; None: the method takes no gradient steps."""
        return None

    def step(self, host: SearchHost, step: int) -> MethodStep:
        raise NotImplementedError

    def snapshot_probs(self, host: SearchHost, temperature: float) -> Tensor:
        """The weights a snapshot shows per changeable position: one-hot on the current tokens."""
        return host.soft.probabilities(1.0)

    def result_fields(self, host: SearchHost, row: int) -> dict[str, Any]:
        """Fields of its own the method adds to local job ``row``'s result (EPO: its Pareto front)."""
        return {}

    def copy(self) -> SearchMethod:
        """A fresh copy with the same settings (one per host, so no state is shared)."""
        return copy.deepcopy(self)


def gradient_optimizer(
    params: list[nn.Parameter], kind: str, lr: float, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """``adam`` (AdamW when ``weight_decay``; plain Adam is fused: one pass over the logits instead of
    ~6 with (jobs x positions, vocab) temporaries, the same update up to rounding) or ``sgd``."""
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if weight_decay:
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.Adam(params, lr=lr, fused=True)


def token_gradient(host: SearchHost, ids: Tensor) -> tuple[Tensor, Tensor]:
    """The objective of the real tokens ``ids`` (jobs,) and the first-order gain of writing each
    vocabulary token at each changeable position (changeable rows, vocab): the gradient w.r.t.
    the one-hot input (HotFlip), one forward and one backward."""
    table = host.word_embeddings
    embeds = table[ids].detach().requires_grad_(True)
    value = host.objective_of(inputs_embeds=embeds)
    (grad,) = torch.autograd.grad(value.sum(), embeds)
    return value.detach(), grad[host.soft.change_mask] @ table.detach().t()


def swap_candidates(host: SearchHost, ids: Tensor, scores: Tensor, count: int, top_k: int, draw: int) -> Tensor:
    """(count, jobs, L): each a copy of ``ids`` with one changeable position swapped for one of its
    ``top_k`` tokens by ``scores`` (changeable rows, vocab; banned tokens are set to -inf in
    place); the (position, token) pairs of a job are drawn without repeats from its own random
    stream number ``draw``."""
    scores[:, host.special_ids.to(scores.device)] = float("-inf")
    top = scores.topk(top_k, dim=-1).indices.cpu()  # (changeable rows, top_k)
    out = ids.cpu().repeat(count, 1, 1)
    row_job = host.soft.row_job.cpu()
    for job_row in range(len(ids)):
        rows = (row_job == job_row).nonzero()[:, 0]
        positions = host.soft.change_mask[job_row].nonzero()[:, 0].cpu()
        generator = host.job_generator(job_row, draw)
        # distinct (position, token) pairs while there are enough of them
        pairs = torch.randperm(len(rows) * top_k, generator=generator)[:count]
        if len(pairs) < count:
            pairs = torch.cat([pairs, torch.randint(len(rows) * top_k, (count - len(pairs),), generator=generator)])
        which, rank = pairs // top_k, pairs % top_k
        out[torch.arange(count), job_row, positions[which]] = top[rows[which], rank]
    return out.to(ids.device)
