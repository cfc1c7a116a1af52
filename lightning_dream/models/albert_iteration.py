"""ALBERT as a discrete dynamical system: the shared layer applied N times, for any N.

ALBERT shares one transformer layer across its depth, so its encoder is the map
``x_{t+1} = F(x_t)`` on token states ``x`` of shape (batch, L, hidden), started from the
projected embeddings ``x_0``. Running it past the trained depth (100, 10,000 steps) is what
the transient-chaos study does. Step ``t`` here is layer ``t`` in the project's vocabulary:
with ``t`` = the trained depth the state equals ``AlbertModel``'s ``hidden_states[t]``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import Tensor
from transformers import PreTrainedModel
from transformers.masking_utils import create_bidirectional_mask

from lightning_dream.errors import ConfigError
from lightning_dream.models.loading import load_config, load_encoder

Step = Callable[[Tensor], Tensor]


def is_albert(model: PreTrainedModel) -> bool:
    return model.config.model_type == "albert"


def check_albert(name: str) -> None:
    """Fail before loading any weights when ``name`` is not an ALBERT checkpoint."""
    config = load_config(name)
    if config.model_type != "albert":
        raise ConfigError(
            f"model {name!r} is a {config.model_type!r} model ({', '.join(config.architectures or [])}): "
            "the iterated system needs an ALBERT checkpoint (a shared layer), e.g. albert-news-tiny"
        )


def check_steps(name: str, num_steps: int) -> int:
    if num_steps < 1:
        raise ConfigError(f"{name}={num_steps} must be at least 1 (the number of applications of the shared layer)")
    return num_steps


class AlbertIteration:
    """The shared-layer map of an ALBERT model (parameters shared with ``model``, nothing copied)."""

    def __init__(self, model: PreTrainedModel):
        if not is_albert(model):
            raise ConfigError(
                f"the iterated system needs an ALBERT model, found {type(model).__name__} "
                f"(model_type {model.config.model_type!r})"
            )
        config = model.config
        if config.num_hidden_groups != 1:
            raise ConfigError(
                f"num_hidden_groups={config.num_hidden_groups}: "
                "only ALBERT with one shared layer group is an iterated map"
            )
        base = model.base_model
        self.config = config
        self.embeddings = base.embeddings
        self.mapping_in = base.encoder.embedding_hidden_mapping_in
        self.layer = base.encoder.albert_layer_groups[0]

    @classmethod
    def load(cls, name: str, dtype: torch.dtype = torch.float32, eager: bool = False) -> AlbertIteration:
        """Load the frozen encoder ``name`` (checked to be ALBERT first, from its config alone).

        ``eager``: plain attention, needed for attention weights and for forward-mode AD (JVPs);
        the fused CPU kernel supports neither.
        """
        check_albert(name)
        model = load_encoder(name, dtype=dtype)
        if eager:
            model.set_attn_implementation("eager")
        return cls(model)

    @property
    def trained_depth(self) -> int:
        return self.config.num_hidden_layers

    def fingerprint(self) -> str:
        """Identifies the map (config and weights): a stored trajectory can only continue on the same one."""
        digest = hashlib.sha256(self.config.to_json_string(use_diff=False).encode())
        for param in (self.mapping_in.weight, self.layer.albert_layers[0].full_layer_layer_norm.weight):
            digest.update(param.detach().float().cpu().numpy().tobytes())
        return digest.hexdigest()[:16]

    def initial_state(
        self, input_ids: Tensor, attention_mask: Tensor | None = None, token_type_ids: Tensor | None = None
    ) -> Tensor:
        """x_0 (layer 0): word + position + segment embeddings (``token_type_ids``; None: segment 0),
        projected to the hidden size."""
        return self.mapping_in(self.embeddings(input_ids, token_type_ids=token_type_ids))

    def step_function(self, attention_mask: Tensor) -> Step:
        """F for states of sentences with ``attention_mask`` (B, L); also accepts k stacked copies
        of the batch (kB, L, H), which is how perturbed copies and tangents run in one call."""
        dtype = self.mapping_in.weight.dtype

        def step(state: Tensor) -> Tensor:
            copies = state.shape[0] // attention_mask.shape[0]
            mask = attention_mask.repeat(copies, 1) if copies > 1 else attention_mask
            extended = create_bidirectional_mask(config=self.config, inputs_embeds=state.to(dtype), attention_mask=mask)
            return self.layer(state, extended)

        return step

    @contextmanager
    def recorded_attentions(self) -> Iterator[list[Tensor]]:
        """Collects the attention weights (B, heads, L, L) of every step run inside the block
        (needs ``load(..., eager=True)``)."""
        captured: list[Tensor] = []
        attention = self.layer.albert_layers[0].attention
        handle = attention.register_forward_hook(lambda module, args, output: captured.append(output[1]))
        try:
            yield captured
        finally:
            handle.remove()

    def iterate(self, state: Tensor, attention_mask: Tensor, num_steps: int) -> Iterator[Tensor]:
        """Yield x_1 .. x_N from ``state`` = x_0 (or any state), one at a time: memory flat in N."""
        check_steps("num_steps", num_steps)
        step = self.step_function(attention_mask)
        for _ in range(num_steps):
            state = step(state)
            yield state

    def run(self, input_ids: Tensor, attention_mask: Tensor, num_steps: int) -> Tensor:
        """All states x_0 .. x_N stacked: (N + 1, B, L, H). For short runs; long ones use ``iterate``."""
        x0 = self.initial_state(input_ids)
        return torch.stack([x0, *self.iterate(x0, attention_mask, num_steps)])

    def final(
        self, input_ids: Tensor, attention_mask: Tensor, num_steps: int, token_type_ids: Tensor | None = None
    ) -> Tensor:
        """x_N only (N = 0 gives the projected embeddings, layer 0)."""
        state = self.initial_state(input_ids, token_type_ids=token_type_ids)
        if num_steps == 0:
            return state
        for state in self.iterate(state, attention_mask, num_steps):
            pass
        return state
