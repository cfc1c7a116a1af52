"""Masked-LM models shipped as a small head over an encoder that is already available offline.

``lightning_dream/embedded/<name>/`` holds only an ``MLMHead`` (a few hundred kB with a tied
decoder), the name of its encoder and depth, and optionally the encoder's top blocks where they
were tuned with the head (``tuned_blocks.safetensors``, half precision). On first use the full model is materialised
once in the cache as an ordinary ``*ForMaskedLM`` folder (encoder truncated to the head's
depth + head + tokenizer), so every consumer loads it the normal way. The folder name carries
a hash of the head, so a retrained head never meets a stale folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file, save_model
from transformers import AutoModelForMaskedLM, AutoTokenizer
from transformers.utils import logging as hf_logging

from lightning_dream.assets import cache_dir
from lightning_dream.errors import ConfigError
from lightning_dream.models.embedded import resolve_encoder
from lightning_dream.models.mlm_head import HEAD_WEIGHTS, MLMHead

EMBEDDED_DIR = Path(__file__).resolve().parents[1] / "embedded"
TUNED_BLOCKS = "tuned_blocks.safetensors"


def save_tuned_blocks(folder: str | Path, parameters: dict[str, torch.Tensor]) -> Path:
    """Write encoder parameters (names relative to the base model) in half precision: they
    ship inside the package, and their rounding error is far below what training changed."""
    path = Path(folder) / TUNED_BLOCKS
    save_file({name: p.detach().half().contiguous().cpu() for name, p in parameters.items()}, str(path))
    return path


def materialise(name: str) -> Path:
    """The cached ``*ForMaskedLM`` folder of the embedded head ``name``, built once, atomically."""
    source = EMBEDDED_DIR / name
    if not (source / HEAD_WEIGHTS).is_file():
        raise ConfigError(f"embedded head {name!r} is missing from the package ({source})")
    blocks = source / TUNED_BLOCKS
    digest = hashlib.sha256(
        (source / HEAD_WEIGHTS).read_bytes() + (blocks.read_bytes() if blocks.is_file() else b"")
    ).hexdigest()[:12]
    target = cache_dir() / "embedded" / f"{name}-{digest}"
    if (target / "config.json").is_file():
        return target
    head, meta = MLMHead.load(source)
    encoder = resolve_encoder(meta["encoder"])
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the encoder-only checkpoint has no head yet: expected
    try:
        model = AutoModelForMaskedLM.from_pretrained(encoder, num_hidden_layers=meta["depth"])
    finally:
        hf_logging.set_verbosity(verbosity)
    head.write_into_masked_lm(model)
    if blocks.is_file():
        tuned = {name: p.float() for name, p in load_file(str(blocks)).items()}
        unexpected = model.base_model.load_state_dict(tuned, strict=False).unexpected_keys
        if unexpected:
            raise ConfigError(
                f"{blocks} holds parameters its encoder {meta['encoder']!r} does not have: {', '.join(unexpected[:3])}"
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{name}."))
    try:
        # not model.save_pretrained: under torch.distributed it writes on rank 0 only, and every
        # process (every node) builds its own cache folder
        model.config.save_pretrained(staging)
        save_model(model, str(staging / "model.safetensors"), metadata={"format": "pt"})
        AutoTokenizer.from_pretrained(encoder).save_pretrained(staging)
        os.replace(staging, target)  # atomic: readers see all or nothing
    except OSError:
        if not (target / "config.json").is_file():  # another process did not win the race either
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
