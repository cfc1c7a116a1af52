"""Logits at masked positions: the head runs at those positions only, with the full pass's values."""

import pytest
import torch

from lightning_dream.models.loading import load_masked_lm, load_tokenizer
from lightning_dream.models.mlm_scoring import logits_at


@pytest.mark.parametrize("name", ["minilm-l6-mlm", "albert-news-tiny"])
def test_logits_at_positions_equal_the_full_pass(name):
    model, tokenizer = load_masked_lm(name).eval(), load_tokenizer(name)
    batch = tokenizer(["the cat sat on the mat .", "a [MASK] of news today"], padding=True, return_tensors="pt")
    batch["input_ids"][0, 3] = tokenizer.mask_token_id
    rows, positions = torch.tensor([0, 1, 1]), torch.tensor([3, 2, 5])
    with torch.no_grad():
        full = model(**batch).logits[rows, positions]
        cut = logits_at(model, batch["input_ids"], batch["attention_mask"], rows, positions)
    assert cut.shape == (3, model.config.vocab_size)
    assert torch.allclose(cut, full, atol=1e-4)
    assert not model.base_model._forward_hooks  # the cut does not outlive the call
