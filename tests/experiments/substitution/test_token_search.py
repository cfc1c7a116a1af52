"""Token search on real weights: its best token really is the best of the whole vocabulary."""

import pytest
import torch

from lightning_dream.errors import ConfigError
from lightning_dream.experiments import TokenSearch
from lightning_dream.models.loading import load_encoder, load_tokenizer
from lightning_dream.models.readout import EncoderReadout
from lightning_dream.results import read_results
from tests.helpers import cli_error

SENTENCE = "i hate kickshaws ."


def search(trainer_factory, **settings):
    trainer_factory().predict(TokenSearch(sentence=SENTENCE, **settings))
    return read_results(trainer_factory().default_root_dir, TokenSearch.result_format)["jobs"]


def layer_value(model_name: str, ids: torch.Tensor, layer: int, position: int) -> torch.Tensor:
    """The target read the plain way: transformers' forward (truncated), the whole layer."""
    with torch.no_grad():
        return EncoderReadout(load_encoder(model_name)).layer(torch.ones_like(ids), layer, input_ids=ids)[:, position]


def test_best_token_rerun_gives_the_reported_activation_and_nothing_beats_it(trainer_factory):
    """splade-tiny at its last layer: every one of the 30,522 substitutions checked the plain way."""
    jobs = search(
        trainer_factory, model="splade-tiny", change_word=2, layer_id=2, neuron_ids=[5, 77], top_k=5, batch_size=4096
    )
    tokenizer = load_tokenizer("splade-tiny")
    ids = torch.tensor(tokenizer(SENTENCE)["input_ids"])
    everything = ids.repeat(tokenizer.vocab_size, 1)
    everything[:, 2] = torch.arange(tokenizer.vocab_size)
    plain = torch.cat([layer_value("splade-tiny", chunk, 2, 2) for chunk in everything.split(4096)])
    for job in jobs:
        values = plain[:, job["neuron_id"]]
        assert job["tokens_searched"] == tokenizer.vocab_size
        best = job["top"][0]
        assert best["activation"] == pytest.approx(values[best["id"]].item(), abs=1e-5)
        assert values.max().item() <= best["activation"] + 1e-5  # no vocabulary token beats it
        assert [t["id"] for t in job["top"]] == values.topk(5).indices.tolist()
        assert job["original"]["activation"] == pytest.approx(
            values[tokenizer.convert_tokens_to_ids("hate")].item(), abs=1e-5
        )
        assert job["original_rank"] == int((values > values[5223]).sum()) + 1


def test_minilm_word_target_best_token_rerun_through_the_full_model(trainer_factory):
    [job] = search(
        trainer_factory,
        model="minilm-l6",
        change_word=3,
        layer_id=1,
        word_id=0,
        target="word",
        reduction="norm",
        top_k=3,
    )
    tokenizer = load_tokenizer("minilm-l6")
    ids = torch.tensor([tokenizer(SENTENCE)["input_ids"]])
    ids[0, 3] = job["top"][0]["id"]
    with torch.no_grad():
        vector = load_encoder("minilm-l6")(input_ids=ids, output_hidden_states=True).hidden_states[1][0, 0]
    assert job["top"][0]["activation"] == pytest.approx(vector.norm().item(), abs=1e-5)
    assert (
        job["top"][0]["activation"]
        >= job["top"][1]["activation"]
        >= job["top"][2]["activation"]
        >= job["original"]["activation"]
    )


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(top_k=30523), "top_k=30523 is out of range: allowed 1..30522"),
        (dict(change_word=0), "change_word=0 is out of range: allowed 1..6"),
        (dict(change_word=7), "change_word=7 is out of range: allowed 1..6"),
        (dict(layer_id=7), "layer_id=7 is out of range: allowed 0..6"),
        (dict(word_id=8), "word_id=8 is out of range: allowed 0..7"),
        (dict(neuron_ids=384), "neuron_id=384 is out of range: allowed 0..383"),
        (dict(neuron_ids=[]), "target 'neuron' needs neuron_ids"),
        (dict(batch_size=0), "batch_size=0 must be positive"),
    ],
)
def test_bad_inputs_name_the_value_and_what_is_allowed(settings, message):
    with pytest.raises(ConfigError, match=message):
        TokenSearch(sentence=SENTENCE, **settings)


def test_two_processes_equal_one(trainer_factory, tmp_path):
    """The vocabulary is split between processes and their scores merged: the same answer."""
    settings = dict(model="splade-tiny", change_word=3, layer_id=1, neuron_ids=[5, 77], top_k=6, batch_size=2048)
    one = search(trainer_factory, **settings)
    trainer_factory(default_root_dir=str(tmp_path / "two"), devices=2, strategy="job_sharding_spawn").predict(
        TokenSearch(sentence=SENTENCE, **settings)
    )
    sharded = read_results(tmp_path / "two", TokenSearch.result_format)
    assert sharded["trainer"]["world_size"] == 2
    two = sharded["jobs"]
    assert [j["job"] for j in two] == [0, 1] and two[0]["tokens_searched"] == 30522
    for a, b in zip(one, two):
        assert [t["id"] for t in a["top"]] == [t["id"] for t in b["top"]]
        assert [t["activation"] for t in a["top"]] == pytest.approx([t["activation"] for t in b["top"]], abs=1e-5)
        assert a["original_rank"] == b["original_rank"]


def test_bad_batch_size_on_the_command_line_is_one_line():
    line = cli_error("predict", "--config", "configs/token_search.yaml", "--model.batch_size", "0")
    assert line == "error: model.batch_size: Not of type PositiveInt: 0 does not conform to restriction v>0"
