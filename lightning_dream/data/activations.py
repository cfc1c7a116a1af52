"""Stored activations (written by ``export-activation``), read back as tensors for ``ReconstructChanged``."""

from __future__ import annotations

from typing import Any

import torch

from lightning_dream.results import ACTIVATION_FORMAT, read_results


def load_activation(path: str) -> dict[str, Any]:
    payload = read_results(path, ACTIVATION_FORMAT)
    return {**payload, "activations": torch.tensor(payload["activations"])}
