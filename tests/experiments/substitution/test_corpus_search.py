"""Corpus search on real news sentences: the top sentence, re-run alone, gives its reported activation."""

import pytest
import torch

from lightning_dream.errors import ConfigError
from lightning_dream.experiments import CorpusSearch
from lightning_dream.models.loading import load_encoder, load_tokenizer
from lightning_dream.results import read_results

LIMIT = dict(max_sentences=300, batch_size=32)


def search(trainer_factory, **settings):
    trainer = trainer_factory()
    trainer.predict(CorpusSearch(**settings))
    return read_results(trainer.default_root_dir, CorpusSearch.result_format)["jobs"]


def alone(sentence: str, layer: int) -> torch.Tensor:
    ids = load_tokenizer("minilm-l6")(sentence, return_tensors="pt")
    with torch.no_grad():
        return load_encoder("minilm-l6")(**ids, output_hidden_states=True).hidden_states[layer][0]


@pytest.mark.parametrize("word_id", [None, 3])
def test_top_sentence_rerun_alone_gives_its_reported_activation(trainer_factory, word_id):
    jobs = search(trainer_factory, layer_id=2, neuron_ids=[314, 7], word_id=word_id, top_k=5, **LIMIT)
    assert [job["neuron_id"] for job in jobs] == [314, 7]
    for job in jobs:
        values = [entry["activation"] for entry in job["top"]]
        assert len(values) == 5 and values == sorted(values, reverse=True)
        best = job["top"][0]
        hidden = alone(best["sentence"], 2)
        assert best["activation"] == pytest.approx(hidden[best["position"], job["neuron_id"]].item(), abs=1e-4)
        if word_id is None:  # the best word of the sentence is reported
            assert best["activation"] == pytest.approx(hidden[1:-1, job["neuron_id"]].max().item(), abs=1e-4)
        else:
            assert {entry["position"] for entry in job["top"]} == {word_id}


def test_a_local_text_file_is_a_corpus(trainer_factory, tmp_path):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("The cat sat on the mat. A dog barked at night.\nRain fell on the quiet town.\n")
    [job] = search(trainer_factory, corpus=str(corpus), min_words=1, layer_id=1, neuron_ids=314, top_k=3)
    assert job["sentences_searched"] == 3
    assert {entry["sentence"] for entry in job["top"]} == {
        "The cat sat on the mat.",
        "A dog barked at night.",
        "Rain fell on the quiet town.",
    }


def test_an_empty_corpus_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ConfigError, match="has no sentences"):
        CorpusSearch(corpus=str(empty))


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(top_k=301), "top_k=301 is out of range: allowed 1..300"),
        (dict(layer_id=9), "layer_id=9 is out of range: allowed 0..6"),
        (dict(word_id=128), "word_id=128 is out of range: allowed 0..127"),
        (dict(neuron_ids=[]), "neuron_ids is empty"),
        (dict(corpus="no/such/file.txt"), "corpus 'no/such/file.txt' not found"),
    ],
)
def test_bad_inputs(settings, message):
    with pytest.raises(ConfigError, match=message):
        CorpusSearch(**{**LIMIT, **settings})


def test_two_processes_equal_one(trainer_factory, tmp_path):
    settings = dict(layer_id=1, neuron_ids=[314, 7], top_k=4, max_sentences=200, batch_size=16)
    one = search(trainer_factory, **settings)
    trainer_factory(default_root_dir=str(tmp_path / "two"), devices=2, strategy="job_sharding_spawn").predict(
        CorpusSearch(**settings)
    )
    sharded = read_results(tmp_path / "two", CorpusSearch.result_format)
    assert sharded["trainer"]["world_size"] == 2
    two = sharded["jobs"]
    for a, b in zip(one, two, strict=True):
        assert [e["index"] for e in a["top"]] == [e["index"] for e in b["top"]]
        assert [e["activation"] for e in a["top"]] == pytest.approx([e["activation"] for e in b["top"]], abs=1e-5)
