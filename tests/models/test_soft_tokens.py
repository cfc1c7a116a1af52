import torch

from lightning_dream.models.soft_tokens import SoftTokens


def make(init="sentence", job_ids=(0, 1), seed=0):
    ids = torch.tensor([[1, 5, 6, 7, 2], [1, 8, 9, 2, 0]])
    change = torch.tensor([[0, 1, 1, 0, 0], [0, 1, 1, 0, 0]], dtype=torch.bool)
    return SoftTokens(ids, change, vocab_size=30, job_ids=list(job_ids), seed=seed, init=init, confidence=0.8, special_ids=torch.tensor([0, 1, 2]))


def test_sentence_init_puts_confidence_on_the_sentence_token():
    soft = make()
    probs = soft.probabilities(1.0)
    assert torch.allclose(probs.max(-1).values, torch.full((4,), 0.8))
    assert torch.equal(soft.snapped_ids(), soft.input_ids)


def test_fixed_positions_are_exact_embeddings_and_soft_ones_mix():
    soft = make()
    table = torch.randn(30, 4)
    embeds = soft.embeds(table, temperature=1.0)
    assert torch.equal(embeds[0, 0], table[1]) and torch.equal(embeds[0, 3], table[7])
    expected = soft.probabilities(1.0)[0] @ table
    assert torch.allclose(embeds[0, 1], expected)


def test_low_temperature_approaches_the_snapped_tokens():
    soft = make(init="uniform")
    table = torch.randn(30, 4)
    hard = torch.nn.functional.embedding(soft.snapped_ids(), table)
    assert torch.allclose(soft.embeds(table, temperature=1e-4), hard, atol=1e-4)


def test_random_streams_depend_on_the_job_not_on_the_batch():
    both = make(init="random_tokens", job_ids=(0, 1))
    alone = make(init="random_tokens", job_ids=(5, 1))
    assert torch.equal(both.input_ids[1], alone.input_ids[1])
    assert not torch.isin(both.input_ids[both.change_mask], torch.tensor([0, 1, 2])).any()
    assert torch.equal(both.gumbel_noise(3)[2:], alone.gumbel_noise(3)[2:])
    assert not torch.equal(both.gumbel_noise(3), both.gumbel_noise(4))
