"""Depth sweeps of readouts on the shipped ALBERT: one row per depth, clear errors for bad lists and files."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from lightning_dream.data.sentence_tasks import SentenceTaskData
from lightning_dream.errors import ConfigError
from lightning_dream.experiments.depth.sentence_probe import SentenceProbe, sentence_probe_sweep
from lightning_dream.experiments.depth.sweep import check_depths, mlm_depth_sweep

TINY = {"max_train": 24, "max_validation": 16, "epochs": 1, "batch_size": 8}


def _rows(folder) -> list[dict]:
    with open(folder / "sweep.csv") as handle:
        return list(csv.DictReader(handle))


def test_probe_sweep_on_shipped_albert_writes_one_row_per_depth(tmp_path):
    rows = sentence_probe_sweep(depths=[1, 2, 9], output=str(tmp_path), **TINY)  # 9 > trained depth 6
    assert [r["depth"] for r in rows] == [1, 2, 9]
    assert [int(r["depth"]) for r in _rows(tmp_path)] == [1, 2, 9]
    assert all(0 <= r["val/accuracy"] <= 1 and "val/matthews" in r and "val/f1" in r for r in rows)
    assert json.loads((tmp_path / "sweep.json").read_text())["format"] == "lightning_dream.depth_sweep/1"
    assert (tmp_path / "sweep.png").stat().st_size > 0


def test_cached_pooled_states_train_the_same_probes_as_running_the_encoder_per_depth(tmp_path):
    """With a fixed encoder the sweep computes every depth's pooled states in one pass; each depth's
    readout then sees the same features in the same order, so its metrics are those of the run that
    iterates the encoder for every batch (up to float rounding of the batch padding)."""
    settings = dict(depths=[1, 3, 7], max_train=48, max_validation=32, epochs=2, batch_size=8)
    cached = sentence_probe_sweep(output=str(tmp_path / "cached"), **settings)
    direct = sentence_probe_sweep(output=str(tmp_path / "direct"), cache_features=False, **settings)
    assert [r["depth"] for r in cached] == [1, 3, 7]
    for a, b in zip(cached, direct):
        assert set(a) == set(b)
        for key in a:
            assert a[key] == pytest.approx(b[key], abs=1e-4), (a["depth"], key)
    assert len({round(r["val/loss"], 6) for r in cached}) == 3  # the depths differ: not one set of features


def test_states_by_depth_equal_one_run_per_depth():
    from lightning_dream.models.depth import hidden_at_depth, hidden_by_depth
    from lightning_dream.models.loading import load_encoder

    for name in ("albert-news-tiny", "minilm-l6"):
        model = load_encoder(name).eval()
        ids, mask = torch.tensor([[2, 48, 3056, 9, 3, 0]]), torch.tensor([[1, 1, 1, 1, 1, 0]])
        if name == "minilm-l6":
            ids[0, 0], ids[0, 4] = 101, 102
        with torch.no_grad():
            states = dict(hidden_by_depth(model, ids, mask, 4))
            assert sorted(states) == [1, 2, 3, 4]
            for depth in (1, 4):
                torch.testing.assert_close(
                    states[depth], hidden_at_depth(model, ids, mask, depth), rtol=1e-5, atol=1e-5
                )


def test_regression_task_from_a_local_file_reports_correlations(tmp_path):
    table = tmp_path / "pairs.csv"
    with open(table, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sentence1", "sentence2", "score"])
        for i in range(40):
            writer.writerow([f"the cat sat on mat number {i}", "a dog ran" if i % 2 else "the cat sat", str(i % 5)])
    rows = sentence_probe_sweep(
        depths=[2],
        task=str(table),
        text_columns=["sentence1", "sentence2"],
        label_column="score",
        num_labels=1,
        output=str(tmp_path / "out"),
        **TINY,
    )
    assert {"val/pearson", "val/spearman"} <= set(rows[0])


def test_mlm_sweep_on_shipped_albert_writes_one_row_per_depth(tmp_path):
    rows = mlm_depth_sweep(
        depths=[1, 8], epochs=1, block_size=32, batch_size=16, max_sentences=150, output=str(tmp_path)
    )
    assert [int(r["depth"]) for r in _rows(tmp_path)] == [1, 8]
    assert all(0 <= r["val/accuracy"] <= 1 for r in rows)


@pytest.mark.parametrize(
    "depths, message",
    [
        ([1, 2, 2], r"depths \[2\] appear more than once"),
        ([0, 3], r"depths \[0\] are not allowed"),
        ([], "depths is empty"),
    ],
)
def test_bad_depth_lists_are_refused(depths, message):
    with pytest.raises(ConfigError, match=message):
        check_depths(depths)
    with pytest.raises(ConfigError, match=message):
        sentence_probe_sweep(depths=depths, output="unused", **TINY)


def test_dataset_without_expected_columns_is_refused(tmp_path):
    table = tmp_path / "reviews.csv"
    table.write_text("review,stars\ngreat film,5\nawful,1\n")
    data = SentenceTaskData(task=str(table))
    with pytest.raises(ConfigError, match=r"lacks column\(s\) \['sentence', 'label'\]: found \['review', 'stars'\]"):
        data.setup()


def test_local_glue_folder_loads_train_and_dev(tmp_path):
    for name, n in (("train.tsv", 6), ("dev.tsv", 3)):
        (tmp_path / name).write_text("sentence\tlabel\n" + "".join(f"sentence {i} here .\t{i % 2}\n" for i in range(n)))
    data = SentenceTaskData(task=str(tmp_path))
    data.setup()
    assert len(data.train_set) == 6 and len(data.val_set) == 3
    batch = next(iter(data.val_dataloader()))
    assert batch["labels"].tolist() == [0, 1, 0]


def test_rotten_tomatoes_split_is_fixed_and_drops_plot_summaries():
    first, second = SentenceTaskData(), SentenceTaskData()
    first.setup(), second.setup()
    assert first.val_set == second.val_set
    assert len(first.train_set) + len(first.val_set) == 7403 + 5405
    assert {label for _, label in first.train_set} == {0, 1}


def test_init_model_replaces_the_pretrained_encoder():
    pretrained = SentenceProbe(depth=3)
    fresh = SentenceProbe(depth=3, init_model=True)
    name = "encoder.encoder.embedding_hidden_mapping_in.weight"
    assert not torch.equal(pretrained.state_dict()[name], fresh.state_dict()[name])


def test_probe_depth_must_be_positive_and_non_albert_depth_bounded():
    with pytest.raises(ConfigError, match="depth=0 is out of range"):
        SentenceProbe(depth=0)
    with pytest.raises(ConfigError, match="depth=7 is out of range: allowed 1..6"):
        SentenceProbe(model="minilm-l6", depth=7)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_readout_input_ignores_padding(pooling):
    from lightning_dream.models.loading import load_tokenizer

    probe = SentenceProbe(depth=3, pooling=pooling).eval()
    tok = load_tokenizer("albert-news-tiny")
    short = "the film is a delight ."
    alone = tok([short], return_tensors="pt")
    padded = tok(
        [short, "a much longer review that goes on and on about the plot ."], padding=True, return_tensors="pt"
    )
    with torch.no_grad():
        torch.testing.assert_close(
            probe(alone["input_ids"], alone["attention_mask"])[0],
            probe(padded["input_ids"], padded["attention_mask"])[0],
            atol=1e-5,
            rtol=1e-5,
        )
