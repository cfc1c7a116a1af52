"""Similar embeddings: the tokens nearest to a word in input-embedding space, and what the target
reads when each replaces the word -- do neighbours in the embedding table act alike?"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from lightning_dream.experiments.substitution.base import SubstitutionExperiment
from lightning_dream.results import SIMILAR_EMBEDDINGS_FORMAT


class SimilarEmbeddings(SubstitutionExperiment):
    result_format = SIMILAR_EMBEDDINGS_FORMAT

    @property
    def max_top_k(self) -> int:
        return self.config.vocab_size - 1  # every token but the word itself

    def configure_model(self) -> None:
        super().configure_model()
        table = self.encoder.get_input_embeddings().weight.detach()
        word = table[self.original_id]
        cosine = F.cosine_similarity(table, word[None], dim=-1)
        distance = (table - word).norm(dim=-1)
        cosine[self.original_id], distance[self.original_id] = float("-inf"), float("inf")
        k = self.hparams.top_k
        self.nearest = {"cosine": cosine.topk(k), "euclidean": distance.topk(k, largest=False)}

    def candidates(self) -> Tensor:
        found = [self.nearest[m].indices.cpu() for m in ("cosine", "euclidean")]
        return torch.cat([*found, torch.tensor([self.original_id])]).unique()

    summary_field = "cosine"  # the nearest by cosine similarity

    def job_results(self) -> dict[int, dict[str, Any]]:
        values = self.merged_values()
        if self.global_rank != 0:
            return {}
        field = {"cosine": "similarity", "euclidean": "distance"}
        return {
            job: {
                **self.job_header(job, values),
                **{
                    metric: [
                        self.token(int(i), float(values[i, job]), **{field[metric]: float(v)})
                        for v, i in zip(self.nearest[metric].values, self.nearest[metric].indices)
                    ]
                    for metric in ("cosine", "euclidean")
                },
            }
            for job in range(len(self.neuron_ids))
        }
