"""Dream on the real embedded MiniLM: it dreams upward, keeps what must stay, shards and resumes."""

import pytest
import torch
from pytorch_lightning.callbacks import ModelCheckpoint

from lightning_dream.errors import ConfigError
from lightning_dream.experiments import Dream
from lightning_dream.experiments.soft_input.methods import Anneal
from lightning_dream.results import read_results

SENTENCE = "i hate kickshaws ."
SENTENCES = [SENTENCE, "the cat sat on the mat ."]


def dream(**overrides) -> Dream:
    settings = dict(
        sentences=SENTENCES,
        layer_id=2,
        neuron_ids=[314, 100],
        word_id=2,
        num_iterations=40,
        method=Anneal(warmup=0, start_temp=1.0, end_temp=0.05, lr=0.3),
        confidence=0.5,
        snapshot_every=5,
    )
    settings.update(overrides)
    module = Dream(**settings)
    module.check_inputs()
    return module


@pytest.fixture(scope="module")
def single_run(tmp_path_factory):
    from tests.helpers import quick_trainer

    root = tmp_path_factory.mktemp("single")
    quick_trainer(root).fit(dream())
    return read_results(root, Dream.result_format)


def test_dream_ends_above_its_start(single_run):
    for job in single_run["jobs"]:
        assert job["final_activation"] >= job["last_activation"]  # final: the best snapped input seen
    assert sum(job["last_activation"] > job["start_activation"] for job in single_run["jobs"]) >= 3


def test_cls_sep_and_fixed_words_never_change(tmp_path, trainer_factory):
    trainer_factory().fit(dream(sentences=[SENTENCE], start_change=2, end_change=3))
    job = read_results(tmp_path)["jobs"][0]
    start = job["start_tokens"]
    for snapshot in job["snapshots"] + [{"tokens": job["final_tokens"]}, {"tokens": job["last_tokens"]}]:
        tokens = snapshot["tokens"]
        assert len(tokens) == len(start)
        assert [t for i, t in enumerate(tokens) if i not in (2, 3)] == [
            t for i, t in enumerate(start) if i not in (2, 3)
        ]
    assert start[0] == "[CLS]" and start[-1] == "[SEP]"
    assert job["last_tokens"][2:4] != start[2:4]  # the span did move


def test_results_record_config_and_snapshots(single_run):
    assert single_run["config"]["layer_id"] == 2 and single_run["config"]["num_iterations"] == 40
    job = single_run["jobs"][0]
    assert [s["step"] for s in job["snapshots"]] == list(range(0, 40, 5)) + [39]
    temps = [s["temperature"] for s in job["snapshots"]]
    assert temps[0] == 1.0 and temps[-1] == pytest.approx(0.05)


@pytest.fixture(scope="module")
def each_shard_alone(tmp_path_factory):
    """The jobs of each rank of a 2-process run (rank 0: the first sentence's two jobs, rank 1: the
    second's), each share run on one process at one thread, as a rank runs it. Floating-point sums
    depend on the thread count and on the batch's shape, and annealing's argmax can flip on the last
    bit: on an AVX-512 Xeon the 4 jobs in one batch end with other tokens than their halves at one
    thread. Sharding promises the same run per share, and that is what is compared (these jobs draw
    no random numbers: sentence start, no Gumbel noise, so their index within a share does not matter)."""
    from tests.helpers import quick_trainer

    threads, jobs = torch.get_num_threads(), []
    torch.set_num_threads(1)
    try:
        for number, sentence in enumerate(SENTENCES):
            root = tmp_path_factory.mktemp(f"shard{number}")
            quick_trainer(root).fit(dream(sentences=[sentence]))
            jobs += read_results(root, Dream.result_format)["jobs"]
    finally:
        torch.set_num_threads(threads)
    return jobs


