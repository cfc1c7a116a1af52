"""Dynamics of an iterated map x_{t+1} = F(x_t): Lyapunov exponents, synchronisation, dimension.

Pure functions of a step function and states, so they apply to ALBERT's shared layer and to a
linear map with a known spectrum alike (which is how they are tested). States have shape
(batch, L, H) -- L token positions of H units -- and ``mask`` (batch, L) marks real tokens:
padding never counts in a distance, a spread or a spectrum.

Several perturbation directions / tangent vectors run as stacked copies of the batch, so the
step function must accept (k * batch, L, H) (``AlbertIteration.step_function`` does).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from lightning_dream.errors import ConfigError, check_positive

Step = Callable[[Tensor], Tensor]


def _masked(x: Tensor, mask: Tensor) -> Tensor:
    """Zero padded positions of states (..., B, L, H) with ``mask`` (B, L)."""
    return x * mask[..., None].to(x.dtype)


def random_directions(
    state: Tensor, mask: Tensor, num_directions: int, generator: torch.Generator | None = None
) -> Tensor:
    """Unit-norm random perturbations (k, B, L, H) on the real tokens of each sentence."""
    noise = torch.randn((num_directions, *state.shape), generator=generator, dtype=state.dtype).to(state.device)
    noise = _masked(noise, mask)
    return noise / noise.flatten(2).norm(dim=-1)[..., None, None]


@dataclass
class BenettinState:
    """The reference trajectory and its perturbed copies between windows."""

    state: Tensor  # (B, L, H)
    deltas: Tensor  # (k, B, L, H), each of norm epsilon


def benettin_start(
    state: Tensor, mask: Tensor, epsilon: float, num_directions: int, generator: torch.Generator | None = None
) -> BenettinState:
    check_positive("epsilon", epsilon)
    if num_directions < 1:
        raise ConfigError(f"num_directions={num_directions} must be at least 1")
    return BenettinState(state, epsilon * random_directions(state, mask, num_directions, generator))


def benettin_window(
    step: Step, current: BenettinState, mask: Tensor, epsilon: float, tau: int
) -> tuple[BenettinState, Tensor]:
    """Run ``tau`` steps of the reference and the perturbed copies, then renormalise to ``epsilon``.

    Returns the new state and the local exponent of the window, log(d / epsilon) / tau, per
    (direction, sentence): shape (k, B).
    """
    k, batch = current.deltas.shape[:2]
    x, deltas = current.state, current.deltas
    for _ in range(tau):
        stacked = step(torch.cat([x, (x + deltas).flatten(0, 1)]))
        x = stacked[:batch]
        deltas = _masked(stacked[batch:].view(k, *x.shape) - x, mask)
    distance = deltas.flatten(2).norm(dim=-1)
    local = torch.log(distance / epsilon) / tau
    renormalised = deltas * (epsilon / distance)[..., None, None]
    return BenettinState(x, renormalised), local


@dataclass
class LyapunovEstimate:
    """Local exponents per window (windows, k, B) and their running and overall means."""

    local: Tensor
    tau: int

    @property
    def running_mean(self) -> Tensor:
        """(windows, B): exponent averaged over directions and the windows so far."""
        per_window = self.local.mean(dim=1)
        counts = torch.arange(1, len(per_window) + 1, dtype=per_window.dtype)[:, None]
        return per_window.cumsum(0) / counts

    @property
    def maximal(self) -> Tensor:
        """(B,): the maximal exponent per sentence, averaged over all windows and directions."""
        return self.local.mean(dim=(0, 1))


def maximal_lyapunov(
    step: Step,
    state: Tensor,
    mask: Tensor,
    num_steps: int,
    epsilon: float = 1e-6,
    tau: int = 1,
    num_directions: int = 4,
    generator: torch.Generator | None = None,
) -> LyapunovEstimate:
    """Benettin's method: the maximal Lyapunov exponent per step of the map, per sentence."""
    check_positive("tau", tau)
    if num_steps < tau:
        raise ConfigError(f"num_steps={num_steps} must be at least tau={tau}")
    current = benettin_start(state, mask, epsilon, num_directions, generator)
    local = []
    for _ in range(num_steps // tau):
        current, exponent = benettin_window(step, current, mask, epsilon, tau)
        local.append(exponent)
    return LyapunovEstimate(torch.stack(local), tau)


def lyapunov_spectrum_step(step: Step, state: Tensor, tangents: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """One step of the QR method: push k tangent vectors (k, B, L, H) through the Jacobian (JVPs),
    re-orthonormalise them per sentence. Returns (next state, next tangents, log|diag R| (k, B))."""
    k, batch = tangents.shape[:2]
    primal = state.repeat(k, 1, 1)
    out, pushed = torch.func.jvp(step, (primal,), (tangents.flatten(0, 1),))
    pushed = _masked(pushed.view(k, *state.shape), mask)
    q, r = torch.linalg.qr(pushed.flatten(2).permute(1, 2, 0))  # (B, D, k), (B, k, k)
    growth = torch.diagonal(r, dim1=-2, dim2=-1).abs().log().T  # (k, B)
    return out[:batch], q.permute(2, 0, 1).reshape(tangents.shape), growth


def lyapunov_spectrum(
    step: Step,
    state: Tensor,
    mask: Tensor,
    num_steps: int,
    num_exponents: int = 3,
    generator: torch.Generator | None = None,
) -> Tensor:
    """The leading ``num_exponents`` Lyapunov exponents per sentence, (k, B), largest first."""
    if num_steps < 1:
        raise ConfigError(f"num_steps={num_steps} must be at least 1")
    real_dims = int(mask.sum(dim=1).min()) * state.shape[-1]
    if not 1 <= num_exponents <= real_dims:
        raise ConfigError(f"num_exponents={num_exponents} must be in 1..{real_dims} (the state dimension)")
    tangents = random_directions(state, mask, num_exponents, generator)
    total = torch.zeros(num_exponents, state.shape[0], dtype=state.dtype)
    for _ in range(num_steps):
        state, tangents, growth = lyapunov_spectrum_step(step, state, tangents, mask)
        total = total + growth
    return (total / num_steps).sort(dim=0, descending=True).values


def token_spread(state: Tensor, mask: Tensor) -> Tensor:
    """(B,): std across real token positions, averaged over hidden units. ~0 when tokens synchronise."""
    weights = mask[..., None].to(state.dtype)
    count = weights.sum(dim=1)
    mean = (state * weights).sum(dim=1) / count
    variance = (((state - mean[:, None]) ** 2) * weights).sum(dim=1) / (count - 1).clamp(min=1)
    return variance.sqrt().mean(dim=-1)


def sentence_distances(state: Tensor, mask: Tensor) -> Tensor:
    """(B, B): Euclidean distance between sentences' mean token states (trajectories of different inputs)."""
    weights = mask[..., None].to(state.dtype)
    means = (state * weights).sum(dim=1) / weights.sum(dim=1)
    return torch.cdist(means[None], means[None])[0]


def participation_ratio(state: Tensor, mask: Tensor) -> Tensor:
    """(B,): effective dimension (sum λ)^2 / sum λ^2 of each sentence's token-state covariance.

    1 when the tokens vary along one direction, H when evenly along all; 0 when they coincide.
    """
    ratios = []
    for x, m in zip(state, mask.bool()):
        tokens = x[m] - x[m].mean(dim=0)
        eig = torch.linalg.svdvals(tokens) ** 2
        total = eig.sum()
        ratios.append(total**2 / (eig**2).sum() if total > 0 else total)
    return torch.stack(ratios)


def mean_off_diagonal(matrix: Tensor) -> float:
    """Mean of the off-diagonal entries of a square matrix (nan for 1 x 1)."""
    n = matrix.shape[0]
    return float((matrix.sum() - matrix.diagonal().sum()) / (n * (n - 1))) if n > 1 else math.nan
