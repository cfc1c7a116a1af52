"""The hidden state after ``depth`` layers, whatever the architecture.

BERT-like encoders run their first ``depth`` blocks; ALBERT applies its shared layer ``depth``
times (``AlbertIteration``), which may exceed its trained depth. Readouts trained "at a depth"
(MLM heads, sentence probes) call only this, and check their depth with ``check_depth``.
"""

from __future__ import annotations

from collections.abc import Iterator

from torch import Tensor
from transformers import PretrainedConfig, PreTrainedModel

from lightning_dream.errors import check_range
from lightning_dream.models.albert_iteration import AlbertIteration, is_albert
from lightning_dream.models.readout import EncoderReadout

#: ALBERT shares one layer, so every number of applications is defined; this only bounds a typo
MAX_ITERATED_DEPTH = 10_000


def check_depth(depth: int, config: PretrainedConfig, minimum: int = 1, name: str = "depth") -> int:
    """A depth the model has: up to its blocks for BERT-like encoders, up to ``MAX_ITERATED_DEPTH``
    for ALBERT (``minimum`` 0 allows the embedding output)."""
    limit = MAX_ITERATED_DEPTH if config.model_type == "albert" else config.num_hidden_layers
    return check_range(name, depth, minimum, limit)


def hidden_at_depth(
    model: PreTrainedModel,
    input_ids: Tensor,
    attention_mask: Tensor,
    depth: int | None = None,
    token_type_ids: Tensor | None = None,
) -> Tensor:
    """(batch, L, H) output of layer ``depth`` (None: the model's own depth); ``token_type_ids``
    are a pair's segment ids (None: every token in segment 0)."""
    if is_albert(model):
        iteration = AlbertIteration(model)
        depth = iteration.trained_depth if depth is None else depth
        return iteration.final(input_ids, attention_mask, depth, token_type_ids=token_type_ids)
    readout = EncoderReadout(model)
    depth = readout.num_layers if depth is None else depth
    return readout.layer(attention_mask, depth, input_ids=input_ids, token_type_ids=token_type_ids)


def hidden_by_depth(
    model: PreTrainedModel,
    input_ids: Tensor,
    attention_mask: Tensor,
    depth: int,
    token_type_ids: Tensor | None = None,
) -> Iterator[tuple[int, Tensor]]:
    """(k, output of layer k) for k = 1..depth in one pass: what ``hidden_at_depth`` gives for each
    k, for the cost of the deepest alone."""
    if is_albert(model):
        iteration = AlbertIteration(model)
        state = iteration.initial_state(input_ids, token_type_ids=token_type_ids)
        yield from enumerate(iteration.iterate(state, attention_mask, depth), start=1)
        return
    readout = EncoderReadout(model)
    hidden = readout.hidden_states(attention_mask, depth, input_ids=input_ids, token_type_ids=token_type_ids)
    yield from ((k, hidden[k]) for k in range(1, depth + 1))
