import json

import pytest
import torch

from lightning_dream.data.lama import EMBEDDED_PROBES
from lightning_dream.errors import ConfigError
from lightning_dream.experiments.masked_lm.fill_mask import FillMask
from lightning_dream.results import read_results

FIXED_SET = 200  # the first 200 facts of the shipped news-words set: held-out news, one word masked, drawn uniformly


def test_fill_mask_reports_top_k_at_every_mask(trainer_factory):
    experiment = FillMask(
        sentences=["the capital of france is [MASK] .", "[MASK] is a [MASK] ."], model="splade-tiny", top_k=3
    )
    trainer = trainer_factory()
    trainer.predict(experiment)
    rows = read_results(trainer.default_root_dir, "lightning_dream.fill_mask/1")["rows"]
    assert [len(r["masks"]) for r in rows] == [1, 2]
    top = rows[0]["masks"][0]["top"]
    assert len(top) == 3 and top[0]["probability"] >= top[1]["probability"] >= top[2]["probability"]
    assert top[0]["token"] == "city"  # splade-tiny's known answer (ASSETS.md: city .087)


def test_mask_word_masks_a_position_and_reports_the_original(trainer_factory):
    experiment = FillMask(sentences="i hate kickshaws .", mask_word=2, model="splade-tiny", top_k=5)
    trainer = trainer_factory()
    trainer.predict(experiment)
    entry = read_results(trainer.default_root_dir)["rows"][0]["masks"][0]
    assert entry["position"] == 2 and entry["original"] == "hate"
    assert 0 < entry["original_probability"] < 1 and entry["original_rank"] >= 1


TWO_PROCESS_SENTENCES = [
    "the capital of france is [MASK] .",
    "[MASK] is a [MASK] .",
    "the cat sat on the [MASK] .",
    "he drove his [MASK] to work .",
    "the [MASK] was closed on monday .",
]


def approx(value):
    """``value`` with every float compared up to rounding (two processes run on fewer threads each)."""
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-5, abs=1e-9)
    if isinstance(value, dict):
        return {key: approx(item) for key, item in value.items()}
    if isinstance(value, list):
        return [approx(item) for item in value]
    return value


@pytest.mark.parametrize("strategy", ["job_sharding_spawn"])
def test_two_processes_write_one_file_equal_to_one_process(tmp_path, strategy):
    """Each process predicts its share of the batches; rank 0 alone writes the gathered rows, each
    sentence once, in sentence order, exactly as one process writes them."""
    from tests.helpers import quick_predict

    def fill_mask() -> FillMask:  # 3 batches of 2, 1: shared 2 / 1 between two processes
        return FillMask(sentences=TWO_PROCESS_SENTENCES, model="splade-tiny", top_k=3, batch_size=2)

    quick_predict(fill_mask(), tmp_path / "one")
    quick_predict(fill_mask(), tmp_path / "two", devices=2, strategy=strategy)
    one, two = read_results(tmp_path / "one"), read_results(tmp_path / "two", "lightning_dream.fill_mask/1")
    assert (one["trainer"]["world_size"], two["trainer"]["world_size"]) == (1, 2)
    assert [row["sentence"] for row in two["rows"]] == TWO_PROCESS_SENTENCES
    assert two["rows"] == approx(one["rows"])
    assert [p.name for p in (tmp_path / "two").iterdir()] == ["results.json"]


def test_sentence_without_mask_is_refused_before_loading():
    with pytest.raises(ConfigError) as err:
        FillMask(sentences="no mask here .", model="splade-tiny")
    assert "has no [MASK]" in str(err.value) and "mask_word" in str(err.value) and "\n" not in str(err.value)


def test_top_k_larger_than_the_vocabulary_is_refused():
    with pytest.raises(ConfigError, match=r"top_k=40000 is out of range: allowed 1..30522"):
        FillMask(model="splade-tiny", top_k=40000)


def test_mask_word_outside_the_sentence_is_refused():
    with pytest.raises(ConfigError, match="mask_word=9"):
        FillMask(sentences="a b .", mask_word=9, model="splade-tiny")


@pytest.mark.slow
def test_shipped_minilm_mlm_fills_held_out_news_words(trainer_factory):
    lines = EMBEDDED_PROBES["news-words"].read_text().splitlines()[:FIXED_SET]
    facts = [json.loads(line) for line in lines]
    experiment = FillMask(
        sentences=[f["masked_sentences"][0] for f in facts], model="minilm-l6-mlm", top_k=5, batch_size=32
    )
    trainer = trainer_factory()
    trainer.predict(experiment)
    rows = read_results(trainer.default_root_dir)["rows"]
    top = [[t["token"] for t in r["masks"][0]["top"]] for r in rows]
    top1 = sum(t[0] == f["obj_label"] for t, f in zip(top, facts)) / FIXED_SET
    top5 = sum(f["obj_label"] in t for t, f in zip(top, facts)) / FIXED_SET
    print(f"minilm-l6-mlm on {FIXED_SET} held-out news sentences: top-1 {top1:.3f}, top-5 {top5:.3f}")
    assert top5 >= 0.30


def test_shipped_minilm_mlm_is_the_minilm_encoder_plus_the_shipped_head_and_blocks():
    from safetensors.torch import load_file

    from lightning_dream.models.embedded_heads import EMBEDDED_DIR, TUNED_BLOCKS
    from lightning_dream.models.loading import load_encoder, load_masked_lm
    from lightning_dream.models.mlm_head import MLMHead

    model = load_masked_lm("minilm-l6-mlm")
    encoder = load_encoder("minilm-l6")
    head, meta = MLMHead.load(EMBEDDED_DIR / "minilm-l6-mlm")
    assert (meta["encoder"], meta["depth"], model.config.num_hidden_layers) == ("minilm-l6", 6, 6)
    tuned = load_file(str(EMBEDDED_DIR / "minilm-l6-mlm" / TUNED_BLOCKS))
    assert {name.split(".")[2] for name in tuned} == {"3", "4", "5"}  # blocks 4..6 tuned, 1..3 as shipped by minilm-l6
    encoder.load_state_dict({name: p.float() for name, p in tuned.items()}, strict=False)
    ids = torch.tensor([[101, 1996, 3007, 1997, 2605, 2003, 103, 1012, 102]])
    with torch.no_grad():
        hidden = encoder(input_ids=ids).last_hidden_state
        expected = head(hidden, encoder.get_input_embeddings().weight)
        torch.testing.assert_close(model(input_ids=ids).logits, expected, atol=1e-4, rtol=1e-4)
