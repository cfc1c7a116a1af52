"""Fill-mask: the top-k tokens and their probabilities at every [MASK] of a batch of sentences.

With ``mask_word`` (a token position, [CLS] = 0) the token there is masked first and its own
probability and rank are reported too: how predictable is this word from its context?
"""

from __future__ import annotations

from typing import Any

import torch

from lightning_dream.checks import PositiveInt
from lightning_dream.errors import ConfigError, check_range
from lightning_dream.experiments.masked_lm.base import MaskedLMPrediction
from lightning_dream.models.mlm_scoring import logits_at, pad_batch
from lightning_dream.results import FILL_MASK_FORMAT, Summary
from lightning_dream.tokenization import tokenize_sentence


class FillMask(MaskedLMPrediction):
    result_format = FILL_MASK_FORMAT

    def __init__(
        self,
        sentences: list[str] | str = "the capital of france is [MASK] .",
        mask_word: PositiveInt | None = None,
        top_k: PositiveInt = 10,
        **kwargs: Any,
    ):
        """
        Args:
            sentences: one sentence or a list; each needs a [MASK] unless ``mask_word`` is set.
            mask_word: token position ([CLS] = 0) to mask in every sentence; None: predict at
                the sentences' own [MASK] tokens.
            top_k: tokens reported per mask.
        """
        super().__init__(**kwargs)
        self.check_top_k(top_k)
        self.sentences = [sentences] if isinstance(sentences, str) else list(sentences)
        if not self.sentences:
            raise ConfigError("sentences is empty: give at least one sentence")
        self.inputs = [self.masked_input(s) for s in self.sentences]

    def masked_input(self, sentence: str) -> tuple[list[int], list[int], list[int | None]]:
        """(ids with masks, mask positions, original ids at them or None)."""
        ids = tokenize_sentence(self.tokenizer, sentence, self.config.max_position_embeddings)
        mask_id = self.tokenizer.mask_token_id
        if self.hparams.mask_word is not None:
            position = check_range("mask_word", self.hparams.mask_word, 1, len(ids) - 2)
            original = ids[position]
            ids = ids[:position] + [mask_id] + ids[position + 1 :]
            return ids, [position], [original if original != mask_id else None]
        positions = [i for i, t in enumerate(ids) if t == mask_id]
        if not positions:
            raise ConfigError(
                f"sentence {sentence!r} has no {self.tokenizer.mask_token}:"
                " add one or set mask_word (a token position, [CLS] = 0)"
            )
        return ids, positions, [None] * len(positions)

    def items(self) -> list[int]:
        return list(range(len(self.sentences)))

    def summary_table(self, payload: dict[str, Any]) -> Summary:
        """Per masked position: the top tokens with their probabilities, and the original's rank."""
        rows = []
        for row in payload["rows"][:20]:
            for mask in row["masks"]:
                top = ", ".join(f"{t['token']} {t['probability']:.2f}" for t in mask["top"][:5])
                rank = f"{mask['original']} (#{mask['original_rank']})" if "original" in mask else ""
                rows.append([row["sentence"], mask["position"], top, rank])
        return Summary("FillMask: top tokens per masked position", ["sentence", "pos", "top 5", "original"], rows)

    def headline(self, payload: dict[str, Any]) -> float | None:
        """Top-1 accuracy over the masked positions whose original token is known."""
        ranks = [m["original_rank"] for row in payload["rows"] for m in row["masks"] if "original_rank" in m]
        return sum(rank == 1 for rank in ranks) / len(ranks) if ranks else None

    @torch.no_grad()
    def predict_step(self, batch: list[int], batch_idx: int) -> list[dict[str, Any]]:
        ids, mask = pad_batch([self.inputs[i][0] for i in batch], self.tokenizer.pad_token_id)
        rows = torch.tensor([r for r, i in enumerate(batch) for _ in self.inputs[i][1]])
        positions = torch.tensor([p for i in batch for p in self.inputs[i][1]])
        probs = logits_at(self.mlm, ids, mask, rows, positions).softmax(-1)
        top = probs.topk(self.hparams.top_k, dim=-1)
        results, n = [], 0
        for i in batch:
            masks = []
            for position, original in zip(self.inputs[i][1], self.inputs[i][2]):
                entry = {
                    "position": position,
                    "top": [
                        {"token": self.tokenizer.convert_ids_to_tokens(t), "probability": p}
                        for t, p in zip(top.indices[n].tolist(), top.values[n].tolist())
                    ],
                }
                if original is not None:
                    entry["original"] = self.tokenizer.convert_ids_to_tokens(original)
                    entry["original_probability"] = probs[n, original].item()
                    entry["original_rank"] = int((probs[n] > probs[n, original]).sum()) + 1
                masks.append(entry)
                n += 1
            results.append(
                {
                    "sentence": self.sentences[i],
                    "tokens": self.tokenizer.convert_ids_to_tokens(self.inputs[i][0]),
                    "masks": masks,
                }
            )
        return results
