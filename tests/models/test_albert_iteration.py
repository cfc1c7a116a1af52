"""The iterated shared layer is ALBERT: same states at the trained depth, any depth beyond it."""

from __future__ import annotations

import pytest
import torch
from transformers import AlbertConfig, AlbertModel

from lightning_dream.errors import ConfigError
from lightning_dream.models.albert_iteration import AlbertIteration, check_albert
from lightning_dream.models.depth import hidden_at_depth
from lightning_dream.models.loading import load_encoder, load_tokenizer

SENTENCES = ["the cat sat on the mat .", "stocks fell sharply on wall street after the report ."]


def _tiny_albert() -> AlbertModel:
    """Random weights: a unit test of the mechanics, not of a trained model."""
    torch.manual_seed(0)
    config = AlbertConfig(
        vocab_size=50,
        embedding_size=16,
        hidden_size=32,
        num_attention_heads=4,
        intermediate_size=64,
        num_hidden_layers=5,
    )
    return AlbertModel(config).eval()


def _batch(vocab: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(0, vocab, (3, 9), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    mask[2, 3:] = 0
    return ids, mask


def test_iterated_layer_at_trained_depth_equals_albert_model():
    model = _tiny_albert()
    ids, mask = _batch()
    reference = torch.stack(model(ids, attention_mask=mask, output_hidden_states=True).hidden_states)
    states = AlbertIteration(model).run(ids, mask, model.config.num_hidden_layers)
    valid = mask.bool()
    assert states.shape == reference.shape
    torch.testing.assert_close(states[:, valid], reference[:, valid], atol=1e-5, rtol=1e-5)


def test_shipped_albert_matches_its_own_forward_and_runs_past_trained_depth():
    model = load_encoder("albert-news-tiny")
    tok = load_tokenizer("albert-news-tiny")
    batch = tok(SENTENCES, padding=True, return_tensors="pt")
    reference = model(**batch, output_hidden_states=True).hidden_states
    iteration = AlbertIteration(model)
    states = iteration.run(batch["input_ids"], batch["attention_mask"], 3 * iteration.trained_depth)
    valid = batch["attention_mask"].bool()
    for depth, hidden in enumerate(reference):
        torch.testing.assert_close(states[depth][valid], hidden[valid], atol=1e-4, rtol=1e-4)
    assert states.shape[0] == 3 * iteration.trained_depth + 1
    assert not torch.allclose(states[-1][valid], states[iteration.trained_depth][valid])
    deep = hidden_at_depth(model, batch["input_ids"], batch["attention_mask"], depth=15)
    torch.testing.assert_close(deep[valid], states[15][valid])


def test_non_albert_checkpoint_is_refused_naming_what_was_found():
    with pytest.raises(ConfigError, match="'bert' model.*needs an ALBERT"):
        check_albert("minilm-l6")
    with pytest.raises(ConfigError, match="found BertModel"):
        AlbertIteration(load_encoder("minilm-l6"))


@pytest.mark.parametrize("steps", [0, -3])
def test_non_positive_number_of_steps_is_refused(steps):
    model = _tiny_albert()
    ids, mask = _batch()
    with pytest.raises(ConfigError, match=f"num_steps={steps} must be at least 1"):
        next(AlbertIteration(model).iterate(torch.zeros(3, 9, 32), mask, steps))
