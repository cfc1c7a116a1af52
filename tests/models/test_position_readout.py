"""The one-position readout equals transformers' full forward at that position."""

import pytest
import torch

from lightning_dream.models.loading import load_encoder, load_tokenizer
from lightning_dream.models.position_readout import hidden_at_position, substituted_at_position


@pytest.fixture(scope="module", params=["minilm-l6", "splade-tiny"])
def model_and_tokenizer(request):
    return load_encoder(request.param), load_tokenizer(request.param)


def test_truncated_last_block_equals_the_full_forward_on_a_padded_batch(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    enc = tokenizer(["the cat sat on the mat .", "hello there"], padding=True, return_tensors="pt")
    with torch.no_grad():
        full = model(**enc, output_hidden_states=True).hidden_states
    for layer in range(len(full)):
        for position in (0, 2, 4):  # row 1 is padded at 4: its value is what the full forward computes too
            got = hidden_at_position(model, layer, position, enc["attention_mask"], input_ids=enc["input_ids"])
            torch.testing.assert_close(got, full[layer][:, position], atol=2e-5, rtol=1e-5)


def test_substitution_sharing_the_first_block_equals_the_full_forward(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    ids = torch.tensor(tokenizer("the quick brown fox jumps")["input_ids"])
    candidates = torch.tensor([0, 101, 2000, 5223, 30521])
    batch = ids.repeat(len(candidates), 1)
    batch[:, 3] = candidates
    with torch.no_grad():
        full = model(input_ids=batch, output_hidden_states=True).hidden_states
    for layer in range(len(full)):
        for position in (0, 3, 5):
            got = substituted_at_position(model, ids, 3, candidates, layer, position)
            torch.testing.assert_close(got, full[layer][:, position], atol=2e-5, rtol=1e-5)


def test_inputs_embeds_give_the_same_vectors_as_ids(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    ids = torch.tensor([tokenizer("i hate kickshaws .")["input_ids"]])
    embeds = model.get_input_embeddings()(ids)
    torch.testing.assert_close(
        hidden_at_position(model, 2, 2, input_ids=ids), hidden_at_position(model, 2, 2, inputs_embeds=embeds)
    )