@pytest.fixture
def one_thread_per_rank(monkeypatch):
    # Lightning sets each CPU rank's threads to cores // processes unless OMP_NUM_THREADS is set
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.mark.parametrize("start_method", ["spawn"])
def test_two_processes_equal_their_shares_on_one_process(tmp_path, each_shard_alone, one_thread_per_rank, start_method):
    from tests.helpers import quick_trainer

    quick_trainer(tmp_path, devices=2, strategy=f"job_sharding_{start_method}").fit(dream())
    sharded = read_results(tmp_path)
    assert sharded["trainer"]["world_size"] == 2
    assert [j["job"] for j in sharded["jobs"]] == [0, 1, 2, 3]
    for one, two in zip(each_shard_alone, sharded["jobs"]):
        assert one["start_sentence"] == two["start_sentence"] and one["neuron_id"] == two["neuron_id"]
        assert one["final_tokens"] == two["final_tokens"]
        assert one["final_activation"] == pytest.approx(two["final_activation"], abs=1e-4)
        assert [s["tokens"] for s in one["snapshots"]] == [s["tokens"] for s in two["snapshots"]]


def test_a_pass_budget_on_two_processes_stops_them_together(tmp_path):
    """Annealing pays the snapped forward only on steps whose tokens changed, so the ranks spend
    the budget at different steps; a rank that stopped alone left the other waiting in StepLogger's
    gather (before the fix this failed: the processes' collectives no longer matched). Each job ends
    within one step of the budget."""
    from datetime import timedelta

    from lightning_dream.strategies import JobShardingStrategy
    from tests.helpers import quick_trainer

    strategy = JobShardingStrategy(start_method="spawn", timeout=timedelta(minutes=2))
    settings = dict(num_iterations=1000, max_passes=60)
    quick_trainer(tmp_path, devices=2, strategy=strategy, log_every_n_steps=1).fit(dream(**settings))
    jobs = read_results(tmp_path)["jobs"]
    assert [j["job"] for j in jobs] == [0, 1, 2, 3]
    assert all(60 <= j["passes"] <= 60 + 3 for j in jobs)  # one annealing step: at most 3 passes


def test_two_processes_resume_each_its_own_jobs(tmp_path, each_shard_alone, one_thread_per_rank):
    """A job-sharded checkpoint holds every rank's state (DDP's holds rank 0's alone: before the fix
    the resumed rank 1 continued rank 0's jobs, and this failed); on one process it is refused."""
    from tests.helpers import quick_trainer

    checkpoints = ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True)
    two = dict(devices=2, strategy="job_sharding_spawn")
    quick_trainer(tmp_path / "a", max_steps=15, enable_checkpointing=True, callbacks=[checkpoints], **two).fit(dream())
    last = str(tmp_path / "ckpt" / "last.ckpt")
    quick_trainer(tmp_path / "b", **two).fit(dream(), ckpt_path=last)
    resumed = read_results(tmp_path / "b")
    assert resumed["complete"] is True and [j["job"] for j in resumed["jobs"]] == [0, 1, 2, 3]
    for one, two_ in zip(each_shard_alone, resumed["jobs"]):
        assert one["final_tokens"] == two_["final_tokens"] and one["last_tokens"] == two_["last_tokens"]
        assert one["final_activation"] == pytest.approx(two_["final_activation"], abs=1e-4)
    with pytest.raises(ConfigError, match="holds the jobs of 2 process"):
        quick_trainer(tmp_path / "c").fit(dream(), ckpt_path=last)


def test_resume_equals_uninterrupted(tmp_path, single_run):
    from tests.helpers import quick_trainer

    first = quick_trainer(
        tmp_path / "a",
        max_steps=15,
        enable_checkpointing=True,
        callbacks=[ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=15, save_top_k=-1)],
    )
    first.fit(dream())
    checkpoint = next((tmp_path / "ckpt").glob("*.ckpt"))
    assert not any(k.startswith("readout.") for k in torch.load(checkpoint, weights_only=False)["state_dict"])
    quick_trainer(tmp_path / "b").fit(dream(), ckpt_path=str(checkpoint))
    resumed = read_results(tmp_path / "b")
    assert resumed["trainer"]["global_step"] == 40
    for one, two in zip(single_run["jobs"], resumed["jobs"]):
        assert one["final_tokens"] == two["final_tokens"]
        assert one["final_activation"] == pytest.approx(two["final_activation"], abs=1e-5)
        assert one["start_activation"] == pytest.approx(two["start_activation"], abs=1e-6)
        assert len(one["snapshots"]) == len(two["snapshots"])


