"""Similar embeddings on MiniLM: true nearest neighbours, each with the activation it really gives."""

import pytest
import torch

from lightning_dream.errors import ConfigError
from lightning_dream.experiments import SimilarEmbeddings
from lightning_dream.models.loading import load_encoder, load_tokenizer
from lightning_dream.results import read_results

SENTENCE = "i hate kickshaws ."


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    from tests.helpers import quick_trainer

    root = tmp_path_factory.mktemp("similar")
    quick_trainer(root).predict(
        SimilarEmbeddings(sentence=SENTENCE, change_word=2, layer_id=3, neuron_ids=314, top_k=8)
    )
    [job] = read_results(root, SimilarEmbeddings.result_format)["jobs"]
    return job


def test_neighbours_are_the_nearest_in_the_embedding_table(job):
    table = load_encoder("minilm-l6").get_input_embeddings().weight
    hate = table[job["original"]["id"]]
    cosine = torch.nn.functional.cosine_similarity(table, hate[None], dim=-1)
    cosine[job["original"]["id"]] = -1
    assert [t["id"] for t in job["cosine"]] == cosine.topk(8).indices.tolist()
    distances = [t["distance"] for t in job["euclidean"]]
    assert distances == sorted(distances) and distances[0] > 0  # the word itself is not its own neighbour
    assert "hated" in {t["token"] for t in job["cosine"]}


def test_each_activation_is_the_model_reading_with_that_token_in_place(job):
    tokenizer, model = load_tokenizer("minilm-l6"), load_encoder("minilm-l6")
    ids = torch.tensor([tokenizer(SENTENCE)["input_ids"]])
    for entry in job["cosine"][:3] + job["euclidean"][:3] + [job["original"]]:
        ids[0, 2] = entry["id"]
        with torch.no_grad():
            value = model(input_ids=ids, output_hidden_states=True).hidden_states[3][0, 2, 314]
        assert entry["activation"] == pytest.approx(value.item(), abs=1e-5)


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(top_k=30522), "top_k=30522 is out of range: allowed 1..30521"),
        (dict(change_word=9), "change_word=9 is out of range: allowed 1..6"),
        (dict(layer_id=-1), "layer_id=-1 is out of range: allowed 0..6"),
    ],
)
def test_bad_inputs(settings, message):
    with pytest.raises(ConfigError, match=message):
        SimilarEmbeddings(sentence=SENTENCE, **settings)
