"""The dynamics measures recover known answers on maps whose answer is known."""

from __future__ import annotations

import math

import pytest
import torch

from lightning_dream.errors import ConfigError
from lightning_dream.models.dynamics import (
    benettin_start,
    lyapunov_spectrum,
    maximal_lyapunov,
    participation_ratio,
    sentence_distances,
    token_spread,
)

EIGENVALUES = [1.5, 1.2, 0.9, 0.7, 0.5, 0.4, 0.3, 0.2]


def _linear_map(eigenvalues: list[float], seed: int = 0):
    """x -> A x on the flattened (L, H) state, A symmetric with the given spectrum."""
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(len(eigenvalues), len(eigenvalues), generator=gen, dtype=torch.float64))
    matrix = q @ torch.diag(torch.tensor(eigenvalues, dtype=torch.float64)) @ q.T

    def step(x: torch.Tensor) -> torch.Tensor:
        return (x.flatten(1) @ matrix.T).view(x.shape)

    return step


def _start(batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed point 0 of a linear map: the reference stays put (an expanding map would carry a
    non-zero state past the perturbation's float resolution), the perturbations see A exactly."""
    state = torch.zeros(batch, 4, 2, dtype=torch.float64)
    return state, torch.ones(batch, 4, dtype=torch.long)


@pytest.mark.parametrize("tau", [1, 5])
def test_benettin_recovers_largest_exponent_of_linear_map(tau):
    state, mask = _start()
    estimate = maximal_lyapunov(
        _linear_map(EIGENVALUES),
        state,
        mask,
        num_steps=300,
        epsilon=1e-6,
        tau=tau,
        num_directions=3,
        generator=torch.Generator().manual_seed(2),
    )
    assert estimate.local.shape == (300 // tau, 3, 2)
    torch.testing.assert_close(
        estimate.maximal, torch.full((2,), math.log(1.5), dtype=torch.float64), atol=0.01, rtol=0
    )
    assert abs(float(estimate.running_mean[-1].mean()) - math.log(1.5)) < 0.01


def test_benettin_sees_contraction_as_negative():
    state, mask = _start()
    estimate = maximal_lyapunov(_linear_map([0.8, 0.6, 0.5, 0.4, 0.3, 0.3, 0.2, 0.1]), state, mask, num_steps=200)
    assert abs(float(estimate.maximal.mean()) - math.log(0.8)) < 0.01


def test_qr_method_recovers_leading_spectrum_of_linear_map():
    state, mask = _start()
    spectrum = lyapunov_spectrum(
        _linear_map(EIGENVALUES),
        state,
        mask,
        num_steps=300,
        num_exponents=3,
        generator=torch.Generator().manual_seed(3),
    )
    expected = torch.tensor([math.log(v) for v in EIGENVALUES[:3]], dtype=torch.float64)[:, None].expand(3, 2)
    torch.testing.assert_close(spectrum, expected, atol=0.02, rtol=0)


def test_padding_is_ignored_by_spread_and_distance():
    state = torch.zeros(2, 3, 4)
    state[0, 2] = 100.0  # a padded position far away
    state[1] = torch.tensor([[1.0, 0, 0, 0], [3.0, 0, 0, 0], [5.0, 0, 0, 0]])
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    spread = token_spread(state, mask)
    assert spread[0] == 0  # the real tokens coincide: synchronised
    torch.testing.assert_close(spread[1], torch.tensor(2.0 / 4))  # std 2 on one of four units
    assert sentence_distances(state, mask)[0, 1] == pytest.approx(3.0)


def test_participation_ratio_counts_directions_of_variation():
    gen = torch.Generator().manual_seed(0)
    line = torch.randn(1, 50, 1, generator=gen) * torch.tensor([1.0, 2.0, 0.0])
    cloud = torch.randn(1, 5000, 3, generator=gen)
    mask = torch.ones(1, 50, dtype=torch.long)
    assert participation_ratio(line, mask).item() == pytest.approx(1.0)
    assert participation_ratio(cloud, torch.ones(1, 5000, dtype=torch.long)).item() == pytest.approx(3.0, abs=0.1)


@pytest.mark.parametrize("epsilon", [0.0, -1e-3])
def test_non_positive_perturbation_is_refused(epsilon):
    state, mask = _start()
    with pytest.raises(ConfigError, match=f"epsilon={epsilon} must be positive"):
        benettin_start(state, mask, epsilon, num_directions=2)
