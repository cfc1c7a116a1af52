import math

import pytest
import torch

from lightning_dream.errors import ConfigError
from lightning_dream.experiments.masked_lm.mlm_sampling import MLMSampling
from lightning_dream.models.loading import load_masked_lm, load_tokenizer
from lightning_dream.results import read_results
from tests.helpers import cli_error


def sample(trainer_factory, **settings) -> list[dict]:
    experiment = MLMSampling(model="splade-tiny", **settings)
    trainer = trainer_factory()
    trainer.predict(experiment)
    return read_results(trainer.default_root_dir, "lightning_dream.mlm_sampling/1")["rows"]


def pll_by_hand(tokens: list[str]) -> float:
    """log p(token | every other token) summed, one forward per token."""
    model, tok = load_masked_lm("splade-tiny"), load_tokenizer("splade-tiny")
    ids = [tok.cls_token_id, *tok.convert_tokens_to_ids(tokens), tok.sep_token_id]
    total = 0.0
    for position in range(1, len(ids) - 1):
        masked = list(ids)
        masked[position] = tok.mask_token_id
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([masked])).logits[0, position]
        total += logits.log_softmax(-1)[ids[position]].item()
    return total


def test_samples_keep_the_seed_fill_every_mask_and_carry_their_pll(trainer_factory):
    rows = sample(
        trainer_factory, seed_text="the weather", num_samples=3, batch_size=2, max_len=6, max_iter=16, top_k=50
    )
    assert [r["sample"] for r in rows] == [0, 1, 2]
    for row in rows:
        assert len(row["tokens"]) == 6 and row["tokens"][:2] == ["the", "weather"]
        assert not {"[MASK]", "[CLS]", "[SEP]", "[PAD]"} & set(row["tokens"])
        assert row["pll"] < 0 and math.isclose(row["pll_per_token"], row["pll"] / 6)
    assert math.isclose(rows[0]["pll"], pll_by_hand(rows[0]["tokens"]), rel_tol=1e-4)


def test_same_seed_same_samples(trainer_factory):
    settings = dict(num_samples=2, batch_size=2, max_len=5, max_iter=10, temperature=1.5)
    assert [r["text"] for r in sample(trainer_factory, **settings)] == [
        r["text"] for r in sample(trainer_factory, **settings)
    ]


def test_temperature_decays_once_per_sweep():
    experiment = MLMSampling(model="splade-tiny", max_len=4, max_iter=20, temperature=2.0, temperature_decay=0.5)
    assert [experiment.temperature_at(s) for s in (0, 3, 4, 8)] == [2.0, 2.0, 1.0, 0.5]


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(seed_text="one two three", max_len=3), "max_len=3 leaves nothing to generate"),
        (dict(max_len=10, max_iter=5), "max_iter=5 is too small: at least 10"),
        (dict(top_k=30523), "top_k=30523 is out of range: allowed 1..30522"),
        (dict(temperature_decay=1.5), "temperature_decay=1.5"),
    ],
)
def test_bad_sampling_settings_are_one_line_errors(settings, message):
    with pytest.raises(ConfigError) as err:
        MLMSampling(model="splade-tiny", **settings)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_bad_temperature_decay_on_the_command_line_is_one_line():
    line = cli_error("predict", "--config", "configs/mlm_sampling.yaml", "--model.temperature_decay", "1.5")
    assert line == (
        "error: model.temperature_decay: Not of type DecayFactor: 1.5 does not conform to restriction v>0.0 and v<=1.0"
    )
