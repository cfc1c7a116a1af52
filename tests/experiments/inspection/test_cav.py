"""Concept activation vectors from real news sentences: he/she separate linearly, the saved
unit vector points toward the second concept, bad concept sets fail in one line."""

from __future__ import annotations

import pytest
import torch

from lightning_dream.data.concepts import ConceptData
from lightning_dream.errors import ConfigError
from lightning_dream.experiments.inspection.cav import CAV, load_cav
from lightning_dream.models.loading import load_encoder, load_tokenizer
from lightning_dream.models.readout import EncoderReadout
from tests.helpers import quick_trainer


def train_cav(root, layers: list[int], max_per_concept: int = 150, epochs: int = 15) -> str:
    data = ConceptData(concepts=["he", "she"], max_per_concept=max_per_concept)
    module = CAV(layers=layers, cav_file=str(root / "cav.json"))
    quick_trainer(root, max_epochs=epochs).fit(module, datamodule=data)
    return str(root / "cav.json")


def test_he_she_cav_at_layer_3_separates_heldout_sentences(tmp_path):
    path = train_cav(tmp_path, layers=[3])
    cav = load_cav(path)
    payload = __import__("json").loads(open(path).read())
    assert payload["layers"]["3"]["heldout_accuracy"] >= 0.9
    assert cav.concepts == ("he", "she")
    vector = cav.vectors[3]
    assert abs(float(vector.norm()) - 1) < 1e-5
    tokenizer, readout = load_tokenizer("minilm-l6"), EncoderReadout(load_encoder("minilm-l6"))
    ids = torch.tensor([tokenizer("she went home")["input_ids"], tokenizer("he went home")["input_ids"]])
    pronoun = readout.layer(torch.ones_like(ids), 3, input_ids=ids)[:, 1]
    assert float(pronoun[0] @ vector) > float(pronoun[1] @ vector)  # the vector points toward "she"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"concepts": []}, "exactly two"),
        ({"concepts": ["he", ""]}, "exactly two"),
        ({"concepts": ["he", "kickshaws"]}, "single-token"),
        ({"heldout_fraction": 1.0}, "heldout_fraction"),
    ],
)
def test_bad_concept_sets_are_one_line_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message) as err:
        ConceptData(**kwargs)
    assert "\n" not in str(err.value)


def test_corpus_with_too_few_sentences_for_a_concept_is_an_error(tmp_path):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("he went to the market today .\nshe stayed at home all day .\nhe came back late at night .\n")
    with pytest.raises(
        ConfigError, match="1 sentences of 5..40 words for concept .she.: need at least min_per_concept=2"
    ) as err:
        ConceptData(corpus=str(corpus), min_per_concept=2)
    assert "\n" not in str(err.value)


def test_cav_layer_out_of_range_is_an_error():
    with pytest.raises(ConfigError, match="layers=9"):
        CAV(layers=[3, 9])
