"""CompareMethods on the real MiniLM: every method on every target and span at one budget, its table
recomputed from its rows, the exhaustive best in the run, sharding that changes nothing."""

import json
import math
import statistics

import pytest
import torch

from lightning_dream.experiments.soft_input.compare import CompareMethods
from lightning_dream.experiments.soft_input.methods import EPO, GCG, build_method
from lightning_dream.results import COMPARE_METHODS_FORMAT, read_results
from tests.helpers import quick_trainer, run_cli

TARGETS = [
    {"sentence": "i hate kickshaws .", "layer_id": 3, "neuron_id": 314, "word_id": 2},
    {"sentence": "the cat sat on the mat .", "layer_id": 2, "neuron_id": 100, "word_id": 3},
]
BUDGET = 40
SWAPS = GCG(candidates=8, top_k=32)


def targets_file(folder, lines=TARGETS):
    path = folder / "targets.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)


NAMES = ["anneal", "gcg", "pez"]  # epo has its own test below (its MLM passes make a step costly)
CHOSEN = {"anneal": "anneal", "gcg": SWAPS, "pez": "pez"}


def compare(folder, **overrides) -> CompareMethods:
    settings = dict(methods=list(CHOSEN.values()), max_passes=BUDGET, snapshots=5, fluency_weight=None)
    settings.update(overrides)
    module = CompareMethods(targets=targets_file(folder), **settings)
    module.check_inputs()
    return module


def step_cost(name: str) -> int:
    return build_method(CHOSEN.get(name, name)).step_cost()


def assert_same_jobs(ours: list[dict], theirs: list[dict]) -> None:
    """Two runs of one comparison ended with the same jobs, tokens, values, passes and exhaustive bests."""
    assert len(ours) == len(theirs)
    for one, two in zip(ours, theirs):
        assert (one["job"], one["method"], one["span"]) == (two["job"], two["method"], two["span"])
        assert one["final_tokens"] == two["final_tokens"] and one["last_tokens"] == two["last_tokens"]
        assert one["final_activation"] == pytest.approx(two["final_activation"], abs=1e-4)
        assert one["passes"] == pytest.approx(two["passes"])
        assert one.get("exhaustive_best") == pytest.approx(two.get("exhaustive_best"), abs=1e-4)


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    quick_trainer(root).fit(compare(root, fluency_weight=0.0))
    return read_results(root, COMPARE_METHODS_FORMAT)


def test_every_method_runs_every_target_and_span_at_the_same_budget(one_process):
    jobs = one_process["jobs"]
    methods = NAMES
    expected = [(t, span, m) for t in range(2) for span in ("word", "sentence") for m in methods]
    assert [(j["target"], j["span"], j["method"]) for j in jobs] == expected
    for job in jobs:  # each stops within one of its steps of the budget
        assert BUDGET <= job["passes"] < BUDGET + step_cost(job["method"])
    passes = [job["passes"] for job in jobs]
    assert max(passes) - min(passes) < max(step_cost(m) for m in methods)
    word = [job for job in jobs if job["span"] == "word"]
    assert all(job["final_tokens"][:2] == job["start_tokens"][:2] for job in word)  # only the target's word moves
    assert all(job["final_activation"] >= job["start_activation"] for job in jobs)  # final: the best snapped seen


def test_table_is_recomputed_from_the_per_job_rows(one_process):
    jobs = one_process["jobs"]
    for row in one_process["table"]:
        mine = [job for job in jobs if job["method"] == row["method"]]
        ratios = {  # final / start; for a negative start (the cat's neuron 100) the same gain, 1 + change / |start|
            span: [
                1 + (job["final_activation"] - job["start_activation"]) / abs(job["start_activation"])
                for job in mine
                if job["span"] == span
            ]
            for span in ("word", "sentence")
        }
        for span, values in ratios.items():
            assert row[f"median_final_over_start_{span}"] == pytest.approx(statistics.median(values), abs=1e-4)
            assert row[f"share_5pct_above_start_{span}"] == pytest.approx(
                sum(v >= 1.05 for v in values) / len(values), abs=1e-4
            )
        reached = [j["final_activation"] >= j["exhaustive_best"] - 1e-4 for j in mine if j["span"] == "word"]
        assert row["share_word_reaching_exhaustive"] == pytest.approx(sum(reached) / len(reached), abs=1e-4)
        fluency = statistics.median(job["final_fluency"] for job in mine)
        assert row["median_fluency_final"] == pytest.approx(fluency, abs=1e-4)
        assert row["median_fluency_start"] == pytest.approx(
            statistics.median(j["start_fluency"] for j in mine), abs=1e-4
        )
        assert row["wall_seconds"] == pytest.approx(sum(job["wall_seconds"] for job in mine), abs=0.02)
        assert row["wall_seconds"] > 0


def test_single_word_runs_carry_the_exhaustive_best_and_no_method_beats_it(one_process):
    from lightning_dream.models.loading import load_encoder, load_tokenizer

    encoder, tokenizer = load_encoder("minilm-l6"), load_tokenizer("minilm-l6")
    for job in one_process["jobs"]:
        if job["span"] != "word":
            assert "exhaustive_best" not in job
            continue
        assert job["final_activation"] <= job["exhaustive_best"] + 1e-4
        tokens = list(job["start_tokens"])
        tokens[job["word_id"]] = job["exhaustive_token"]
        with torch.no_grad():
            hidden = encoder(torch.tensor([tokenizer.convert_tokens_to_ids(tokens)]), output_hidden_states=True)
        value = float(hidden.hidden_states[job["layer_id"]][0, job["word_id"], job["neuron_id"]])
        assert value == pytest.approx(job["exhaustive_best"], abs=1e-4)


