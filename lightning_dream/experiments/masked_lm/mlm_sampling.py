"""Sampling text from a masked LM in the manner of Wang & Cho (2019), "BERT has a mouth".

A batch of sequences ``[CLS] seed [MASK] ... [MASK] [SEP]`` of ``max_len`` word pieces is
generated Gibbs-style: at each step every sequence has one free position (not a seed token)
chosen uniformly — among its remaining [MASK]s while there are any, so nothing is left masked,
then among all free positions — re-masked and re-sampled from the model at that position.
The temperature decays by ``temperature_decay`` after every sweep over the free positions, so
late steps sharpen towards the model's mode. Special tokens are never sampled. Each sample is
written with its pseudo-log-likelihood under the same model.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from lightning_dream.checks import DecayFactor, PositiveFloat, PositiveInt
from lightning_dream.errors import ConfigError
from lightning_dream.experiments.masked_lm.base import MaskedLMPrediction
from lightning_dream.models.mlm_scoring import logits_at, pseudo_log_likelihood, sample_tokens, special_ids
from lightning_dream.results import MLM_SAMPLING_FORMAT, Summary


class MLMSampling(MaskedLMPrediction):
    result_format = MLM_SAMPLING_FORMAT

    def __init__(
        self,
        seed_text: str = "",
        num_samples: PositiveInt = 8,
        max_len: PositiveInt = 15,
        max_iter: PositiveInt = 100,
        temperature: PositiveFloat = 1.0,
        temperature_decay: DecayFactor = 0.95,
        top_k: PositiveInt | None = None,
        seed: int = 0,
        **kwargs: Any,
    ):
        """
        Args:
            seed_text: words every sample starts with (kept fixed); empty: free text.
            num_samples: samples to generate, ``batch_size`` at a time.
            max_len: word pieces per sample, seed included ([CLS]/[SEP] not counted).
            max_iter: Gibbs steps per sample; at least the number of free positions, so every
                [MASK] is filled.
            temperature: softmax temperature of the first sweep.
            temperature_decay: factor applied to the temperature after each sweep over the free
                positions (1.0: constant).
            top_k: sample only among the k most probable tokens (None: the whole vocabulary).
            seed: random seed (batch i of ``batch_size`` samples draws from seed + i).
        """
        super().__init__(**kwargs)
        if top_k is not None:
            self.check_top_k(top_k)
        self.seed_ids = self.tokenizer(seed_text, add_special_tokens=False)["input_ids"] if seed_text.strip() else []
        self.free = max_len - len(self.seed_ids)
        if self.free < 1:
            raise ConfigError(
                f"max_len={max_len} leaves nothing to generate: the seed text is {len(self.seed_ids)} word pieces"
            )
        if max_len + 2 > self.config.max_position_embeddings:
            raise ConfigError(f"max_len={max_len} is too long: allowed up to {self.config.max_position_embeddings - 2}")
        if max_iter < self.free:
            raise ConfigError(
                f"max_iter={max_iter} is too small: at least {self.free} steps are needed to fill every [MASK]"
            )

    def items(self) -> list[int]:
        return list(range(self.hparams.num_samples))

    def temperature_at(self, step: int) -> float:
        return self.hparams.temperature * self.hparams.temperature_decay ** (step // self.free)

    def initial_ids(self, n: int) -> torch.Tensor:
        tok = self.tokenizer
        row = [tok.cls_token_id, *self.seed_ids] + [tok.mask_token_id] * self.free + [tok.sep_token_id]
        return torch.tensor([row] * n)

    @torch.no_grad()
    def generate(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, max_len + 2) token ids after ``max_iter`` Gibbs steps."""
        ids = self.initial_ids(n)
        mask = torch.ones_like(ids)
        first_free = 1 + len(self.seed_ids)
        rows = torch.arange(n)
        banned = special_ids(self.tokenizer)
        for step in range(self.hparams.max_iter):
            free = ids[:, first_free:-1]
            masked = free == self.tokenizer.mask_token_id
            weights = torch.where(
                masked.any(-1, keepdim=True), masked.float(), torch.ones_like(free, dtype=torch.float)
            )
            positions = first_free + torch.multinomial(weights, 1, generator=generator)[:, 0]
            ids[rows, positions] = self.tokenizer.mask_token_id
            logits = logits_at(self.mlm, ids, mask, rows, positions)
            ids[rows, positions] = sample_tokens(
                logits, self.temperature_at(step), self.hparams.top_k, generator, banned
            )
        return ids

    def predict_step(self, batch: list[int], batch_idx: int) -> list[dict[str, Any]]:
        # seeded by the batch's number in the whole run (not this process's batch_idx): a sharded
        # run draws the samples of a one-process run
        generator = torch.Generator().manual_seed(self.hparams.seed + batch[0] // self.hparams.batch_size)
        ids = self.generate(len(batch), generator)
        pll = pseudo_log_likelihood(self.mlm, ids, torch.ones_like(ids), self.tokenizer.mask_token_id)
        rows = []
        for sample, row, score in zip(batch, ids, pll.tolist()):
            words = row[1:-1].tolist()
            rows.append(
                {
                    "sample": sample,
                    "text": self.tokenizer.decode(words),
                    "tokens": self.tokenizer.convert_ids_to_tokens(words),
                    "pll": score,
                    "pll_per_token": score / len(words),
                    "perplexity": math.exp(-score / len(words)),
                }
            )
        return rows

    def summary_table(self, payload: dict[str, Any]) -> Summary:
        rows = [[r["sample"], r["text"], r["perplexity"]] for r in payload["rows"][:20]]
        return Summary("MLMSampling: samples", ["sample", "text", "perplexity"], rows)

    def result_fields(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        plls = [row["pll_per_token"] for row in rows]
        return {"mean_pll_per_token": sum(plls) / len(plls) if plls else None}
