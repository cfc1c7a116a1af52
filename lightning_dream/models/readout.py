"""Activation readout: run an encoder only as deep as the target needs.

Layer vocabulary (the same in every experiment, config and result file): layer ``0`` is the
embedding output, layer ``k >= 1`` the output of transformer block ``k`` -- the index into
``hidden_states`` in transformers. Position ``0`` is ``[CLS]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn
from transformers import PreTrainedModel

from lightning_dream.errors import ConfigError, check_range

try:
    from transformers.utils.output_capturing import maybe_install_capturing_hooks
except ImportError:  # transformers < 5 returns hidden states without hooks
    maybe_install_capturing_hooks = None

Reduction = Literal["mean", "norm"]


def parse_layers(layers: list[int] | int | Literal["all"], num_layers: int, first: int = 0) -> list[int]:
    """The one reading of a ``layers`` option: ``all`` is every block output 1..num_layers (the
    embedding output, layer 0, only when named); an int or a list names layers in first..num_layers."""
    if layers == "all":
        return list(range(max(first, 1), num_layers + 1))
    chosen = [layers] if isinstance(layers, int) else list(layers)
    if not chosen:
        raise ConfigError(f"layers is empty: give 'all' or a list of layers in {first}..{num_layers}")
    return [check_range("layers", layer, first, num_layers) for layer in chosen]


@dataclass(frozen=True)
class ActivationTarget:
    """What is read out: a neuron at (layer, position), a word's vector, or a whole layer.

    ``position=None`` means the whole layer, ``neuron=None`` the whole vector. Scalar
    objectives reduce vectors with ``reduction`` (mean or L2 norm).
    """

    layer: int
    position: int | None = None
    neuron: int | None = None
    reduction: Reduction = "mean"

    def validate(self, num_layers: int, hidden_size: int, seq_len: int | None = None) -> None:
        check_range("layer_id", self.layer, 0, num_layers)
        if self.neuron is not None:
            check_range("neuron_id", self.neuron, 0, hidden_size - 1)
            if self.position is None:
                raise ConfigError("a neuron target needs a word_id (position)")
        if self.position is not None and seq_len is not None:
            check_range("word_id", self.position, 0, seq_len - 1)

    def reduce(self, vectors: Tensor) -> Tensor:
        """The target's number from vectors at its position (..., H): the neuron, or the vector
        reduced over its units."""
        if self.neuron is not None:
            return vectors[..., self.neuron]
        return vectors.mean(-1) if self.reduction == "mean" else vectors.norm(dim=-1)

    def value(self, hidden: Tensor, mask: Tensor) -> Tensor:
        """The raw target of one job from its layer matrix ``hidden`` (L, H) and ``mask`` (L,): the
        unmasked positions' vectors, the position's vector, or the neuron."""
        if self.position is None:
            return hidden[mask.bool()]
        vector = hidden[self.position]
        return vector if self.neuron is None else vector[self.neuron]

    def scalar(self, hidden: Tensor, mask: Tensor) -> Tensor:
        """The target reduced to one number (what dreaming maximises) from one job's layer matrix
        ``hidden`` (L, H) and ``mask`` (L,); a whole-layer target reduces every unit of every
        unmasked position."""
        if self.position is None:
            states = self.value(hidden, mask)
            return states.mean() if self.reduction == "mean" else states.norm()
        return self.reduce(hidden[self.position])


def block_list(model: PreTrainedModel) -> tuple[nn.Module, str]:
    """(owner, attribute) of the ModuleList of transformer blocks of a BERT-like encoder."""
    base = model.base_model
    for owner_name in ("encoder", "transformer"):
        owner = getattr(base, owner_name, None)
        if isinstance(getattr(owner, "layer", None), nn.ModuleList):
            return owner, "layer"
    raise ConfigError(f"{type(model).__name__} has no list of transformer blocks to truncate (BERT-like encoders only)")


@contextmanager
def truncated(model: PreTrainedModel, depth: int) -> Iterator[PreTrainedModel]:
    """Temporarily keep only the first ``depth`` blocks (parameters shared, nothing copied)."""
    owner, attr = block_list(model)
    blocks = getattr(owner, attr)
    setattr(owner, attr, nn.ModuleList(list(blocks)[:depth]))
    try:
        yield model
    finally:
        setattr(owner, attr, blocks)


class _EarlyExit(nn.Module):
    """Block ``k`` of an early-exit pass over rows sorted by layer, deepest first.

    Its input holds the rows still running; those whose layer is ``k - 1`` are handed to
    ``finished`` and only the first ``keep`` rows (layer >= k) go through the block. Tensor
    arguments with one row per job of the whole batch (the attention mask) are cut to match.
    """

    def __init__(self, block: nn.Module, keep: int, batch: int, finished: list[Tensor]):
        super().__init__()
        self.block, self.keep, self.batch, self.finished = block, keep, batch, finished

    def cut(self, value: object) -> object:
        return (
            value[: self.keep] if isinstance(value, Tensor) and value.dim() and value.shape[0] == self.batch else value
        )

    def forward(self, hidden: Tensor, *args: object, **kwargs: object) -> Tensor:
        self.finished.append(hidden[self.keep :])
        if self.keep == 0:
            return hidden[:0]
        args = tuple(self.cut(a) for a in args)
        kwargs = {name: self.cut(value) for name, value in kwargs.items()}
        return self.block(hidden[: self.keep], *args, **kwargs)


def without_frozen_encoder(state_dict: dict[str, Any]) -> dict[str, Any]:
    """A module's state without the frozen encoder of any ``EncoderReadout`` in it (attribute
    ``readout``): checkpoints hold what the run moved, not the model it loads again."""
    return {k: v for k, v in state_dict.items() if not (k.startswith("readout.") or ".readout." in k)}


class EncoderReadout(nn.Module):
    """Hidden states of a frozen encoder from token ids or from input embeddings, truncated.

    ``passes`` counts the budget every search method is measured in: one sequence through the
    encoder is one pass however early it leaves, and a backward through it is one more (counted
    when the backward runs)."""

    def __init__(self, model: PreTrainedModel):
        super().__init__()
        self.model = model
        self.num_layers = len(getattr(*block_list(model)))
        self.hidden_size = model.config.hidden_size
        self.passes = 0
        if maybe_install_capturing_hooks is not None:
            # transformers 5 records hidden states by hooks installed on the blocks present at the first
            # forward; installed under a truncated block list, a deeper forward later would return too few
            maybe_install_capturing_hooks(model.base_model)

    def count(self, states: Tensor, sequences: int) -> Tensor:
        """Add ``sequences`` forward passes, and as many backward passes if a gradient flows back."""
        self.passes += sequences
        if states.requires_grad:
            states.register_hook(lambda grad: self._count_backward(sequences))
        return states

    def _count_backward(self, sequences: int) -> None:
        self.passes += sequences

    @property
    def word_embeddings(self) -> Tensor:
        return self.model.get_input_embeddings().weight

    def hidden_states(
        self,
        attention_mask: Tensor,
        depth: int,
        input_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        token_type_ids: Tensor | None = None,
    ) -> Tensor:
        """Stacked hidden states of layers ``0..depth``: shape (depth + 1, batch, L, H);
        ``token_type_ids``: a pair's segment ids (None: segment 0 everywhere)."""
        if inputs_embeds is None:
            inputs_embeds = self.model.get_input_embeddings()(input_ids)
        # transformers records hidden states per block, so layer 0 alone still needs one block
        with truncated(self.model, max(depth, 1)):
            # the base model: a masked LM's head would score every position for nothing
            out = self.model.base_model(
                inputs_embeds=inputs_embeds,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
                output_hidden_states=True,
            )
        return self.count(torch.stack(out.hidden_states[: depth + 1]), len(inputs_embeds))

    def at_layers(
        self,
        attention_mask: Tensor,
        layers: Tensor,
        input_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
    ) -> Tensor:
        """Each row's hidden state at its own layer ``layers[row]``: shape (batch, L, H).

        Early exit: a row runs only the blocks below its layer and leaves the batch there, so a
        sweep over layers 1..N costs about half the block work of taking every row to the deepest
        layer. Per row the same numbers as ``hidden_states(...)[layers[row], row]`` (up to the float
        rounding of a smaller batch)."""
        if inputs_embeds is None:
            inputs_embeds = self.model.get_input_embeddings()(input_ids)
        layers = layers.to(inputs_embeds.device)
        order = torch.argsort(layers, descending=True, stable=True)
        ranked = layers[order].tolist()
        depth, batch = max(ranked), len(ranked)
        finished: list[Tensor] = []
        owner, attr = block_list(self.model)
        blocks = getattr(owner, attr)
        # block k keeps the rows whose layer is >= k; layer 0 alone still goes through block 1's slot
        keep = [sum(layer >= k for layer in ranked) for k in range(1, max(depth, 1) + 1)]
        setattr(owner, attr, nn.ModuleList(_EarlyExit(blocks[k], n, batch, finished) for k, n in enumerate(keep)))
        try:
            out = self.model.base_model(inputs_embeds=inputs_embeds[order], attention_mask=attention_mask[order])
        finally:
            setattr(owner, attr, blocks)
        finished.append(out.last_hidden_state)
        ranked_states = torch.cat(finished[::-1])  # rows back in ranked order: deepest first
        return self.count(ranked_states[torch.argsort(order)], len(inputs_embeds))

    def layer(self, attention_mask: Tensor, layer: int, **inputs: Tensor | None) -> Tensor:
        """The output of one layer, (batch, L, H), running only the blocks below it."""
        return self.hidden_states(attention_mask, layer, **inputs)[layer]
