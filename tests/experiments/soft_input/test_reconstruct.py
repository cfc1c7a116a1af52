"""Reconstruction on the embedded real MiniLM: early layers give the sentence back, targets
move as configured, bad inputs fail in one line before any optimisation."""

from __future__ import annotations

import json

import pytest
import pytorch_lightning as pl
import torch

from lightning_dream.commands.export_activation import export_activation
from lightning_dream.data.corpus import load_sentences
from lightning_dream.errors import ConfigError
from lightning_dream.experiments.soft_input.methods import Anneal
from lightning_dream.experiments.soft_input.reconstruct import Reconstruct, ReconstructChanged, ReconstructShifted
from lightning_dream.results import CAV_FORMAT, read_results, write_json_atomic
from tests.helpers import quick_trainer

SHE = "she played baseball with her friends"


def fit(module: pl.LightningModule, root) -> dict:
    quick_trainer(root).fit(module)
    return read_results(root / "results.json", module.result_format)


def cav_file(path, hidden: int = 384, layers=range(7), concepts=("he", "she")) -> str:
    """A CAV file in the project's format with a fixed direction (unit vector on unit 0)."""
    vector = [1.0] + [0.0] * (hidden - 1)
    layers_entry = {str(k): {"heldout_accuracy": 1.0, "vector": vector} for k in layers}
    return str(
        write_json_atomic(
            path, {"format": CAV_FORMAT, "model": "minilm-l6", "concepts": list(concepts), "layers": layers_entry}
        )
    )


def test_early_layer_reconstructs_better_than_last(tmp_path):
    module = Reconstruct(
        sentences="the cat sat on the mat", layers=[1, 6], snapshot_every=50
    )  # the defaults: 300 steps
    result = fit(module, tmp_path)
    recovery = {row["layer_id"]: row["token_recovery"] for row in result["summary"]}
    assert recovery[1] >= 0.8  # measured: 1.0 at layer 1, 0.5 at layer 6
    assert recovery[1] > recovery[6]
    job = result["jobs"][0]
    assert job["start_tokens"] != job["original_tokens"]  # a random start, not the answer
    assert job["distance"] >= 0 and job["last_distance"] >= job["distance"] - 1e-6  # final: the smallest distance seen


def test_layers_all_is_one_job_per_sentence_and_layer():
    module = Reconstruct(sentences=["the cat sat on the mat", "a dog barked"], layers="all")
    assert [(j.sentence[:3], j.target.layer) for j in module.jobs] == [
        (s, k) for s in ("the", "a d") for k in range(1, 7)
    ]
    assert all(j.target.position is None and j.change_positions == range(1, len(j.input_ids) - 1) for j in module.jobs)


def test_the_sentence_itself_is_an_exact_reconstruction():
    module = Reconstruct(sentences=["the cat sat on the mat", "a dog barked"], layers=[2, 5], target="word", word_id=2)
    module.configure_model()
    ids, mask = module.soft.input_ids.clone(), module.attention_mask
    for row, job in enumerate(module.jobs):
        ids[row, : len(job.input_ids)] = torch.tensor(job.input_ids)
    assert module.objective(module.states(input_ids=ids), mask).abs().max() < 1e-8
    start = module.states(input_ids=module.soft.input_ids)
    assert (module.objective(start, mask) < -1e-3).all()  # the random start is far from the target


def test_changed_target_swaps_in_the_exported_vector_only_there(tmp_path):
    path = export_activation("he was playing baseball with her friends", 1, str(tmp_path / "he.json"))
    module = ReconstructChanged(
        change_activation_file=path,
        change_position=1,
        sentences="she was playing baseball with her friends",
        layers=[1, 4],
    )
    module.configure_model()
    swapped = torch.tensor(json.loads(open(path).read())["activations"])
    plain = Reconstruct(sentences="she was playing baseball with her friends", layers=[1, 4])
    plain.configure_model()
    for row, layer in enumerate((1, 4)):
        assert torch.allclose(module.target[row, 1], swapped[layer], atol=1e-5)
        assert torch.allclose(module.target[row, 2:], plain.target[row, 2:], atol=1e-5)
        assert not torch.allclose(module.target[row, 1], plain.target[row, 1], atol=1e-2)
    assert module.jobs[0].info["changed_token"] == "he"


