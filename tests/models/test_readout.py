import pytest
import torch

from lightning_dream.errors import ConfigError
from lightning_dream.models.loading import load_encoder, load_tokenizer
from lightning_dream.models.readout import ActivationTarget, EncoderReadout


@pytest.fixture(scope="module")
def readout():
    return EncoderReadout(load_encoder("minilm-l6"))


def test_truncated_forward_equals_the_full_models_hidden_states(readout):
    enc = load_tokenizer("minilm-l6")(["the cat sat on the mat .", "hello"], padding=True, return_tensors="pt")
    full = readout.model(**enc, output_hidden_states=True).hidden_states
    for depth in (0, 2, 6):
        part = readout.hidden_states(enc["attention_mask"], depth, input_ids=enc["input_ids"])
        assert part.shape[0] == depth + 1
        torch.testing.assert_close(part[depth], full[depth], atol=1e-5, rtol=1e-5)
    assert len(readout.model.encoder.layer) == 6  # blocks restored after truncation


def test_each_row_read_at_its_own_layer_runs_only_the_blocks_below_it(readout):
    sentences = ["the cat sat on the mat .", "hello", "a much longer sentence about nothing at all", "x y", "yes"]
    enc = load_tokenizer("minilm-l6")(sentences, padding=True, return_tensors="pt")
    layers = torch.tensor([2, 0, 6, 3, 2])
    full = readout.hidden_states(enc["attention_mask"], 6, input_ids=enc["input_ids"])
    rows_seen = []
    hooks = [
        block.register_forward_pre_hook(lambda m, args: rows_seen.append(len(args[0])))
        for block in readout.model.encoder.layer
    ]
    try:
        embeds = readout.model.get_input_embeddings()(enc["input_ids"]).detach().requires_grad_()
        own = readout.at_layers(enc["attention_mask"], layers, inputs_embeds=embeds)
    finally:
        for hook in hooks:
            hook.remove()
    assert rows_seen == [4, 4, 2, 1, 1, 1]  # a row leaves after its layer: 13 row-blocks, not 5 x 6
    for row, layer in enumerate(layers.tolist()):
        torch.testing.assert_close(own[row], full[layer, row], atol=1e-5, rtol=1e-5)
    own[2].sum().backward()  # gradients reach only the row that was read
    assert embeds.grad[2].abs().sum() > 0 and embeds.grad[[0, 1, 3, 4]].abs().sum() == 0
    assert all(type(block).__name__ == "BertLayer" for block in readout.model.encoder.layer)  # blocks restored


def test_target_values():
    hidden = torch.arange(12.0).view(3, 4)
    mask = torch.tensor([1, 1, 0])
    assert ActivationTarget(1, 1, 2).scalar(hidden, mask) == 6.0
    assert ActivationTarget(1, 0, None, "mean").scalar(hidden, mask) == 1.5
    assert torch.isclose(ActivationTarget(1, 0, None, "norm").scalar(hidden, mask), torch.tensor(14.0).sqrt())
    assert ActivationTarget(1, None).value(hidden, mask).shape == (2, 4)


@pytest.mark.parametrize(
    "target, message",
    [
        (ActivationTarget(7, 1, 0), "layer_id=7 is out of range: allowed 0..6"),
        (ActivationTarget(2, 1, 384), "neuron_id=384 is out of range: allowed 0..383"),
        (ActivationTarget(2, 9, 0), "word_id=9 is out of range: allowed 0..4"),
    ],
)
def test_out_of_range_targets_name_value_and_range(target, message):
    with pytest.raises(ConfigError, match=message):
        target.validate(num_layers=6, hidden_size=384, seq_len=5)


def test_a_deeper_readout_after_a_shallow_one_returns_every_layer():
    """transformers 5 hooks the blocks present at the first forward: a truncated first forward must
    not leave later, deeper ones with too few hidden states."""
    model = load_encoder("minilm-l6")
    readout = EncoderReadout(model)
    ids = torch.tensor([[101, 1996, 4937, 2938, 2006, 102]])
    mask = torch.ones_like(ids)
    with torch.no_grad():
        readout.hidden_states(mask, 1, input_ids=ids)
        deep = readout.hidden_states(mask, 4, input_ids=ids)
        full = model(input_ids=ids, output_hidden_states=True).hidden_states
    assert deep.shape[0] == 5 and len(full) == 7
    assert torch.allclose(deep[4], full[4], atol=1e-5)


def test_passes_count_sequences_forward_and_backward_when_it_runs():
    readout = EncoderReadout(load_encoder("minilm-l6"))
    ids = torch.tensor([[101, 1996, 4937, 102]] * 3)
    mask = torch.ones_like(ids)
    with torch.no_grad():
        readout.hidden_states(mask, 2, input_ids=ids)  # 3 sequences, early exit still one pass each
    assert readout.passes == 3
    embeds = readout.model.get_input_embeddings()(ids).requires_grad_(True)
    states = readout.at_layers(mask, torch.tensor([1, 2, 3]), inputs_embeds=embeds)
    assert readout.passes == 6  # no backward yet
    states.sum().backward()
    assert readout.passes == 9
