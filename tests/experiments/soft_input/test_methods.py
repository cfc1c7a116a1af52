"""Search methods on the real MiniLM: a real start, exact reported values, honest pass counts."""

from typing import get_args

import pytest
import torch

from lightning_dream.errors import ConfigError
from lightning_dream.experiments import Dream
from lightning_dream.experiments.soft_input.methods import EPO, GCG, METHODS, PEZ, Anneal, MethodName, build_method
from lightning_dream.results import read_results

SENTENCE = "the cat sat on the mat ."


def dream(**overrides) -> Dream:
    settings = dict(sentences=[SENTENCE], layer_id=2, neuron_ids=[100], word_id=3, snapshot_every=2)
    settings["method"] = Anneal(warmup=0)
    settings.update(overrides)
    module = Dream(**settings)
    module.check_inputs()
    return module


def fresh_value(module: Dream, tokens: list[str], row: int = 0) -> float:
    """The target of ``tokens`` from a forward of the encoder alone (no search machinery)."""
    ids = torch.tensor([module.tokenizer.convert_tokens_to_ids(tokens)])
    job = module.local_jobs[row]
    with torch.no_grad():
        hidden = module.readout.model.base_model(input_ids=ids, output_hidden_states=True).hidden_states
    return float(job.target.scalar(hidden[job.target.layer][0], torch.ones(len(tokens))))


#: the top sentence of neuron 314 at layer 3 among the first 1,000 news sentences (corpus search), at its best word
NEWS_TOP = {
    "sentence": 'He has also repeatedly referred to media organizations critical of him as "fake news."',
    "layer_id": 3,
}


@pytest.mark.parametrize("span", [(12, 12), (None, None)], ids=["single word", "whole sentence"])
def test_sentence_start_is_the_input_at_step_zero(tmp_path, span):
    """confidence is measured at the start temperature, so step 0's soft input is the sentence
    (it was nearly the mean of all embeddings when measured at T=1)."""
    module = dream(
        sentences=NEWS_TOP["sentence"], layer_id=3, neuron_ids=314, word_id=12, start_change=span[0], end_change=span[1]
    )
    module.configure_model()
    temperature = module.method.temperature(0, module.num_iterations)
    soft, snapped, _ = module.evaluate(temperature)
    assert temperature == 2.0 and module.hparams.confidence == 0.9
    assert float(snapped[0]) > 1.0  # a strong start, so 10% is a real margin
    assert float(soft[0]) == pytest.approx(float(snapped[0]), rel=0.1)


@pytest.mark.parametrize("method", ["anneal", "gcg", "pez"])
def test_reported_snapped_activations_equal_a_fresh_forward_and_passes_match_a_counting_wrapper(tmp_path, method):
    from tests.helpers import quick_trainer

    module = dream(
        sentences=[SENTENCE, "i hate kickshaws ."],
        neuron_ids=[100, 314],
        num_iterations=6,
        method={"anneal": Anneal(warmup=0, lr=0.5), "gcg": GCG(candidates=8, top_k=16), "pez": PEZ(lr=0.5)}[method],
    )
    module.configure_model()
    counted = {"forward": 0, "backward": 0}

    def count(_module, _inputs, output):
        counted["forward"] += len(output)
        if output.requires_grad:
            output.register_hook(lambda grad: counted.__setitem__("backward", counted["backward"] + len(grad)))

    module.readout.model.base_model.embeddings.register_forward_hook(count)
    quick_trainer(tmp_path).fit(module)
    jobs = read_results(tmp_path)["jobs"]
    total = counted["forward"] + counted["backward"]
    assert counted["backward"] > 0
    assert sum(job["passes"] for job in jobs) == pytest.approx(total)
    assert {job["method"] for job in jobs} == {method}
    moved = 0
    for row, job in enumerate(jobs):
        for stage in ("start", "final", "last"):
            reported = job[f"{stage}_activation"]
            assert reported == pytest.approx(fresh_value(module, job[f"{stage}_tokens"], row), abs=1e-4)
        for snapshot in job["snapshots"]:
            assert snapshot["snapped_activation"] == pytest.approx(
                fresh_value(module, snapshot["tokens"], row), abs=1e-4
            )
        moved += job["final_tokens"] != job["start_tokens"]
    if method != "anneal":  # six annealing steps from a real start do not move a token
        assert moved >= 1