def test_shift_moves_the_target_along_the_cav_and_names_the_concept(tmp_path):
    module = ReconstructShifted(
        cav_file=cav_file(tmp_path / "cav.json"),
        magnitudes=[-5.0, 3.0],
        shift_start=1,
        shift_end=2,
        sentences=SHE,
        layers=[4],
    )
    module.configure_model()
    plain = Reconstruct(sentences=SHE, layers=[4])
    plain.configure_model()
    delta = module.target - plain.target[[0, 0]]
    assert torch.allclose(delta[:, 1:3, 0], torch.tensor([[-5.0, -5.0], [3.0, 3.0]]), atol=1e-4)
    delta[:, 1:3, 0] = 0
    assert delta.abs().max() < 1e-4
    assert [j.info["toward"] for j in module.jobs] == ["he", "she"]  # negative moves toward the first concept


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layers": [7]}, "layers=7"),
        ({"layers": []}, "layers is empty"),
        ({"target": "word"}, "needs a word_id"),
        ({"target": "neuron", "word_id": 1}, "needs a neuron_id"),
        ({"target": "word", "word_id": 40}, "word_id=40"),
        ({"sentences": None}, "give sentences or a corpus"),
        ({"sentences": [""]}, "sentence is empty"),
        ({"start_change": 0}, "start_change=0"),
    ],
)
def test_bad_reconstruct_input_is_one_line(kwargs, message):
    with pytest.raises(ConfigError, match=message) as err:
        Reconstruct(**{"sentences": SHE, **kwargs}).check_inputs()
    assert "\n" not in str(err.value)


def test_bad_shift_and_change_input_is_one_line(tmp_path):
    good = cav_file(tmp_path / "good.json")
    cases = [
        (
            lambda: ReconstructShifted(cav_file=good, shift_start=9, shift_end=9, sentences=SHE, layers=[4]),
            "shift_start=9",
        ),
        (
            lambda: ReconstructShifted(cav_file=good, shift_start=2, shift_end=1, sentences=SHE, layers=[4]),
            "shift_end=1",
        ),
        (lambda: ReconstructShifted(cav_file=good, magnitudes=[], sentences=SHE, layers=[4]), "magnitudes is empty"),
        (
            lambda: ReconstructShifted(
                cav_file=cav_file(tmp_path / "small.json", hidden=128), sentences=SHE, layers=[4]
            ),
            "hidden size 128",
        ),
        (
            lambda: ReconstructShifted(cav_file=cav_file(tmp_path / "l3.json", layers=[3]), sentences=SHE, layers=[4]),
            r"no vector for layers \[4\]",
        ),
        (
            lambda: ReconstructShifted(cav_file=str(tmp_path / "missing.json"), sentences=SHE, layers=[4]),
            "no result file",
        ),
    ]
    bad_shape = write_json_atomic(
        tmp_path / "act.json",
        {"format": "lightning_dream.activation/1", "sentence": "x", "token": "x", "activations": [[0.0] * 128] * 7},
    )
    cases.append(
        (lambda: ReconstructChanged(change_activation_file=str(bad_shape), sentences=SHE, layers=[4]), "128 units")
    )
    few_layers = write_json_atomic(
        tmp_path / "act3.json",
        {"format": "lightning_dream.activation/1", "sentence": "x", "token": "x", "activations": [[0.0] * 384] * 3},
    )
    cases.append(
        (lambda: ReconstructChanged(change_activation_file=str(few_layers), sentences=SHE, layers=[4]), "3 layers")
    )
    cases.append(
        (
            lambda: ReconstructChanged(
                change_activation_file=str(few_layers), change_position=12, sentences=SHE, layers=[1]
            ),
            "change_position=12",
        )
    )
    for make, message in cases:
        with pytest.raises(ConfigError, match=message) as err:
            make().check_inputs()
        assert "\n" not in str(err.value)


@pytest.mark.slow
def test_corpus_sentences_recover_at_layer_one_better_than_at_the_last(tmp_path):
    sentences = load_sentences("news", 8, 12)
    module = Reconstruct(corpus="news", num_sentences=5, min_words=8, max_words=12, layers="all")
    assert all(s in sentences for s in module.sentences) and len(set(module.sentences)) == 5
    result = fit(module, tmp_path)
    recovery = {row["layer_id"]: row["token_recovery"] for row in result["summary"]}
    assert sorted(recovery) == [1, 2, 3, 4, 5, 6]  # the per-layer curve is in the results
    assert recovery[1] >= 0.9
    assert recovery[1] > recovery[6]


