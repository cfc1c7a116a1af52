"""Token search: every vocabulary token at one position, the top-k by the target's activation.

The brute-force check of a dream: no single-token change can beat what this finds. All 30,522
substitutions run batched, only to the target layer, with the target layer's block computed
for the target position alone (``models.position_readout``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from lightning_dream.experiments.substitution.base import SubstitutionExperiment
from lightning_dream.results import TOKEN_SEARCH_FORMAT


class TokenSearch(SubstitutionExperiment):
    result_format = TOKEN_SEARCH_FORMAT

    def candidates(self) -> Tensor:
        return torch.arange(self.config.vocab_size)

    def job_results(self) -> dict[int, dict[str, Any]]:
        values = self.merged_values()
        if self.global_rank != 0:
            return {}
        results = {}
        for job in range(len(self.neuron_ids)):
            column = values[:, job]
            top = column.topk(self.hparams.top_k)
            original = column[self.original_id]
            results[job] = {
                **self.job_header(job, values),
                "original_rank": int((column > original).sum()) + 1,
                "tokens_searched": int((~column.isnan()).sum()),
                "top": [self.token(int(i), float(v)) for v, i in zip(top.values, top.indices)],
            }
        return results
