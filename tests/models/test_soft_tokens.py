import pytest
import torch

from lightning_dream.models.soft_tokens import SoftTokens, soft_embedding


def make(init="sentence", job_ids=(0, 1), seed=0):
    ids = torch.tensor([[1, 5, 6, 7, 2], [1, 8, 9, 2, 0]])
    change = torch.tensor([[0, 1, 1, 0, 0], [0, 1, 1, 0, 0]], dtype=torch.bool)
    return SoftTokens(
        ids,
        change,
        vocab_size=30,
        job_ids=list(job_ids),
        seed=seed,
        init=init,
        confidence=0.8,
        special_ids=torch.tensor([0, 1, 2]),
    )


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


def plain_embedding(logits, table, temperature, noise=None):
    """The formula soft_embedding replaces, differentiated by autograd."""
    z = logits if noise is None else logits + noise
    return torch.softmax(z / temperature, dim=-1) @ table


def test_soft_embedding_gradients_are_exact_in_double_precision():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 7, dtype=torch.float64, generator=gen, requires_grad=True)
    table = torch.randn(7, 3, dtype=torch.float64, generator=gen, requires_grad=True)
    noise = torch.randn(5, 7, dtype=torch.float64, generator=gen, requires_grad=True)
    for n in (None, noise):
        # chunk=8 splits the rows (1 per block) and the vocabulary (2 columns per block)
        assert torch.autograd.gradcheck(lambda z, e, n=n: soft_embedding(z, e, 0.7, n, chunk=8), (logits, table))
    assert torch.autograd.gradcheck(lambda z, n: soft_embedding(z, table, 0.3, n, chunk=8), (logits, noise))
    # the path over the non-zero weights only (sparse_below=1: taken whatever the density)
    assert torch.autograd.gradcheck(
        lambda z, e, n: soft_embedding(z, e, 0.3, n, sparse_below=1.0), (logits, table, noise)
    )


def test_at_low_temperature_only_the_nonzero_weights_are_worked_on_with_the_same_result():
    gen = torch.Generator().manual_seed(2)
    table, grad = torch.randn(3000, 16, generator=gen), torch.randn(50, 16, generator=gen)
    logits = (3 * torch.randn(50, 3000, generator=gen)).requires_grad_()
    cold, warm = soft_embedding(logits, table, 0.02), soft_embedding(logits, table, 1.0)
    assert cold.grad_fn.sparse is not None and warm.grad_fn.sparse is None  # the CSR copy of the weights, if used
    assert cold.grad_fn.sparse.values().numel() < 0.02 * logits.numel()
    dense = soft_embedding(logits, table, 0.02, sparse_below=0.0)
    assert dense.grad_fn.sparse is None
    torch.testing.assert_close(cold, dense, rtol=1e-6, atol=1e-6)
    (sparse_grad,) = torch.autograd.grad(cold, logits, grad)
    (dense_grad,) = torch.autograd.grad(dense, logits, grad)
    torch.testing.assert_close(sparse_grad, dense_grad, rtol=1e-5, atol=1e-5 * dense_grad.abs().max().item())
    assert (sparse_grad[torch.softmax(logits.detach() / 0.02, -1) == 0] == 0).all()  # no weight, no gradient


def test_soft_embedding_equals_the_plain_formula_forward_bit_for_bit():
    gen = torch.Generator().manual_seed(1)
    table = torch.randn(1000, 16, generator=gen)
    for noise in (None, -torch.log(-torch.log(torch.rand(40, 1000, generator=gen)))):
        logits = (3 * torch.randn(40, 1000, generator=gen)).requires_grad_()
        grad = torch.randn(40, 16, generator=gen)
        fused = soft_embedding(logits, table, 0.05, noise, chunk=3000, sparse_below=0.0)  # 3 rows, 75 columns per block
        (fused_grad,) = torch.autograd.grad(fused, logits, grad)
        plain = plain_embedding(logits, table, 0.05, noise)
        (plain_grad,) = torch.autograd.grad(plain, logits, grad)
        exact = logits.detach().double().requires_grad_()
        (exact_grad,) = torch.autograd.grad(plain_embedding(exact, table.double(), 0.05, noise), exact, grad.double())
        assert torch.equal(fused, plain)
        # the two gradients differ only by float32 rounding: each is as close to float64 as the other
        fused_error, plain_error = (fused_grad - exact_grad).abs().max(), (plain_grad - exact_grad).abs().max()
        assert fused_error <= 2 * plain_error and plain_error < 1e-4 * exact_grad.abs().max()


def test_embeds_reuse_one_softmax_buffer_and_refuse_a_stale_graph():
    soft = make()
    table = torch.randn(30, 4)
    first = soft.embeds(table, 1.0)
    buffer = soft.probs_buffer()
    first.sum().backward()
    second = soft.embeds(table, 0.5)
    assert soft.probs_buffer() is buffer and torch.equal(buffer, soft.probabilities(0.5).detach())
    soft.embeds(table, 0.2)  # overwrites the buffer the second graph saved
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        second.sum().backward()


def test_the_gradient_reuses_one_buffer_and_still_accumulates_and_zeroes_correctly():
    soft = make(init="uniform")
    table, weight = torch.randn(30, 4), torch.randn(2, 5, 4)
    logits = soft.logits.detach().requires_grad_()
    fixed = torch.nn.functional.embedding(soft.input_ids, table)
    plain = fixed.masked_scatter(soft.change_mask.unsqueeze(-1), plain_embedding(logits, table, 0.5))
    (expected,) = torch.autograd.grad((plain * weight).sum(), logits)

    def backward():
        (soft.embeds(table, 0.5) * weight).sum().backward()

    backward()
    buffer = soft.logits.grad.data_ptr()
    torch.testing.assert_close(soft.logits.grad, expected)
    backward()  # no zero_grad: the gradients add up, although .grad lives in the reused memory
    torch.testing.assert_close(soft.logits.grad, 2 * expected)
    optimizer = torch.optim.SGD([soft.logits], lr=0.1)
    optimizer.zero_grad(set_to_none=False)
    backward()
    torch.testing.assert_close(soft.logits.grad, expected)
    optimizer.zero_grad()  # set_to_none: the next gradient is written into the same memory
    backward()
    torch.testing.assert_close(soft.logits.grad, expected)
    assert soft.logits.grad.data_ptr() == buffer