@pytest.mark.slow
def test_large_shift_toward_he_changes_the_pronoun_in_most_runs(tmp_path):
    from test_cav import train_cav  # tests/experiments is on the path of its own tests

    from lightning_dream.data.concepts import CONCEPT_WORDS

    cav = train_cav(tmp_path / "cav", layers=[4])
    sentences = [
        SHE,
        "she was playing baseball with her friends",
        "she said the plan would work",
        "she has lived in the city for years",
    ]
    module = ReconstructShifted(cav_file=cav, magnitudes=[-12.0], sentences=sentences, layers=[4], seed=0)
    result = fit(module, tmp_path / "shift")
    pronoun_to_he = [job["final_tokens"][1] in CONCEPT_WORDS["he"] for job in result["jobs"]]
    assert all(job["toward"] == "he" for job in result["jobs"])
    assert sum(pronoun_to_he) > len(pronoun_to_he) / 2


def test_a_job_batched_with_other_layers_gets_the_value_and_gradient_it_gets_alone():
    """Early exit and batching change nothing but float rounding: each job of a mixed-layer batch
    starts where it starts alone and gets the same distance and the same gradient."""
    settings = dict(sentences=["the cat sat on the mat", "a dog barked"], layers=[1, 4])
    batched = Reconstruct(**settings)
    batched.configure_model()
    soft, snapped, ids = batched.evaluate(2.0)
    soft.sum().backward()
    rows = batched.soft.row_job
    for job in batched.jobs:
        alone = Reconstruct(**settings)
        alone.jobs[:] = [job]
        alone.configure_model()
        one_soft, one_snapped, one_ids = alone.evaluate(2.0)
        one_soft.sum().backward()
        assert torch.equal(one_ids[0, : len(job.input_ids)], ids[job.index, : len(job.input_ids)])
        torch.testing.assert_close(one_soft[0], soft[job.index], rtol=1e-5, atol=0)
        torch.testing.assert_close(one_snapped[0], snapped[job.index], rtol=1e-5, atol=0)
        grad = batched.soft.logits.grad[rows == job.index]
        torch.testing.assert_close(alone.soft.logits.grad, grad, rtol=0, atol=1e-5 * grad.abs().max().item())


def test_only_jobs_whose_tokens_changed_are_evaluated_again():
    """The snapped pass runs the changed jobs alone, and their values equal a full-batch pass."""
    module = Reconstruct(sentences=["the cat sat on the mat", "a dog barked"], layers=[1, 4])
    module.configure_model()
    _, snapped, ids = module.evaluate(2.0)
    batches = []
    at_layers = module.readout.at_layers
    module.readout.at_layers = lambda mask, layers, **inputs: (
        batches.append(layers.tolist()) or at_layers(mask, layers, **inputs)
    )
    with torch.no_grad():  # job 2 (the second sentence at layer 1) gets another first word
        module.soft.logits[(module.soft.row_job == 2).nonzero()[0, 0], 2000] = 100.0
    _, changed, new_ids = module.evaluate(1.9)
    assert batches == [[1, 4, 1, 4], [1]]  # the soft pass of every job, then the one changed job
    assert new_ids[2, 1] == 2000 and torch.equal(changed[[0, 1, 3]], snapped[[0, 1, 3]])
    with torch.no_grad():
        full = module.objective(
            at_layers(module.attention_mask, module.job_layers, input_ids=new_ids), module.attention_mask
        )
    torch.testing.assert_close(changed, full, rtol=1e-5, atol=0)
    assert changed[2] != snapped[2]


def test_tensorboard_names_distance_and_layer_and_logs_token_recovery(tmp_path, capsys):
    from pytorch_lightning.loggers import TensorBoardLogger
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logger = TensorBoardLogger(tmp_path, name="tb")
    method = Anneal(lr=0.2, end_temp=0.01, warmup=0)
    module = Reconstruct(sentences="the cat sat on the mat", layers=[1], num_iterations=20, method=method)
    quick_trainer(tmp_path, logger=logger, log_every_n_steps=5).fit(module)
    printed = capsys.readouterr().out
    scalars = EventAccumulator(logger.log_dir).Reload().Tags()["scalars"]
    assert {"job_000_layer_1/snapped_distance", "token_recovery", "distance", "hp_metric"} <= set(scalars)
    assert not any(tag.endswith("_activation") for tag in scalars)  # a distance is not called an activation
    events = EventAccumulator(logger.log_dir).Reload()
    assert all(e.value >= 0 for e in events.Scalars("job_000_layer_1/snapped_distance"))
    job = read_results(logger.log_dir)["jobs"][0]
    assert events.Scalars("hp_metric")[-1].value == pytest.approx(job["token_recovery"])
    assert "Reconstruct: mean over jobs" in printed and "results: " in printed  # the summary table, then the path
