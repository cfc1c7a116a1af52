"""Trajectory runs on the shipped ALBERT: what is stored is what ran."""

from __future__ import annotations

import pytest
import torch
from transformers import AlbertConfig, AlbertModel

from lightning_dream.data.trajectories import TrajectoryReader
from lightning_dream.errors import ConfigError
from lightning_dream.experiments.dynamics.trajectory import Trajectory
from lightning_dream.models.albert_iteration import AlbertIteration
from lightning_dream.models.loading import load_tokenizer
from lightning_dream.results import read_results
from tests.helpers import cli_error, quick_predict

SENTENCES = ["the market fell sharply .", "a new school opened in the city on monday ."]


def test_trajectory_read_back_equals_in_memory_iteration(tmp_path):
    quick_predict(
        Trajectory(sentences=SENTENCES, num_steps=23, chunk_size=5, precision="float32", attentions=True), tmp_path
    )
    reader = TrajectoryReader(tmp_path / "trajectory")
    assert reader.num_steps == 24 and len(reader.meta["chunks"]) == 5
    system = AlbertIteration.load("albert-news-tiny")
    batch = load_tokenizer("albert-news-tiny")(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = system.run(batch["input_ids"], batch["attention_mask"], 23)
    torch.testing.assert_close(reader.states(), expected)
    torch.testing.assert_close(reader.states(7, 13), expected[7:13])  # spans chunk boundaries
    attentions = reader.attentions(1, 3)
    assert attentions.shape == (2, 2, 4, batch["input_ids"].shape[1], batch["input_ids"].shape[1])
    torch.testing.assert_close(attentions.sum(-1)[:, 0], torch.ones(2, 4, batch["input_ids"].shape[1]))
    results = read_results(tmp_path, "lightning_dream.albert_trajectory/1")
    assert [row["step"] for row in results["sync"]] == list(range(24))


def test_continuing_a_trajectory_equals_one_long_run(tmp_path):
    quick_predict(Trajectory(sentences=SENTENCES, num_steps=10, chunk_size=4, output_dir=str(tmp_path / "a")), tmp_path)
    quick_predict(
        Trajectory(
            sentences=SENTENCES,
            num_steps=5,
            chunk_size=4,
            output_dir=str(tmp_path / "b"),
            continue_from=str(tmp_path / "a"),
        ),
        tmp_path,
    )
    quick_predict(Trajectory(sentences=SENTENCES, num_steps=15, chunk_size=4, output_dir=str(tmp_path / "c")), tmp_path)
    continued = TrajectoryReader(tmp_path / "b")
    torch.testing.assert_close(continued.states(11, 16), TrajectoryReader(tmp_path / "c").states(11, 16))


def test_trajectory_from_another_model_is_refused(tmp_path):
    other = tmp_path / "other-albert"
    torch.manual_seed(0)
    AlbertModel(
        AlbertConfig(
            vocab_size=30522,
            embedding_size=8,
            hidden_size=16,
            num_attention_heads=2,
            intermediate_size=32,
            num_hidden_layers=2,
        )
    ).save_pretrained(other)
    load_tokenizer("albert-news-tiny").save_pretrained(other)
    quick_predict(
        Trajectory(model=str(other), sentences=SENTENCES, num_steps=3, output_dir=str(tmp_path / "t")), tmp_path
    )
    with pytest.raises(ConfigError, match="was made by model .*other-albert.*not by 'albert-news-tiny'"):
        quick_predict(Trajectory(sentences=SENTENCES, num_steps=3, continue_from=str(tmp_path / "t")), tmp_path)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Trajectory(num_steps=0), "num_steps=0 must be at least 1"),
        (lambda: Trajectory(model="minilm-l6"), "'bert' model .* needs an ALBERT checkpoint"),
    ],
)
def test_bad_settings_fail_before_any_model_work(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_bad_num_steps_on_the_command_line_is_one_line():
    line = cli_error("predict", "--config", "configs/trajectory.yaml", "--model.num_steps", "0")
    assert line == "error: model.num_steps: Not of type IntAtLeast1: 0 does not conform to restriction v>=1"
