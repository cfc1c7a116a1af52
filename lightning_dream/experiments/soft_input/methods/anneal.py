"""Softmax annealing (the original study): gradient ascent on token logits, temperature lowered."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

import torch
from torch import Tensor

from lightning_dream.checks import NonNegativeInt, PositiveFloat, check_arguments
from lightning_dream.experiments.soft_input.methods.base import (
    MethodStep,
    SearchHost,
    SearchMethod,
    gradient_optimizer,
)
from lightning_dream.models.schedules import TemperatureSchedule

#: passes per job of one step: forward and backward of the soft input, forward of the snapped tokens
#: when one changed (an upper bound)
PASSES_PER_STEP = 3
#: the study's run: 3,000 steps, the first 200 at the start temperature
STUDY_STEPS = 3000


class Anneal(SearchMethod):
    """Per step: forward and backward of the soft input (2 passes) and a forward of the snapped
    tokens when any of them changed (1 pass)."""

    name = "anneal"

    def __init__(
        self,
        lr: PositiveFloat = 0.1,
        optimizer: Literal["adam", "sgd"] = "adam",
        start_temp: PositiveFloat = 2.0,
        end_temp: PositiveFloat = 0.1,
        schedule: Literal["constant", "exponential", "linear"] = "exponential",
        warmup: NonNegativeInt = 200,
        gumbel: bool = False,
    ):
        """
        Args:
            lr: learning rate of the token logits.
            optimizer: ``adam`` or ``sgd``.
            start_temp: softmax temperature at the start (kept during ``warmup`` steps).
            end_temp: temperature reached at the last step.
            schedule: how the temperature moves from start to end.
            warmup: steps at ``start_temp`` before annealing.
            gumbel: add Gumbel noise to the logits (the Gumbel-softmax relaxation).
        """
        super().__init__()
        check_arguments(Anneal, locals())
        self.schedule = TemperatureSchedule(start_temp, end_temp, 1, warmup, schedule)
        self.lr, self.optimizer, self.gumbel = lr, optimizer, gumbel

    def settings(self) -> dict[str, Any]:
        s = self.schedule
        return {
            "lr": self.lr,
            "optimizer": self.optimizer,
            "start_temp": s.start_temp,
            "end_temp": s.end_temp,
            "schedule": s.kind,
            "warmup": s.warmup,
            "gumbel": self.gumbel,
        }

    def step_cost(self) -> int:
        return PASSES_PER_STEP

    def fewest_passes(self) -> int:
        return 2

    def for_budget(self, passes: int) -> tuple[Anneal, int]:
        """The study's schedule shortened to the steps the budget buys (3 passes a step at most):
        the warm-up keeps its share of the study's 3,000 steps."""
        steps = math.ceil(passes / PASSES_PER_STEP)
        warmup = round(self.schedule.warmup * min(1.0, steps / STUDY_STEPS))
        return Anneal(**{**self.settings(), "warmup": warmup}), steps

    def start_temperature(self) -> float:
        return self.schedule.start_temp

    def temperature(self, step: int, steps: int) -> float:
        return dataclasses.replace(self.schedule, num_steps=steps)(step)

    def configure_optimizer(self, host: SearchHost) -> torch.optim.Optimizer:
        return gradient_optimizer(list(host.soft.parameters()), self.optimizer, self.lr)

    def step(self, host: SearchHost, step: int) -> MethodStep:
        temperature = self.temperature(step, self.steps)
        noise = host.soft.gumbel_noise(step) if self.gumbel else None
        soft, snapped, ids = host.evaluate(temperature, noise)
        return MethodStep(-soft, soft, snapped, ids, temperature)

    def setup(self, host: SearchHost, steps: int) -> None:
        self.steps = steps

    def snapshot_probs(self, host: SearchHost, temperature: float) -> Tensor:
        # the noise-free weights of this step are still in embeds' buffer (the logits move after training_step)
        return host.soft.probabilities(temperature) if self.gumbel else host.soft.probs_buffer()
