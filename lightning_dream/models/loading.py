"""Load any Hugging Face encoder by hub name, local folder or embedded name.

Embedded names resolve to real pretrained weights that ship inside packages from the package
registry, so nothing contacts a model hub; any other name goes through the ordinary
``transformers`` Auto classes and works wherever a hub (or its cache) is reachable.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import torch
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForMaskedLM,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from lightning_dream.errors import ConfigError
from lightning_dream.models.embedded import EMBEDDED_ENCODERS
from lightning_dream.models.embedded_heads import materialise

DEFAULT_MODEL = "minilm-l6"


#: name -> function returning the local folder: the encoders shipped in registry packages and
#: the masked LMs built from a head shipped inside this package over one of them.
EMBEDDED_MODELS: dict[str, Callable[[], Path]] = {
    **EMBEDDED_ENCODERS,
    "minilm-l6-mlm": lambda: materialise("minilm-l6-mlm"),  # minilm-l6 + an MLM head trained here
}


def resolve_model(name: str) -> str:
    """Map an embedded name to its folder; pass local folders and hub names through."""
    if not name or not name.strip():
        raise ConfigError(f"model name is empty: use one of {sorted(EMBEDDED_MODELS)}, a local folder or a hub name")
    if name in EMBEDDED_MODELS:
        return str(EMBEDDED_MODELS[name]())
    return name


@lru_cache(maxsize=16)
def load_config(name: str) -> PretrainedConfig:
    """Cheap: reads only config.json, so inputs can be checked before any model work."""
    path = resolve_model(name)
    try:
        return AutoConfig.from_pretrained(path)
    except (OSError, ValueError) as err:
        raise ConfigError(
            f"unknown model {name!r}: not an embedded name ({', '.join(sorted(EMBEDDED_MODELS))}), "
            f"not a local model folder, and not loadable from the hub or its cache ({type(err).__name__})"
        ) from None


@lru_cache(maxsize=16)
def load_tokenizer(name: str) -> PreTrainedTokenizerBase:
    load_config(name)  # one clear error for unknown names
    return AutoTokenizer.from_pretrained(resolve_model(name))


def load_config_and_tokenizer(name: str) -> tuple[PretrainedConfig, PreTrainedTokenizerBase]:
    """What an experiment checks its inputs against before any model work: the config and tokenizer."""
    return load_config(name), load_tokenizer(name)


def _frozen(model: PreTrainedModel) -> PreTrainedModel:
    # a frozen model stays in eval mode (no dropout) while its experiment trains: Lightning's warning
    # about modules in eval mode at the start of training is expected for it
    warnings.filterwarnings("ignore", message=r"Found \d+ module\(s\) in eval mode", category=UserWarning)
    model.eval()
    model.requires_grad_(False)
    return model


def load_encoder(name: str, dtype: torch.dtype = torch.float32) -> PreTrainedModel:
    """The bare encoder (``AutoModel``), frozen and in eval mode."""
    load_config(name)
    return _frozen(AutoModel.from_pretrained(resolve_model(name), dtype=dtype))


def load_masked_lm(name: str, dtype: torch.dtype = torch.float32) -> PreTrainedModel:
    """Encoder with its MLM head (``AutoModelForMaskedLM``), frozen and in eval mode."""
    load_config(name)
    return _frozen(AutoModelForMaskedLM.from_pretrained(resolve_model(name), dtype=dtype))
