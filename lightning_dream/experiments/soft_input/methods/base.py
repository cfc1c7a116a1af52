"""What a search method provides to the shared soft-input loop."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

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


def banned_ids(exp: SoftInputExperiment) -> Tensor:
    """Tokens a discrete method never writes: [CLS], [SEP], [PAD], [MASK], [UNK]."""
    return torch.tensor(sorted(set(exp.tokenizer.all_special_ids)), dtype=torch.long)
