"""EPO (Thompson & Sklar 2024, "Fluent dreaming for language models"): a population across fluency
weights, gradient-ranked single-token mutations, and the Pareto front of activation vs fluency.

Per step (a generation) and job, each member (one per λ of ``fluency_weights``) ranks tokens per
changeable position by the first-order gain of activation + λ x fluency:

- activation: the gradient w.r.t. the one-hot input (HotFlip, as gcg: a forward and a backward);
- fluency: for each changeable position, the MLM's log-probability of every token there with the
  position masked, minus its unigram log-probability, per token (``Fluency.swap_gains``). That is
  the exact change of the swapped position's own terms of the fluency (PLL - unigram); what the swap
  does to the other positions' PLL terms is left to the exact evaluation. EPO on a causal LM ranks
  by the model's next-token log-probabilities; this is the masked LM's counterpart and costs one
  MLM pass per changeable position, where a gradient of the PLL itself would cost a forward and a
  backward of every masked copy. A member with λ = 0 spends none.

``candidates`` single-token mutations per job (split across the members, from each member's top
``top_k``) are then evaluated exactly: the activation truncated at the target layer (one pass
each) and the fluency by ``models.fluency`` (one MLM pass per scored token). Each λ's member is
replaced by the best of the pool (members and mutations) under its own λ; every evaluated point is
offered to the job's Pareto front. The final is the front member with the highest activation, which
is also the best snapped input seen.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from lightning_dream.checks import PositiveInt, check_arguments
from lightning_dream.errors import ConfigError
from lightning_dream.experiments.soft_input.methods.base import (
    MethodStep,
    SearchHost,
    SearchMethod,
    swap_candidates,
    token_gradient,
)
from lightning_dream.models.fluency import FluencyScore

#: a front point's numbers, in this order
FRONT_FIELDS = ("activation", "fluency", "pll", "unigram")


class ParetoFront:
    """One job's non-dominated points (activation up, fluency up), each with its tokens, sorted
    by activation (highest first); a token sequence is held once."""

    def __init__(self, ids: Tensor | None = None, values: Tensor | None = None):
        self.ids = ids  # (n, L)
        self.values = values  # (n, 4): FRONT_FIELDS

    def offer(self, ids: Tensor, values: Tensor) -> None:
        ids, values = ids.cpu(), values.float().cpu()
        if self.ids is not None:
            ids, values = torch.cat([self.ids, ids]), torch.cat([self.values, values])
        _, inverse = torch.unique(ids, dim=0, return_inverse=True)
        first = torch.full((int(inverse.max()) + 1,), len(ids)).scatter_reduce(
            0, inverse, torch.arange(len(ids)), "amin"
        )
        ids, values = ids[first], values[first]
        activation, fluency = values[:, 0], values[:, 1]
        # [i, j]: point j dominates point i (as good in both, better in one)
        at_least = (activation[None] >= activation[:, None]) & (fluency[None] >= fluency[:, None])
        better = (activation[None] > activation[:, None]) | (fluency[None] > fluency[:, None])
        keep = ~(at_least & better).any(1)
        order = torch.argsort(activation[keep], descending=True, stable=True)
        self.ids, self.values = ids[keep][order], values[keep][order]

    def top(self) -> tuple[Tensor, Tensor]:
        """Tokens and activation of the member with the highest activation."""
        return self.ids[0], self.values[0, 0]


def front_values(activation: Tensor, score: FluencyScore) -> Tensor:
    """(..., 4) in FRONT_FIELDS order."""
    return torch.stack([activation.float(), score.fluency, score.pll, score.unigram], -1)


class EPO(SearchMethod):
    name = "epo"
    needs_fluency = True

    def __init__(
        self,
        top_k: PositiveInt = 256,
        candidates: PositiveInt = 64,
        fluency_weights: list[float] = [0.0, 0.25, 1.0, 4.0],  # noqa: B006  (jsonargparse shows the default)
    ):
        """
        Args:
            top_k: tokens ranked per changeable position that each member's mutations are drawn from.
            candidates: single-token mutations evaluated exactly per step and job, split evenly
                across the members (at least one each).
            fluency_weights: one population member per λ, each kept on activation + λ x fluency
                (default: activation alone and log-uniform 1/4..4).
        """
        super().__init__()
        check_arguments(EPO, locals())
        self.top_k, self.candidates = top_k, candidates
        if not (fluency_weights and all(0 <= w < math.inf for w in fluency_weights)):
            raise ConfigError(f"fluency_weights={fluency_weights} must be a non-empty list of finite λ >= 0")
        self.fluency_weights = [float(w) for w in fluency_weights]

    def settings(self) -> dict[str, Any]:
        return {"top_k": self.top_k, "candidates": self.candidates, "fluency_weights": self.fluency_weights}

    def step_cost(self) -> int:
        """A gradient per member at the start, then the mutations; the MLM passes (one per scored
        word) come on top, so this is a lower bound."""
        return 2 * len(self.fluency_weights) + self.candidates

    def fewest_passes(self) -> int:
        members = len(self.fluency_weights)  # the mutations are split evenly across the members
        return members * max(1, self.candidates // members)

    def check_objective(self, fluency_weight: float | None) -> None:
        if fluency_weight:
            raise ConfigError(
                f"fluency_weight={fluency_weight} is gcg's one λ: epo's population takes its λ from fluency_weights"
            )

    def setup(self, host: SearchHost, steps: int) -> None:
        ids = host.soft.snapped_ids()
        host.soft.set_ids(ids)
        self.weights = torch.tensor(self.fluency_weights)
        self.members = ids.repeat(len(self.weights), 1, 1)  # (P, jobs, L)
        self.member_activation: Tensor | None = None  # (P, jobs), set by the first generation
        self.member_fluency: Tensor | None = None
        self.fronts = [ParetoFront() for _ in range(len(ids))]

    def step(self, host: SearchHost, step: int) -> MethodStep:
        weights, members = self.weights.to(host.device), self.members
        gains, first_value = self.rankings(host)
        if self.member_activation is None:  # the start: every member is the start sentence
            score = host.fluency_of(members[0])
            self.member_activation = first_value.repeat(len(weights), 1)
            self.member_fluency = score.fluency.repeat(len(weights), 1)
            self.offer(members[0][None], front_values(first_value, score)[None])
        ids, value = self.top(host)
        per_member = max(1, self.candidates // len(weights))
        mutations = torch.cat(
            [
                swap_candidates(host, members[m], gains[m], per_member, self.top_k, step * len(weights) + m)
                for m in range(len(weights))
            ]
        )  # (P x per_member, jobs, L)
        activation = host.candidate_values(mutations)
        score = host.fluency_of(mutations.flatten(0, 1))
        score = FluencyScore(*(part.view_as(activation) for part in score))
        self.offer(mutations, front_values(activation, score))
        # each λ keeps the best of members and mutations under its own objective
        pool = torch.cat([members, mutations])
        pool_activation = torch.cat([self.member_activation, activation])
        pool_fluency = torch.cat([self.member_fluency, score.fluency])
        pick = (pool_activation[None] + weights[:, None, None] * pool_fluency[None]).argmax(1)  # (P, jobs)
        jobs = torch.arange(members.shape[1], device=pick.device)[None]
        self.members, self.member_activation, self.member_fluency = (
            pool[pick, jobs],
            pool_activation[pick, jobs],
            pool_fluency[pick, jobs],
        )
        new_ids, new_value = self.top(host)
        host.soft.set_ids(new_ids)
        host.remember_snapped(new_ids, new_value)
        # as gcg: the step reports the tokens it started from (step 0: the start); the new front's
        # top is reported by the next step, or by the final evaluation
        return MethodStep(None, value, value, ids, 1.0)

    def rankings(self, host: SearchHost) -> tuple[list[Tensor], Tensor]:
        """Per member the first-order gains (changeable rows, vocab) of activation + λ x fluency,
        and member 0's activation; members with the same tokens share their passes."""
        activation_gains: dict[int, Tensor] = {}
        fluency_gains: dict[int, Tensor] = {}
        gains = []
        for m, weight in enumerate(self.weights.tolist()):
            same = next(n for n in range(m + 1) if torch.equal(self.members[n], self.members[m]))
            if same not in activation_gains:
                activation_gains[same] = token_gradient(host, self.members[same])
            gain = activation_gains[same][1].clone()
            if weight:
                if same not in fluency_gains:
                    fluency_gains[same] = host.fluency.swap_gains(
                        self.members[same], host.attention_mask, host.soft.change_mask
                    )
                gain += weight * fluency_gains[same]
            gains.append(gain)
        return gains, activation_gains[0][0]

    def offer(self, ids: Tensor, values: Tensor) -> None:
        """Offer points (count, jobs, L) with their FRONT_FIELDS (count, jobs, 4) to each job's front."""
        for row, front in enumerate(self.fronts):
            front.offer(ids[:, row], values[:, row])

    def top(self, host: SearchHost) -> tuple[Tensor, Tensor]:
        """Every job's front member with the highest activation: (jobs, L) tokens, (jobs,) values."""
        ids, values = zip(*(front.top() for front in self.fronts))
        return torch.stack(ids).to(host.device), torch.stack(values).to(host.device)

    def result_fields(self, host: SearchHost, row: int) -> dict[str, Any]:
        front = self.fronts[row]
        return {
            "front": [
                {
                    # host.tokens/text read row ``row`` of a batch: this point stands in every row
                    "tokens": host.tokens(ids.expand(row + 1, -1), row),
                    "sentence": host.text(ids.expand(row + 1, -1), row),
                    **{name: float(v) for name, v in zip(FRONT_FIELDS, values)},
                }
                for ids, values in zip(front.ids, front.values)
            ]
        }

    # the population and the fronts ride in the checkpoint's state_dict, so a resume is exact
    def get_extra_state(self) -> dict[str, Any]:
        if not hasattr(self, "fronts"):
            return {}
        return {
            "members": self.members,
            "activation": self.member_activation,
            "fluency": self.member_fluency,
            "fronts": [(f.ids, f.values) for f in self.fronts],
        }

    def set_extra_state(self, state: dict[str, Any]) -> None:
        if not state:
            return
        self.members, self.member_activation, self.member_fluency = (
            state["members"],
            state["activation"],
            state["fluency"],
        )
        self.fronts = [ParetoFront(ids, values) for ids, values in state["fronts"]]
