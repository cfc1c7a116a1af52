"""Look inside BERT-style language models by optimising their inputs, with PyTorch Lightning.

From Python: ``from lightning_dream import Dream, Results`` (docs/python.md). The experiments are
imported on first use (module ``__getattr__``), so ``import lightning_dream`` stays cheap: no
Lightning, no transformers.
"""

from __future__ import annotations

import importlib
from typing import Any

from lightning_dream.experiments import EXPERIMENTS

__version__ = "0.1.0"

#: public name -> module holding it, imported on first access: every experiment (the one map of
#: ``lightning_dream.experiments``, which imports nothing heavy itself) and the results accessor
_LAZY: dict[str, str] = {
    **dict.fromkeys((name for name in EXPERIMENTS if name != "SoftInputExperiment"), "lightning_dream.experiments"),
    "Results": "lightning_dream.results",
    "open_results": "lightning_dream.results",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'lightning_dream' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # later accesses skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
