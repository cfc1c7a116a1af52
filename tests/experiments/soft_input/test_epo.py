"""EPO on the real MiniLM and its MLM: an honest Pareto front of activation vs fluency, exact
reported values, pass counts that match a counting wrapper, the same front alone or sharded."""

import json

import pytest
import torch

from lightning_dream.errors import ConfigError
from lightning_dream.experiments import Dream
from lightning_dream.experiments.soft_input.methods.epo import EPO, ParetoFront
from lightning_dream.results import read_results
from tests.experiments.soft_input.test_methods import fresh_value

#: mixed layers, positions and spans, so the population and the fronts are per job
TARGETS = [
    {"sentence": "the cat sat on the mat .", "layer_id": 2, "neuron_id": 100, "word_id": 3, "start_change": 2},
    {"sentence": "i hate kickshaws .", "layer_id": 3, "neuron_id": 314, "word_id": 2},
]


def epo(tmp_path, **overrides) -> Dream:
    path = tmp_path / "targets.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in TARGETS))
    epo_settings = {"candidates": 8, "top_k": 16, **overrides.pop("epo", {})}
    settings = dict(targets=str(path), method=EPO(**epo_settings), num_iterations=3, snapshot_every=1, seed=3)
    settings.update(overrides)
    module = Dream(**settings)
    module.check_inputs()
    return module


def count_rows(module, counted: dict[str, int], name: str) -> None:
    """Count the sequences through ``module``'s embeddings, and through their backward."""

    def hook(_module, _inputs, output):
        counted[name] += len(output)
        if output.requires_grad:
            output.register_hook(lambda grad: counted.__setitem__(name, counted[name] + len(grad)))

    module.base_model.embeddings.register_forward_hook(hook)


@pytest.fixture(scope="module")
def counted_run(tmp_path_factory):
    from tests.helpers import quick_trainer

    root = tmp_path_factory.mktemp("epo")
    module = epo(root)
    module.configure_model()
    counted = {"encoder": 0, "mlm": 0}
    count_rows(module.readout.model, counted, "encoder")
    count_rows(module.fluency.model, counted, "mlm")
    quick_trainer(root).fit(module)
    return module, dict(counted), read_results(root)["jobs"]


def test_front_is_non_dominated_sorted_and_its_top_is_the_final(counted_run):
    _, _, jobs = counted_run
    for job in jobs:
        front = job["front"]
        assert job["method"] == "epo" and len(front) >= 1
        points = [(p["activation"], p["fluency"]) for p in front]
        for a in points:
            assert not any(b[0] >= a[0] and b[1] >= a[1] and b != a for b in points)
        assert [p[0] for p in points] == sorted((p[0] for p in points), reverse=True)
        assert job["final_tokens"] == front[0]["tokens"]
        assert job["final_activation"] == pytest.approx(front[0]["activation"], abs=1e-6)
        assert job["final_fluency"] == pytest.approx(front[0]["fluency"], abs=1e-4)
        assert front[0]["activation"] > job["start_activation"]  # three generations do move a neuron


def test_every_front_point_is_a_fresh_forward_and_a_fresh_fluency(counted_run):
    from lightning_dream.models.fluency import Fluency

    module, _, jobs = counted_run
    fluency = Fluency()
    for row, job in enumerate(jobs):
        span = range(job["start_change"], job["end_change"] + 1)
        for point in job["front"]:
            assert [t for i, t in enumerate(point["tokens"]) if i not in span] == [
                t for i, t in enumerate(job["start_tokens"]) if i not in span
            ]
            assert point["activation"] == pytest.approx(fresh_value(module, point["tokens"], row), abs=1e-4)
            ids = torch.tensor([module.tokenizer.convert_tokens_to_ids(point["tokens"])])
            score = fluency(ids, torch.ones_like(ids))
            for name in ("fluency", "pll", "unigram"):
                assert point[name] == pytest.approx(float(getattr(score, name)[0]), abs=1e-4)
        for snapshot in job["snapshots"]:
            assert snapshot["snapped_activation"] == pytest.approx(
                fresh_value(module, snapshot["tokens"], row), abs=1e-4
            )


def test_passes_match_a_counting_wrapper_of_encoder_and_mlm(counted_run):
    _, counted, jobs = counted_run
    assert counted["encoder"] > 0 and counted["mlm"] > 0
    # the start, final and last fluency reported per job are not search (one MLM pass per word each)
    reporting = sum(3 * (len(job["start_tokens"]) - 2) for job in jobs)
    assert sum(job["passes"] for job in jobs) == pytest.approx(counted["encoder"] + counted["mlm"] - reporting)


def test_two_processes_equal_one_and_a_seed_fixes_the_front(tmp_path, counted_run):
    from tests.helpers import quick_trainer

    _, _, one = counted_run
    quick_trainer(tmp_path, devices=2, strategy="job_sharding_spawn").fit(epo(tmp_path))
    two = read_results(tmp_path)
    assert two["trainer"]["world_size"] == 2
    for alone, sharded in zip(one, two["jobs"]):
        assert [p["tokens"] for p in alone["front"]] == [p["tokens"] for p in sharded["front"]]
        assert [p["activation"] for p in alone["front"]] == pytest.approx(
            [p["activation"] for p in sharded["front"]], abs=1e-4
        )
        assert alone["final_tokens"] == sharded["final_tokens"]


def test_pareto_front_keeps_the_non_dominated_points_once():
    front = ParetoFront()
    ids = torch.tensor([[1, 5], [1, 6], [1, 7], [1, 8]])
    values = torch.tensor([[1.0, 0.0, 0, 0], [0.5, 1.0, 0, 0], [0.4, 0.9, 0, 0], [1.0, 0.0, 0, 0]])
    front.offer(ids, values)
    assert front.ids.tolist() == [[1, 5], [1, 8], [1, 6]]  # [1, 7] is dominated; equal points both stay
    front.offer(torch.tensor([[1, 6], [1, 9]]), torch.tensor([[0.5, 1.0, 0, 0], [2.0, 0.5, 0, 0]]))
    assert front.ids.tolist() == [[1, 9], [1, 6]]  # a sequence is held once
    assert front.top()[1] == 2.0


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(epo={"fluency_weights": []}), "fluency_weights"),
        (dict(epo={"fluency_weights": [1.0, -0.5]}), "fluency_weights"),
        (dict(fluency_weight=1.0), "fluency_weight=1.0 is gcg's one λ"),
    ],
)
def test_bad_epo_options_are_one_line(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        epo(tmp_path, **overrides)


@pytest.mark.slow
def test_resume_equals_uninterrupted(tmp_path, counted_run):
    """The population and the fronts ride in the checkpoint: a run stopped after 2 of its 3
    generations and resumed ends with the uninterrupted run's fronts."""
    from pytorch_lightning.callbacks import ModelCheckpoint

    from tests.helpers import quick_trainer

    _, _, uninterrupted = counted_run
    checkpoints = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=2, save_top_k=-1)
    quick_trainer(tmp_path / "a", max_steps=2, enable_checkpointing=True, callbacks=[checkpoints]).fit(epo(tmp_path))
    checkpoint = next((tmp_path / "ckpt").glob("*.ckpt"))
    quick_trainer(tmp_path / "b").fit(epo(tmp_path), ckpt_path=str(checkpoint))
    for one, two in zip(uninterrupted, read_results(tmp_path / "b")["jobs"]):
        assert [p["tokens"] for p in one["front"]] == [p["tokens"] for p in two["front"]]
        assert one["final_tokens"] == two["final_tokens"]
