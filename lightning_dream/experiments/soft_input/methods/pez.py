"""PEZ (Wen et al. 2023, "Hard prompts made easy"): continuous embeddings optimised, projected to
the nearest vocabulary embedding (cosine) for every forward pass, the gradient taken at the
projection and applied to the continuous embeddings (straight-through). Every forward runs real
tokens, so its value is the snapped value: a forward and a backward, 2 passes a step.
Published: AdamW, lr 0.1, weight decay 0.1 (``optimizer: adam`` here means AdamW with that decay).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from lightning_dream.experiments.soft_input.methods.base import MethodStep, SearchMethod, banned_ids

if TYPE_CHECKING:
    from lightning_dream.experiments.soft_input.base import SoftInputExperiment

WEIGHT_DECAY = 0.1


class StraightThrough(torch.autograd.Function):
    """Forward: the projected embeddings exactly; backward: their gradient to the continuous ones."""

    @staticmethod
    def forward(ctx, continuous: Tensor, projected: Tensor) -> Tensor:
        return projected.clone()

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:
        return grad, None


class ProjectedEmbeddings(SearchMethod):
    def setup(self, exp: SoftInputExperiment) -> None:
        ids = exp.soft.snapped_ids()
        exp.soft.set_ids(ids)
        self.embeddings = nn.Parameter(exp.readout.word_embeddings.detach()[ids[exp.soft.change_mask]].clone())

    def parameters_to_optimise(self, exp: SoftInputExperiment) -> list[nn.Parameter]:
        return [self.embeddings]

    def optimizer(self, exp: SoftInputExperiment) -> torch.optim.Optimizer:
        if exp.hparams.optimizer == "sgd":
            return torch.optim.SGD([self.embeddings], lr=exp.hparams.lr, weight_decay=WEIGHT_DECAY)
        return torch.optim.AdamW([self.embeddings], lr=exp.hparams.lr, weight_decay=WEIGHT_DECAY)

    def project(self, exp: SoftInputExperiment) -> Tensor:
        """The vocabulary token nearest (cosine) to each continuous embedding."""
        table = exp.readout.word_embeddings.detach()
        similarity = (
            nn.functional.normalize(self.embeddings.detach(), dim=-1) @ nn.functional.normalize(table, dim=-1).t()
        )
        similarity[:, banned_ids(exp).to(similarity.device)] = float("-inf")
        return similarity.argmax(-1)

    def step(self, exp: SoftInputExperiment, step: int) -> MethodStep:
        table = exp.readout.word_embeddings.detach()
        change = exp.soft.change_mask
        ids = exp.soft.input_ids.clone()
        ids[change] = self.project(exp)
        moved = StraightThrough.apply(self.embeddings, table[ids[change]])
        embeds = table[ids].masked_scatter(change.unsqueeze(-1), moved)
        value = exp.objective(exp.states(inputs_embeds=embeds), exp.attention_mask)
        exp.soft.set_ids(ids)
        exp.remember_snapped(ids, value.detach())
        return MethodStep(-value, value.detach(), value.detach(), ids, 1.0)
