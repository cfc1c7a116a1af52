"""PEZ (Wen et al. 2023, "Hard prompts made easy"): continuous embeddings optimised, projected to
the nearest vocabulary embedding (cosine) for every forward pass, the gradient taken at the
projection and applied to the continuous embeddings (straight-through). Every forward runs real
tokens, so its value is the snapped value: a forward and a backward, 2 passes a step.
Published: AdamW, lr 0.1, weight decay 0.1 (the defaults).
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor, nn

from lightning_dream.checks import NonNegativeFloat, PositiveFloat, check_arguments
from lightning_dream.experiments.soft_input.methods.base import (
    MethodStep,
    SearchHost,
    SearchMethod,
    gradient_optimizer,
)


class StraightThrough(torch.autograd.Function):
    """Forward: the projected embeddings exactly; backward: their gradient to the continuous ones."""

    @staticmethod
    def forward(ctx, continuous: Tensor, projected: Tensor) -> Tensor:
        return projected.clone()

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:
        return grad, None


class PEZ(SearchMethod):
    name = "pez"

    def __init__(
        self, lr: PositiveFloat = 0.1, optimizer: Literal["adam", "sgd"] = "adam", weight_decay: NonNegativeFloat = 0.1
    ):
        """
        Args:
            lr: learning rate of the continuous embeddings.
            optimizer: ``adam`` (AdamW) or ``sgd``.
            weight_decay: decoupled weight decay of the continuous embeddings (PEZ's 0.1).
        """
        super().__init__()
        check_arguments(PEZ, locals())
        self.lr, self.optimizer, self.weight_decay = lr, optimizer, weight_decay

    def settings(self) -> dict[str, Any]:
        return {"lr": self.lr, "optimizer": self.optimizer, "weight_decay": self.weight_decay}

    def step_cost(self) -> int:
        return 2

    def setup(self, host: SearchHost, steps: int) -> None:
        ids = host.soft.snapped_ids()
        host.soft.set_ids(ids)
        self.embeddings = nn.Parameter(host.word_embeddings.detach()[ids[host.soft.change_mask]].clone())

    def configure_optimizer(self, host: SearchHost) -> torch.optim.Optimizer:
        return gradient_optimizer([self.embeddings], self.optimizer, self.lr, self.weight_decay)

    def project(self, host: SearchHost) -> Tensor:
        """The vocabulary token nearest (cosine) to each continuous embedding."""
        table = host.word_embeddings.detach()
        similarity = (
            nn.functional.normalize(self.embeddings.detach(), dim=-1) @ nn.functional.normalize(table, dim=-1).t()
        )
        similarity[:, host.special_ids.to(similarity.device)] = float("-inf")
        return similarity.argmax(-1)

    def step(self, host: SearchHost, step: int) -> MethodStep:
        table = host.word_embeddings.detach()
        change = host.soft.change_mask
        ids = host.soft.input_ids.clone()
        ids[change] = self.project(host)
        moved = StraightThrough.apply(self.embeddings, table[ids[change]])
        embeds = table[ids].masked_scatter(change.unsqueeze(-1), moved)
        value = host.objective_of(inputs_embeds=embeds)
        host.soft.set_ids(ids)
        host.remember_snapped(ids, value.detach())
        return MethodStep(-value, value.detach(), value.detach(), ids, 1.0)