def test_coordinate_search_never_falls_and_its_last_is_its_final(tmp_path):
    from tests.helpers import quick_trainer

    quick_trainer(tmp_path).fit(dream(num_iterations=5, method=GCG(candidates=16, top_k=16)))
    job = read_results(tmp_path)["jobs"][0]
    values = [s["snapped_activation"] for s in job["snapshots"]] + [job["last_activation"]]
    assert values == sorted(values)
    assert job["last_activation"] == job["final_activation"] > job["start_activation"]


def test_a_pass_budget_stops_every_method_at_the_same_cost(tmp_path):
    from tests.helpers import quick_trainer

    spent = {}
    for method, search in {"anneal": Anneal(warmup=0), "gcg": GCG(candidates=6, top_k=8), "pez": PEZ()}.items():
        quick_trainer(tmp_path / method).fit(dream(num_iterations=1000, max_passes=40, method=search))
        spent[method] = read_results(tmp_path / method)["jobs"][0]["passes"]
    for method, passes in spent.items():  # each stops within one step's cost of the budget
        assert 40 <= passes <= 40 + {"anneal": 3, "gcg": 8, "pez": 2}[method] + 1, (method, passes)


def test_the_method_names_a_config_may_give_are_the_registry():
    assert list(get_args(MethodName)) == list(METHODS)
    assert all(name == method.name for name, method in METHODS.items())


def test_a_method_round_trips_through_its_stored_spec():
    for method in (Anneal(lr=0.3, schedule="linear"), GCG(top_k=8), PEZ(weight_decay=0.0), EPO(fluency_weights=[1.0])):
        again = build_method(method.spec())
        assert type(again) is type(method) and again.settings() == method.settings()


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(method="beam"), "method 'beam' is not known"),
        (dict(method={"class_path": "gcg", "init_args": {"candidates": 0}}), "candidates"),
        (dict(max_passes=0), "max_passes"),
    ],
)
def test_bad_method_options_are_one_line(overrides, message):
    with pytest.raises(ConfigError, match=message):
        dream(**overrides)


def test_fluency_tells_a_sentence_from_a_soup_of_frequent_tokens():
    from lightning_dream.models.fluency import Fluency
    from lightning_dream.models.mlm_scoring import pad_batch

    fluency = Fluency()
    tokenizer = Dream(sentences=[SENTENCE]).tokenizer
    texts = [SENTENCE, "the the , the . of and", "lounge constitutes chill provocative picks"]
    ids, mask = pad_batch([tokenizer(t)["input_ids"] for t in texts], 0)
    score = fluency(ids, mask)
    assert fluency.passes == int(mask.sum()) - 2 * len(texts)  # one masked copy per scored token
    assert score.fluency.tolist() == pytest.approx((score.pll - score.unigram).tolist())
    assert score.pll[1] > score.pll[2]  # PLL alone likes the soup of frequent tokens ...
    assert score.fluency[0] > 0.5 > score.fluency[1]  # ... fluency does not: the soup scores at most about 0


def test_coordinate_search_with_a_fluency_term_counts_its_mlm_passes_and_reports_fluency(tmp_path):
    from tests.helpers import quick_trainer

    module = dream(num_iterations=2, method=GCG(candidates=4, top_k=8), fluency_weight=1.0)
    quick_trainer(tmp_path).fit(module)
    job = read_results(tmp_path)["jobs"][0]
    words = len(job["start_tokens"]) - 2
    # per step: forward + backward + 4 candidates through the encoder, (4 + 1) sentences through the MLM
    assert job["passes"] == 2 * (2 + 4 + 5 * words)
    assert {"start_fluency", "final_pll", "last_unigram"} <= set(job)
    assert job["start_fluency"] == pytest.approx(job["start_pll"] - job["start_unigram"])
