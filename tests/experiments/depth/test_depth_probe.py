"""DepthProbe: all depths in one fit equal one run per depth; two processes equal one; segment ids
reach the embeddings; per-depth results, curve and CSV; bad depths refused before any training."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from lightning_dream.data.sentence_tasks import SentenceTaskData
from lightning_dream.errors import ConfigError
from lightning_dream.experiments import DepthProbe
from lightning_dream.models.depth import hidden_at_depth, hidden_by_depth
from lightning_dream.models.loading import load_encoder, load_tokenizer
from tests.helpers import cli_error, quick_trainer, run_cli

GLUE = Path(__file__).parents[2] / "data" / "glue"


def readouts(probe: DepthProbe) -> dict[int, torch.Tensor]:
    return {d: torch.cat([r.weight.flatten(), r.bias]).detach() for d, r in zip(probe.depths, probe.readouts)}


def fitted(root, depths, epochs=2, **data) -> DepthProbe:
    probe = DepthProbe(depths=depths)
    quick_trainer(root, max_epochs=epochs).fit(probe, datamodule=SentenceTaskData(**data))
    return probe


def test_all_depths_in_one_fit_equal_one_run_per_depth(tmp_path):
    """Independent readouts whose losses add up: each gets the gradient it would get alone (epoch 2
    reads the pooled states from the disk cache written in epoch 1)."""
    data = dict(max_train=48, max_validation=16)
    together = readouts(fitted(tmp_path / "all", [2, 7], **data))
    for depth in (2, 7):
        alone = readouts(fitted(tmp_path / str(depth), [depth], **data))[depth]
        torch.testing.assert_close(together[depth], alone, rtol=1e-5, atol=1e-6)


def test_two_processes_equal_one(tmp_path):
    """Stock DDP over the readouts: 2 processes with batch 4 each reach what 1 process with batch 8
    reaches over the same seeded order of examples."""
    settings = dict(max_train=48, max_validation=16, seed=3)
    one = fitted(tmp_path / "one", [1, 3], batch_size=8, **settings)
    data = SentenceTaskData(batch_size=4, **settings)
    two = DepthProbe(depths=[1, 3])
    two.build(data.task)  # the spawned workers' weights come back into these readouts
    quick_trainer(tmp_path / "two", max_epochs=2, devices=2, strategy="ddp_spawn").fit(two, datamodule=data)
    for depth, weights in readouts(one).items():
        torch.testing.assert_close(readouts(two)[depth], weights, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("model", ["albert-news-tiny", "minilm-l6"])
def test_segment_ids_reach_the_embeddings(model):
    encoder, tokenizer = load_encoder(model).eval(), load_tokenizer(model)
    assert encoder.base_model.embeddings.token_type_embeddings.weight.abs().sum() > 0
    batch = tokenizer(["A plane is taking off."], ["An air plane is taking off."], return_tensors="pt")
    ids, mask, segments = batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]
    assert segments.sum() > 0
    with torch.no_grad():
        embedded = encoder.base_model.embeddings(ids, token_type_ids=segments)
        assert not torch.allclose(
            embedded, encoder.base_model.embeddings(ids, token_type_ids=torch.zeros_like(segments))
        )
        paired = hidden_at_depth(encoder, ids, mask, 1, segments)
        flat = hidden_at_depth(encoder, ids, mask, 1, torch.zeros_like(segments))
        by_depth = dict(hidden_by_depth(encoder, ids, mask, 1, segments))[1]
    assert not torch.allclose(paired, flat)
    torch.testing.assert_close(by_depth, paired, rtol=1e-5, atol=1e-5)


def test_stsb_from_a_glue_folder_is_regression_with_pearson_per_depth(tmp_path):
    data = SentenceTaskData(task="stsb", data_dir=str(GLUE), batch_size=2)
    probe = DepthProbe(depths=[1, 8])
    trainer = quick_trainer(tmp_path, logger=True)
    trainer.fit(probe, datamodule=data)
    assert probe.readouts[0].out_features == 1
    assert {"val/depth_001/pearson", "val/depth_008/spearman"} <= set(trainer.callback_metrics)
    result = json.loads((Path(trainer.log_dir) / "results.json").read_text())
    assert result["format"] == "lightning_dream.depth_probe/1" and result["task"] == "stsb"
    assert [row["depth"] for row in result["rows"]] == [1, 8]
    assert "val/pearson" in result["rows"][0]


def test_mnli_reports_matched_and_mismatched(tmp_path):
    data = SentenceTaskData(task="mnli", data_dir=str(GLUE / "MNLI"), batch_size=2)
    trainer = quick_trainer(tmp_path)
    trainer.fit(DepthProbe(depths=[2]), datamodule=data)
    assert {"val/depth_002/accuracy_matched", "val/depth_002/accuracy_mismatched"} <= set(trainer.callback_metrics)


def test_cli_run_writes_table_csv_curve_and_resumes(tmp_path):
    args = [
        "fit",
        "--config",
        "configs/depth_probe.yaml",
        "--model.depths",
        "[1, 4]",
        "--data.max_train",
        "32",
        "--data.max_validation",
        "16",
        "--trainer.default_root_dir",
        str(tmp_path),
        "--trainer.max_epochs",
        "1",
        "--trainer.enable_progress_bar",
        "false",
    ]
    done = run_cli(*args)
    assert done.code == 0, done.err[-2000:]
    run = tmp_path / "lightning_logs" / "version_0"
    result = json.loads((run / "results.json").read_text())
    assert [row["depth"] for row in result["rows"]] == [1, 4] and result["trainer"]["global_step"] == 4
    with open(run / "depth_curve.csv") as handle:
        assert [row["depth"] for row in csv.DictReader(handle)] == ["1", "4"]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run)).Reload()
    assert "depth_curve/accuracy" in events.Tags()["images"]
    resumed = run_cli(*args[:-4], "--trainer.max_epochs", "2", "--ckpt_path", str(run / "checkpoints" / "last.ckpt"))
    assert resumed.code == 0, resumed.err[-2000:]
    again = json.loads((tmp_path / "lightning_logs" / "version_1" / "results.json").read_text())
    assert again["trainer"]["global_step"] == 8


@pytest.mark.parametrize(
    ("model", "depths", "message"),
    [
        ("albert-news-tiny", [], "depths is empty"),
        ("albert-news-tiny", [2, 3, 2], r"depths repeats \[2\]"),
        ("albert-news-tiny", [0, 3], r"depths=0 is out of range: allowed 1..10000"),
        ("minilm-l6", [3, 7], r"depths=7 is out of range: allowed 1..6"),
    ],
)
def test_bad_depths_are_one_line_before_training(model, depths, message):
    with pytest.raises(ConfigError, match=message):
        DepthProbe(model=model, depths=depths)


def test_mlm_depth_probe_equals_one_run_per_depth(tmp_path):
    """Fresh MLM heads at depths 2 and 9 (past the trained 6) in one run; the same data order
    (seeded masking and shuffling) gives each head what it gets alone."""
    import pytorch_lightning as pl

    from lightning_dream.data.masked_lm import MaskedTextData
    from lightning_dream.experiments import MLMDepthProbe

    def run(depths, name):
        pl.seed_everything(5)
        probe = MLMDepthProbe(depths=depths)
        data = MaskedTextData(tokenizer="albert-news-tiny", block_size=32, batch_size=4, max_sentences=60)
        trainer = quick_trainer(tmp_path / name, max_steps=3, val_check_interval=3, limit_val_batches=2, logger=True)
        trainer.fit(probe, datamodule=data)
        return probe, trainer

    together, trainer = run([2, 9], "both")
    assert {"val/depth_002/accuracy", "val/depth_009/accuracy"} <= set(trainer.callback_metrics)
    result = json.loads((Path(trainer.log_dir) / "results.json").read_text())
    assert [row["depth"] for row in result["rows"]] == [2, 9]
    for i, depth in enumerate((2, 9)):
        alone, _ = run([depth], str(depth))
        for mine, theirs in zip(together.heads[i].parameters(), alone.heads[0].parameters()):
            torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)


def test_fine_tuning_trains_one_encoder_copy_per_depth(tmp_path):
    probe = DepthProbe(depths=[1, 2], fix_encoder=False, lr=1e-4)
    name = "embedding_hidden_mapping_in"

    def weights():
        return [getattr(encoder.base_model.encoder, name).weight.detach().clone() for encoder in probe.encoder]

    before = weights()
    quick_trainer(tmp_path).fit(probe, datamodule=SentenceTaskData(max_train=16, max_validation=8))
    after = weights()
    assert all(not torch.equal(a, b) for a, b in zip(after, before))
    assert not torch.equal(after[0], after[1])  # depth 1's copy never sees depth 2's gradient


def test_bad_lr_on_the_command_line_is_one_line():
    line = cli_error("fit", "--config", "configs/depth_probe.yaml", "--model.lr", "0")
    assert line == "error: model.lr: Not of type PositiveFloat: does not conform to restriction v>0"
