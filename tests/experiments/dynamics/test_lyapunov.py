"""Lyapunov runs on the shipped ALBERT: the exponents written are the curves' means."""

from __future__ import annotations

import pytest
import torch

from lightning_dream.errors import ConfigError
from lightning_dream.experiments.dynamics.lyapunov import Lyapunov
from lightning_dream.results import read_results
from tests.helpers import quick_predict

SENTENCES = ["the market fell sharply .", "a new school opened in the city on monday ."]


def test_lyapunov_run_writes_curves_and_spectrum(tmp_path):
    quick_predict(
        Lyapunov(sentences=SENTENCES, num_steps=8, chunk_size=4, tau=2, num_directions=2, num_exponents=2), tmp_path
    )
    results = read_results(tmp_path, "lightning_dream.albert_lyapunov/1")
    assert [row["step"] for row in results["local_exponents"]] == [2, 4, 6, 8]
    local = torch.tensor([row["per_input"] for row in results["local_exponents"]], dtype=torch.float64)
    assert results["maximal_exponent_per_input"] == pytest.approx(local.mean(dim=0).tolist())
    assert results["maximal_exponent"] == pytest.approx(float(local.mean()))
    assert len(results["spectrum"]) == 2 and len(results["spectrum"][0]) == 2
    assert results["spectrum"][0][0] >= results["spectrum"][0][1]
    table = Lyapunov(sentences=SENTENCES).summary_table(results)  # the end-of-run table, one row per input
    assert [row[-1] for row in table.rows] == results["maximal_exponent_per_input"]
    assert [row[1] for row in table.rows] == results["tokens_per_input"]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Lyapunov(epsilon=0.0), "epsilon=0.0 must be positive"),
        (lambda: Lyapunov(epsilon=-1e-3), "epsilon=-0.001 must be positive"),
        (lambda: Lyapunov(chunk_size=10, tau=3), "chunk_size=10 must be a multiple of tau=3"),
    ],
)
def test_bad_settings_fail_before_any_model_work(make, message):
    with pytest.raises(ConfigError, match=message):
        make()
