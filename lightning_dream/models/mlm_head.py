"""A BERT-style masked-LM head that reads any encoder's hidden states, at any depth.

transform (dense + activation + LayerNorm) then a decoder onto the vocabulary, either tied to
the encoder's input embeddings (as in BERT and ALBERT: only ~H^2 + V parameters of its own, so a
trained head ships in a few hundred kilobytes) or a matrix of its own. The same head moves in and
out of Hugging Face ``*ForMaskedLM`` models, so a head trained here becomes an ordinary folder
that ``AutoModelForMaskedLM.from_pretrained`` loads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.activations import ACT2FN

from lightning_dream.errors import ConfigError

HEAD_WEIGHTS = "head.safetensors"
HEAD_CONFIG = "config.json"


class MLMHead(nn.Module):
    def __init__(
        self,
        hidden_size: int,
        vocab_size: int,
        embedding_size: int | None = None,
        activation: str = "gelu",
        layer_norm_eps: float = 1e-12,
        tie_decoder: bool = True,
        initializer_range: float = 0.02,
    ):
        """
        Args:
            hidden_size: width of the hidden states read (the encoder's hidden size).
            vocab_size: number of output classes (the tokenizer's vocabulary).
            embedding_size: width of the input embeddings the decoder maps from; ALBERT's
                embeddings (128) are narrower than its hidden states. Default: ``hidden_size``.
            activation: a transformers activation name (the encoder's ``hidden_act``).
            layer_norm_eps: epsilon of the LayerNorm.
            tie_decoder: decode with the encoder's input embeddings (passed to ``forward``)
                instead of a matrix of its own.
            initializer_range: std of the normal initialisation of the weight matrices.
        """
        super().__init__()
        if activation not in ACT2FN:
            raise ConfigError(
                f"activation={activation!r} is not a transformers activation: use one of {', '.join(sorted(ACT2FN))}"
            )
        embedding_size = embedding_size or hidden_size
        self.settings = dict(
            hidden_size=hidden_size,
            vocab_size=vocab_size,
            embedding_size=embedding_size,
            activation=activation,
            layer_norm_eps=layer_norm_eps,
            tie_decoder=tie_decoder,
            initializer_range=initializer_range,
        )
        self.dense = nn.Linear(hidden_size, embedding_size)
        self.activation = ACT2FN[activation]
        self.layer_norm = nn.LayerNorm(embedding_size, eps=layer_norm_eps)
        self.decoder = None if tie_decoder else nn.Linear(embedding_size, vocab_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(vocab_size))
        for linear in (self.dense, self.decoder):
            if linear is not None:
                nn.init.normal_(linear.weight, std=initializer_range)
        nn.init.zeros_(self.dense.bias)

    @classmethod
    def for_encoder(cls, config: PretrainedConfig, tie_decoder: bool = True) -> MLMHead:
        """A fresh head sized and shaped like the one the encoder's own architecture would use."""
        return cls(
            hidden_size=config.hidden_size,
            vocab_size=config.vocab_size,
            embedding_size=getattr(config, "embedding_size", config.hidden_size),
            activation=config.hidden_act if isinstance(config.hidden_act, str) else "gelu",
            layer_norm_eps=getattr(config, "layer_norm_eps", 1e-12),
            tie_decoder=tie_decoder,
            initializer_range=getattr(config, "initializer_range", 0.02),
        )

    @property
    def tie_decoder(self) -> bool:
        return self.decoder is None

    def forward(self, hidden: Tensor, word_embeddings: Tensor | None = None) -> Tensor:
        """Vocabulary logits (..., V) of hidden states (..., H).

        ``word_embeddings`` (V, E) is the encoder's input embedding matrix; a tied head needs it
        (and trains it, if it requires grad), an untied head ignores it.
        """
        features = self.layer_norm(self.activation(self.dense(hidden)))
        if self.decoder is not None:
            return self.decoder(features) + self.bias
        if word_embeddings is None:
            raise ValueError("a tied MLMHead needs the encoder's word_embeddings to decode")
        return nn.functional.linear(features, word_embeddings, self.bias)

    # -- moving the head in and out of Hugging Face masked-LM models -------------------------

    def load_from_masked_lm(self, model: PreTrainedModel) -> None:
        """Copy the weights of ``model``'s own head (BERT or ALBERT layout) into this head."""
        parts = hf_head_parts(model)
        with torch.no_grad():
            self.dense.load_state_dict(parts["dense"].state_dict())
            self.layer_norm.load_state_dict(parts["layer_norm"].state_dict())
            self.bias.copy_(parts["bias"])
            if self.decoder is not None:
                self.decoder.weight.copy_(parts["decoder"].weight)

    def write_into_masked_lm(self, model: PreTrainedModel) -> None:
        """Copy this head into ``model``'s head; an untied head unties the model's decoder."""
        parts = hf_head_parts(model)
        with torch.no_grad():
            parts["dense"].load_state_dict(self.dense.state_dict())
            parts["layer_norm"].load_state_dict(self.layer_norm.state_dict())
            parts["bias"].copy_(self.bias)
            if getattr(parts["decoder"], "bias", None) is not None:
                parts["decoder"].bias = parts["bias"]
            if self.decoder is not None:  # untied: transformers then saves decoder weight and bias
                model.config.tie_word_embeddings = False
                parts["decoder"].weight = nn.Parameter(self.decoder.weight.detach().clone())
                parts["decoder"].bias = nn.Parameter(self.bias.detach().clone())

    # -- storing only the head ---------------------------------------------------------------

    def save(self, folder: str | Path, **metadata: Any) -> Path:
        """Write ``head.safetensors`` (this head's own parameters only) and ``config.json``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {name: p.detach().float().contiguous().cpu() for name, p in self.state_dict().items()}
        save_file(tensors, str(folder / HEAD_WEIGHTS))
        (folder / HEAD_CONFIG).write_text(json.dumps({"head": self.settings, **metadata}, indent=1) + "\n")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> tuple[MLMHead, dict[str, Any]]:
        """(head, metadata) from a folder written by ``save``."""
        folder = Path(folder)
        if not (folder / HEAD_WEIGHTS).is_file() or not (folder / HEAD_CONFIG).is_file():
            raise ConfigError(f"{folder} is not an MLM head folder: it needs {HEAD_WEIGHTS} and {HEAD_CONFIG}")
        metadata = json.loads((folder / HEAD_CONFIG).read_text())
        head = cls(**metadata.pop("head"))
        head.load_state_dict(load_file(str(folder / HEAD_WEIGHTS)))
        return head, metadata


def hf_head_parts(model: PreTrainedModel) -> dict[str, nn.Module | nn.Parameter]:
    """dense, layer_norm, decoder and bias of a Hugging Face masked-LM head.

    BERT-likes keep them in ``cls.predictions`` (``transform.dense`` ...), ALBERT in
    ``predictions``; other layouts raise a ConfigError.
    """
    bert = getattr(getattr(model, "cls", None), "predictions", None)
    if bert is not None and hasattr(bert, "transform"):
        return {
            "dense": bert.transform.dense,
            "layer_norm": bert.transform.LayerNorm,
            "decoder": bert.decoder,
            "bias": bert.bias,
        }
    albert = getattr(model, "predictions", None)
    if albert is not None and hasattr(albert, "dense"):
        return {"dense": albert.dense, "layer_norm": albert.LayerNorm, "decoder": albert.decoder, "bias": albert.bias}
    raise ConfigError(f"{type(model).__name__} has no BERT- or ALBERT-style MLM head: use init_readout: true")
