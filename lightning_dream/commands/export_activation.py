"""``export-activation``: a word's vector at every layer, the target a changed reconstruction swaps in."""

from __future__ import annotations

import torch

from lightning_dream.errors import ConfigError, check_range
from lightning_dream.models.loading import load_encoder, load_tokenizer
from lightning_dream.models.readout import EncoderReadout
from lightning_dream.results import ACTIVATION_FORMAT, write_json_atomic


@torch.no_grad()
def export_activation(sentence: str, word_id: int, output: str, model: str = "minilm-l6") -> str:
    """Write a word's vector at every layer (0..N) of ``sentence`` for ``ReconstructChanged``.

    Args:
        sentence: the sentence fed to the encoder.
        word_id: position of the word ([CLS] = 0).
        output: JSON file to write.
        model: encoder (embedded name, folder or hub name).
    """
    if not sentence.strip():
        raise ConfigError("sentence is empty: give at least one word")
    tokenizer = load_tokenizer(model)
    ids = tokenizer(sentence)["input_ids"]
    check_range("word_id", word_id, 0, len(ids) - 1)
    readout = EncoderReadout(load_encoder(model))
    hidden = readout.hidden_states(
        torch.ones(1, len(ids), dtype=torch.long), readout.num_layers, input_ids=torch.tensor([ids])
    )
    payload = {
        "format": ACTIVATION_FORMAT,
        "model": model,
        "sentence": sentence,
        "word_id": word_id,
        "token": tokenizer.convert_ids_to_tokens(ids[word_id]),
        "activations": hidden[:, 0, word_id].tolist(),
    }
    path = write_json_atomic(output, payload)
    print(f"activation of {payload['token']!r} at {len(payload['activations'])} layers: {path}")
    return str(path)
