"""Softmax annealing (the original study): gradient ascent on token logits, temperature lowered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import Tensor, nn

from lightning_dream.experiments.soft_input.methods.base import MethodStep, SearchMethod

if TYPE_CHECKING:
    from lightning_dream.experiments.soft_input.base import SoftInputExperiment


class Anneal(SearchMethod):
    """Per step: forward and backward of the soft input (2 passes) and a forward of the snapped
    tokens when any of them changed (1 pass)."""

    def parameters_to_optimise(self, exp: SoftInputExperiment) -> list[nn.Parameter]:
        return list(exp.soft.parameters())

    def step(self, exp: SoftInputExperiment, step: int) -> MethodStep:
        temperature = exp.schedule(step)
        soft, snapped, ids = exp.evaluate(step, temperature)
        return MethodStep(-soft, soft, snapped, ids, temperature)

    def snapshot_probs(self, exp: SoftInputExperiment, temperature: float) -> Tensor:
        # the noise-free weights of this step are still in embeds' buffer (the logits move after training_step)
        return exp.soft.probabilities(temperature) if exp.hparams.gumbel else exp.soft.probs_buffer()
