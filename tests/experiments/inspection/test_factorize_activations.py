"""FactorizeActivations on the real MiniLM: NMF of feed-forward activations into components."""

import pytest
import torch

from lightning_dream.errors import ConfigError
from lightning_dream.experiments import FactorizeActivations


def factorize(trainer_factory, **kwargs) -> dict:
    module = FactorizeActivations(**kwargs)
    trainer_factory().predict(module)
    return module.job_results()[0]


def test_components_weigh_tokens_and_name_their_neurons(trainer_factory):
    job = factorize(trainer_factory, n_components=4, layers=[2, 5], top_neurons=3)
    weights = torch.tensor(job["token_weights"])
    assert weights.shape == (len(job["tokens"]), 4) and (weights >= 0).all()
    assert (weights[0] == 0).all() and (weights[-1] == 0).all()  # [CLS] and [SEP] left out
    assert (weights[1:-1].amax(0) > 0).all()  # every component is expressed somewhere
    for component in job["components"]:
        assert len(component["top_neurons"]) == 3
        assert all(n["layer"] in (2, 5) and 0 <= n["neuron"] < 1536 for n in component["top_neurons"])
    table = FactorizeActivations(sentences=[job["sentence"]], n_components=4).summary_table({"jobs": [job]})
    assert [row[1] for row in table.rows] == [0, 1, 2, 3]  # one row per component
    first = job["components"][0]["top_neurons"][0]
    assert table.rows[0][3] == f"layer {first['layer']} #{first['neuron']}"


def test_more_components_reconstruct_the_activations_better(trainer_factory):
    few = factorize(trainer_factory, n_components=2, layers=[3])
    many = factorize(trainer_factory, n_components=10, layers=[3])
    assert many["relative_error"] < few["relative_error"] < 1


def test_bad_inputs_fail_before_the_model_loads():
    with pytest.raises(ConfigError, match="layers=7 is out of range"):
        FactorizeActivations(layers=[7])
    with pytest.raises(ConfigError, match="layers=0 is out of range"):
        FactorizeActivations(layers=0)
    with pytest.raises(ConfigError, match="exceeds the shortest text"):
        FactorizeActivations(sentences="a short one .", n_components=8)
