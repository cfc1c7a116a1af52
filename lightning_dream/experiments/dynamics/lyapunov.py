"""Lyapunov: the maximal exponent (Benettin, renormalised perturbations) and optionally the
leading spectrum (QR of tangent vectors) of ALBERT's shared layer iterated N times (``predict``).

    lightning-dream predict --config configs/lyapunov.yaml
"""

from __future__ import annotations

from typing import Any

import torch

from lightning_dream.checks import AtLeastOne, NonNegativeInt, PositiveFloat, PositiveInt
from lightning_dream.errors import ConfigError
from lightning_dream.experiments.dynamics.base import IteratedSystemRun
from lightning_dream.models import dynamics
from lightning_dream.results import ALBERT_LYAPUNOV_FORMAT, Summary


class Lyapunov(IteratedSystemRun):
    result_format = ALBERT_LYAPUNOV_FORMAT

    def __init__(
        self,
        epsilon: PositiveFloat = 1e-6,
        tau: PositiveInt = 1,
        num_directions: AtLeastOne = 4,
        num_exponents: NonNegativeInt = 0,
        seed: int = 0,
        **kwargs,
    ):
        """
        Args:
            epsilon: size of the perturbation, renormalised back to it after every window.
            tau: steps per window (the distance is measured and renormalised every ``tau`` steps).
            num_directions: independent random perturbation directions (averaged).
            num_exponents: also estimate the leading k exponents by QR re-orthonormalisation of
                k tangent vectors pushed through Jacobian-vector products (0: skip, costs k JVPs per step).
            seed: seed of the directions.
            **kwargs: see ``IteratedSystemRun``.
        """
        super().__init__(**kwargs)
        self.save_hyperparameters()
        if self.hparams.chunk_size % tau:
            raise ConfigError(f"chunk_size={self.hparams.chunk_size} must be a multiple of tau={tau}")

    def configure_model(self) -> None:
        if hasattr(self, "system"):
            return
        super().configure_model()
        generator = torch.Generator().manual_seed(self.hparams.seed)
        self.benettin = dynamics.benettin_start(
            self.state, self.mask, self.hparams.epsilon, self.hparams.num_directions, generator
        )
        if self.hparams.num_exponents:
            self.tangent_state = self.state
            self.tangents = dynamics.random_directions(self.state, self.mask, self.hparams.num_exponents, generator)
            self.log_growth = torch.zeros(self.hparams.num_exponents, self.mask.shape[0], dtype=self.dtype_)
        self.exponent_sum = torch.zeros(self.mask.shape[0], dtype=self.dtype_)  # per input, over windows
        self.windows = 0
        self.record(0, self.state)

    @torch.no_grad()
    def predict_step(self, batch: int, batch_idx: int) -> None:
        tau, eps, steps = self.hparams.tau, self.hparams.epsilon, self.chunk_steps()
        for _ in range(steps // tau):
            self.benettin, local = dynamics.benettin_window(self.apply_layer, self.benettin, self.mask, eps, tau)
            self.current_step += tau
            self.exponent_sum += local.mean(dim=0)
            self.windows += 1
            self.curves.setdefault("local_exponents", []).append(
                {"step": self.current_step, "per_input": local.mean(dim=0).tolist()}
            )
            self.record(self.current_step, self.benettin.state)
            self.log_scalars(
                self.current_step, {"local_lyapunov": float(local.mean()), "lyapunov_running_mean": self.maximal()}
            )
        if self.hparams.num_exponents:
            with torch.enable_grad():
                for _ in range(steps):
                    self.tangent_state, self.tangents, growth = dynamics.lyapunov_spectrum_step(
                        self.apply_layer, self.tangent_state, self.tangents, self.mask
                    )
                    self.log_growth += growth

    def maximal(self) -> float:
        """Running mean over windows, directions and inputs (kept as a sum: O(1) per window)."""
        return float(self.exponent_sum.mean() / self.windows)

    def summary_table(self, payload: dict[str, Any]) -> Summary:
        """The base table plus each input's maximal exponent (per step)."""
        table = super().summary_table(payload)
        exponents = payload.get("maximal_exponent_per_input") or [None] * len(table.rows)
        rows = [row + [exponent] for row, exponent in zip(table.rows, exponents)]
        return Summary(table.title, table.columns + ["maximal exponent"], rows)

    def summary(self) -> dict[str, Any]:
        if not self.windows:
            why = f"no complete window: num_steps={self.hparams.num_steps} < tau={self.hparams.tau}"
            out: dict[str, Any] = {"maximal_exponent": None, "maximal_exponent_undefined": why}
            out.update(maximal_exponent_per_input=None, maximal_exponent_per_input_undefined=why)
        else:
            per_input = self.exponent_sum / self.windows
            out = {"maximal_exponent": self.maximal(), "maximal_exponent_per_input": per_input.tolist()}
        if self.hparams.num_exponents:
            out["spectrum"] = (self.log_growth / self.current_step).sort(dim=0, descending=True).values.T.tolist()
        return out