def test_run_stopped_by_max_steps_is_marked_and_its_last_checkpoint_resumes_to_the_end(tmp_path, single_run):
    """The last checkpoint of a run stopped by max_steps marks its one epoch processed; resuming it
    must still run the remaining steps and end where the uninterrupted run ends."""
    from tests.helpers import quick_trainer

    checkpoints = ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True)
    quick_trainer(tmp_path / "a", max_steps=15, enable_checkpointing=True, callbacks=[checkpoints]).fit(dream())
    stopped = read_results(tmp_path / "a")
    assert stopped["complete"] is False and stopped["trainer"]["global_step"] == 15
    quick_trainer(tmp_path / "b").fit(dream(), ckpt_path=str(tmp_path / "ckpt" / "last.ckpt"))
    resumed = read_results(tmp_path / "b")
    assert resumed["complete"] is True and resumed["trainer"]["global_step"] == 40
    for one, two in zip(single_run["jobs"], resumed["jobs"]):
        assert one["last_tokens"] == two["last_tokens"]
        assert one["final_activation"] == pytest.approx(two["final_activation"], abs=1e-4)


def test_tensorboard_holds_temperature_and_activations(tmp_path):
    from pytorch_lightning.loggers import TensorBoardLogger
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from tests.helpers import quick_trainer

    logger = TensorBoardLogger(tmp_path, name="tb")
    quick_trainer(tmp_path, logger=logger, log_every_n_steps=5).fit(
        dream(sentences=[SENTENCE], neuron_ids=[314], num_iterations=21)
    )
    events = EventAccumulator(logger.log_dir, size_guidance={"images": 0}).Reload()
    scalars = events.Tags()["scalars"]
    assert {"temperature", "job_000_layer_2/soft_activation", "job_000_layer_2/snapped_activation"} <= set(scalars)
    temps = events.Scalars("temperature")
    assert [t.step for t in temps] == [0, 5, 10, 15, 20] and temps[0].value == pytest.approx(1.0)
    assert temps[-1].value == pytest.approx(0.05, rel=1e-4)
    assert "job_000_layer_2/softmax_top_tokens" in events.Tags()["images"]
    gains = events.Scalars("final/start")  # the progress bar's live number, also a scalar
    assert gains[-1].value >= gains[0].value >= 1.0
    job = read_results(logger.log_dir)["jobs"][0]  # hp_metric: final relative to start (final / start when start > 0)
    expected = 1 + (job["final_activation"] - job["start_activation"]) / abs(job["start_activation"])
    assert events.Scalars("hp_metric")[-1].value == pytest.approx(expected, rel=1e-4)
    assert logger.log_dir and (tmp_path / "tb" / "version_0" / "results.json").is_file()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"layer_id": 7}, "layer_id=7 is out of range: allowed 0..6"),
        ({"neuron_ids": [400]}, "neuron_id=400 is out of range: allowed 0..383"),
        ({"word_id": 40}, "word_id=40 is out of range"),
        ({"start_change": 0}, "start_change=0 is out of range"),
        ({"end_change": 9}, "end_change=9 is out of range"),
        ({"sentences": [""]}, "sentence is empty"),
        ({"sentences": []}, "sentences is empty"),
        ({"model": "nope-not-a-model"}, "unknown model 'nope-not-a-model'"),
        ({"method": {"class_path": "anneal", "init_args": {"start_temp": 0.0}}}, "start_temp=0.0 must be positive"),
        ({"method": {"class_path": "anneal", "init_args": {"end_temp": -1.0}}}, "end_temp=-1.0 must be positive"),
        ({"num_iterations": 0}, "num_iterations=0 must be positive"),
    ],
)
def test_bad_input_is_rejected_before_any_model_work(overrides, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        dream(**overrides)
    assert "\n" not in str(err.value)