@pytest.mark.slow  # two spawned processes each load the encoder and the fluency model: minutes under load
def test_two_processes_write_the_same_results_as_one(tmp_path, one_process):
    quick_trainer(tmp_path, devices=2, strategy="job_sharding_spawn").fit(compare(tmp_path, fluency_weight=0.0))
    sharded = read_results(tmp_path, COMPARE_METHODS_FORMAT)
    assert sharded["trainer"]["world_size"] == 2
    assert_same_jobs(one_process["jobs"], sharded["jobs"])


def test_a_stopped_comparison_resumes_to_the_uninterrupted_result(tmp_path, one_process, monkeypatch):
    """Each method's tokens, tracker, optimiser and passes, and the exhaustive searches' results,
    ride in the checkpoint: the resumed run searches no vocabulary again and ends where one run ends."""
    from pytorch_lightning.callbacks import ModelCheckpoint

    checkpoints = ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True)
    stop = quick_trainer(tmp_path / "a", max_steps=6, enable_checkpointing=True, callbacks=[checkpoints])
    stop.fit(compare(tmp_path, fluency_weight=0.0))
    stopped = read_results(tmp_path / "a", COMPARE_METHODS_FORMAT)
    assert stopped["complete"] is False and stopped["trainer"]["global_step"] == 6  # one global step a comparison step
    monkeypatch.setattr(CompareMethods, "exhaustive_best", lambda self: pytest.fail("the vocabulary searched again"))
    last = str(tmp_path / "ckpt" / "last.ckpt")
    quick_trainer(tmp_path / "b").fit(compare(tmp_path, fluency_weight=0.0), ckpt_path=last)
    resumed = read_results(tmp_path / "b", COMPARE_METHODS_FORMAT)
    assert resumed["complete"] is True
    assert resumed["trainer"]["global_step"] == one_process["trainer"]["global_step"] > 6
    assert_same_jobs(one_process["jobs"], resumed["jobs"])
    assert [job["steps"] for job in resumed["jobs"]] == [job["steps"] for job in one_process["jobs"]]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--model.methods", "[anneal, nope]"],
            "method 'nope' is not known: use one of anneal, gcg, pez, epo or a SearchMethod's import path",
        ),
        (
            ["--model.max_passes", "20"],
            "max_passes=20 is less than one step: anneal 3, gcg 66, pez 2, epo 72 passes per job",
        ),
    ],
    ids=["unknown method", "budget below one step"],
)
def test_bad_input_is_one_line_before_any_work(tmp_path, args, message):
    done = run_cli("fit", "--model", "CompareMethods", "--model.targets", targets_file(tmp_path), *args)
    assert done.code == 2 and done.err.strip() == f"error: {message}"


def test_an_empty_targets_file_is_one_line(tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n")
    done = run_cli("fit", "--model", "CompareMethods", "--model.targets", str(tmp_path / "empty.jsonl"))
    assert done.code == 2 and done.err.strip().startswith("error: targets file") and "holds no jobs" in done.err
    assert len(done.err.strip().splitlines()) == 1


def test_epo_joins_the_comparison_with_its_front(tmp_path):
    root = tmp_path / "epo"
    module = compare(tmp_path, methods=[EPO(candidates=8)], spans=["sentence"], max_passes=60)
    quick_trainer(root).fit(module)
    jobs = read_results(root, COMPARE_METHODS_FORMAT)["jobs"]
    assert [(j["method"], j["span"]) for j in jobs] == [("epo", "sentence")] * 2
    for job in jobs:
        assert job["passes"] >= 60 and job["front"][0]["activation"] == pytest.approx(job["final_activation"], abs=1e-6)


def test_the_step_loader_counts_steps_not_passes(tmp_path):
    """gcg alone spends ``candidates`` passes a step: the epoch (and the progress bar) is about
    budget / candidates steps long, not one step per pass, and the budget is still spent."""
    root = tmp_path / "gcg"
    trainer = quick_trainer(root)
    trainer.fit(compare(tmp_path, methods=[SWAPS], spans=["sentence"]))
    jobs = read_results(root, COMPARE_METHODS_FORMAT)["jobs"]
    assert len(jobs) == 2 and all(job["passes"] >= BUDGET for job in jobs)
    assert trainer.num_training_batches == math.ceil(BUDGET / SWAPS.candidates) + 1 < BUDGET


def test_report_shows_the_table_and_activation_vs_passes_per_method(one_process):
    from lightning_dream.report.blocks import LinePlot, Note
    from lightning_dream.report.views import render_views

    (section,) = render_views(one_process)
    notes = [b.text for b in section.blocks if isinstance(b, Note)]
    assert [n.split(" · ")[0] for n in notes] == ["method anneal", "method gcg", "method pez"]
    plots = [b for b in section.blocks if isinstance(b, LinePlot)]
    assert [p.title.split(" ")[0] for p in plots] == ["sentence", "word"]
    assert {s.name for s in plots[0].series} <= {"anneal", "gcg", "pez"}
    assert all(max(s.x) >= BUDGET - 10 for s in plots[0].series)  # the snapshots reach the budget
