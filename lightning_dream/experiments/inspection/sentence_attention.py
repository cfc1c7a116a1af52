"""Attention maps of a sentence, every layer x head, for the report's head and model views."""

from __future__ import annotations

from typing import Any

import torch

from lightning_dream.checks import in_range
from lightning_dream.experiments.inspection.base import InspectExperiment
from lightning_dream.results import ATTENTION_FORMAT, Summary

#: digits an attention weight may keep
Decimals = in_range(1, 8)


class SentenceAttention(InspectExperiment):
    """Writes ``attentions[layer][head][query][key]`` per sentence; layer 1 is block 1's
    self-attention (layer 0, the embeddings, has none)."""

    result_format = ATTENTION_FORMAT

    def __init__(self, decimals: Decimals = 4, **kwargs: Any):
        """
        Args:
            decimals: digits kept per attention weight (4 keeps the result file small).
        """
        super().__init__(**kwargs)

    def prepare_encoder(self, encoder: torch.nn.Module) -> torch.nn.Module:
        encoder.set_attn_implementation("eager")  # fused kernels return no attention weights
        return encoder

    def inspect(self, ids: torch.Tensor) -> dict[str, Any]:
        out = self.encoder(input_ids=ids, attention_mask=torch.ones_like(ids), output_attentions=True)
        maps = torch.stack(out.attentions)[:, 0].float().round(decimals=self.hparams.decimals)  # (layers, heads, L, L)
        return {"layers": maps.shape[0], "heads": maps.shape[1], "attentions": maps.tolist()}

    def summary_table(self, payload: dict[str, Any]) -> Summary:
        """Per text, the share of attention that lands on [CLS] and [SEP] in the first and last layer
        (mean over heads and tokens): the "no-op" attention that grows with depth in BERT-like models."""
        rows = []
        for job in payload["jobs"]:
            maps = torch.tensor(job["attentions"])  # (layers, heads, L, L)
            special = maps[..., [0, -1]].sum(-1).mean(dim=(1, 2))  # per layer
            rows.append([job["sentence"][:48], len(job["tokens"]), float(special[0]), float(special[-1])])
        last = payload["jobs"][0]["layers"] if payload["jobs"] else "N"
        columns = ["text", "tokens", "on [CLS]/[SEP], layer 1", f"on [CLS]/[SEP], layer {last}"]
        return Summary(f"Attention of {self.hparams.model}", columns, rows)
