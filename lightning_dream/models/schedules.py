"""Temperature of the softmax-relaxed input as a function of the optimisation step."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

from lightning_dream.errors import ConfigError, check_positive


@dataclass(frozen=True)
class TemperatureSchedule:
    """``start_temp`` for ``warmup`` steps, then annealed to ``end_temp`` at ``num_steps``.

    ``exponential`` anneals geometrically (equal ratios per step), ``linear`` arithmetically,
    ``constant`` stays at ``start_temp``.
    """

    start_temp: float = 2.0
    end_temp: float = 0.1
    num_steps: int = 3000
    warmup: int = 200
    kind: Literal["constant", "exponential", "linear"] = "exponential"

    def __post_init__(self) -> None:
        check_positive("start_temp", self.start_temp)
        check_positive("end_temp", self.end_temp)
        check_positive("num_iterations", self.num_steps)
        if self.warmup < 0:
            raise ConfigError(f"warmup={self.warmup} must be >= 0")

    def __call__(self, step: int) -> float:
        if self.kind == "constant" or step <= self.warmup:
            return self.start_temp
        span = max(self.num_steps - 1 - self.warmup, 1)
        progress = min((step - self.warmup) / span, 1.0)
        if self.kind == "linear":
            return self.start_temp + (self.end_temp - self.start_temp) * progress
        return self.start_temp * math.exp(progress * math.log(self.end_temp / self.start_temp))


def warmup_linear_decay(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_fraction: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """Learning rate rising linearly over the first ``warmup_fraction`` of the steps, then falling
    linearly to zero at ``total_steps`` (BERT's schedule; every trained readout and model uses it)."""
    if not 0 <= warmup_fraction < 1:
        raise ConfigError(f"warmup_fraction={warmup_fraction} must be in [0, 1)")
    total = max(1, total_steps)
    warmup = int(total * warmup_fraction)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
