"""The shared soft-input loop: the snapped evaluation is reused while no token changes."""

import torch

from lightning_dream.experiments import Dream
from lightning_dream.experiments.soft_input.methods import Anneal


def test_unchanged_tokens_reuse_their_snapped_value():
    module = Dream(
        sentences=["i hate kickshaws .", "the cat sat on the mat ."],
        layer_id=2,
        neuron_ids=[314, 100],
        word_id=2,
        method=Anneal(warmup=0),
    )
    module.configure_model()
    calls = []
    states = module.states
    module.states = lambda **inputs: calls.append(sorted(inputs)) or states(**inputs)
    soft, snapped, ids = module.evaluate(1.0)
    _, again, same_ids = module.evaluate(0.9)
    assert torch.equal(ids, same_ids) and torch.equal(snapped, again)
    assert calls == [["inputs_embeds"], ["input_ids"], ["inputs_embeds"]]  # the second snapped pass was skipped
    expected = module.objective(states(input_ids=ids), module.attention_mask)
    assert torch.equal(snapped, expected)
    with torch.no_grad():  # make job 3's first changeable token another word
        first = (module.soft.row_job == 3).nonzero()[0, 0]
        module.soft.logits[first, 2000] = 100.0
    _, changed, new_ids = module.evaluate(0.8)
    assert calls[-1] == ["input_ids"] and new_ids[3, 1] == 2000
    assert torch.equal(changed, module.objective(states(input_ids=new_ids), module.attention_mask))
    assert torch.equal(changed[:3], snapped[:3]) and changed[3] != snapped[3]
