"""Knowledge / cloze probe: P@1 and P@k of a masked LM on LAMA-format facts, per relation.

A fact counts as a hit at k when its ``obj_label`` is among the k most probable tokens at the
[MASK] (over the whole vocabulary, as in LAMA's own evaluation of BERT). Precision is averaged
over facts (micro), overall and within each relation, with torchmetrics.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from lightning_dream.data.lama import read_lama
from lightning_dream.experiments.masked_lm.base import MaskedLMPrediction
from lightning_dream.models.mlm_scoring import logits_at, pad_batch


class KnowledgeProbe(MaskedLMPrediction):
    result_format = "lightning_dream.knowledge_probe/1"

    def __init__(self, probe_file: str = "news-cloze", top_k: int = 10, **kwargs: Any):
        """
        Args:
            probe_file: a LAMA jsonl file, or ``news-cloze`` (shipped: held-out news sentences
                with one content word masked).
            top_k: the k of P@k (P@1 is always reported).
        """
        super().__init__(**kwargs)
        self.check_top_k(top_k)
        self.facts = read_lama(probe_file, self.tokenizer)
        self.relations = sorted({fact.relation for fact in self.facts})
        groups = ["overall", *self.relations]
        self.at_1 = nn.ModuleDict({g: MulticlassAccuracy(self.vocab_size, top_k=1, average="micro") for g in groups})
        self.at_k = nn.ModuleDict(
            {g: MulticlassAccuracy(self.vocab_size, top_k=top_k, average="micro") for g in groups}
        )

    def items(self) -> list[int]:
        return list(range(len(self.facts)))

    @torch.no_grad()
    def predict_step(self, batch: list[int], batch_idx: int) -> list[dict[str, Any]]:
        facts = [self.facts[i] for i in batch]
        encoded = [self.tokenizer(f.text)["input_ids"] for f in facts]
        ids, mask = pad_batch(encoded, self.tokenizer.pad_token_id)
        positions = torch.tensor([e.index(self.tokenizer.mask_token_id) for e in encoded])
        logits = logits_at(self.mlm, ids, mask, torch.arange(len(facts)), positions)
        labels = torch.tensor([f.label_id for f in facts])
        for group in ("overall", *self.relations):
            chosen = torch.tensor([group in ("overall", f.relation) for f in facts])
            if chosen.any():
                self.at_1[group].update(logits[chosen], labels[chosen])
                self.at_k[group].update(logits[chosen], labels[chosen])
        top = logits.topk(self.hparams.top_k, dim=-1).indices
        ranks = (logits > logits.gather(1, labels[:, None])).sum(-1) + 1
        return [
            {
                "line": f.line,
                "relation": f.relation,
                "obj_label": f.obj_label,
                "rank": int(rank),
                "top": self.tokenizer.convert_ids_to_tokens(t.tolist()),
            }
            for f, rank, t in zip(facts, ranks, top)
        ]

    def summary(self) -> dict[str, Any]:
        k = self.hparams.top_k

        def scores(group: str) -> dict[str, float]:
            n = sum(1 for f in self.facts if group in ("overall", f.relation))
            return {"facts": n, "P@1": self.at_1[group].compute().item(), f"P@{k}": self.at_k[group].compute().item()}

        return {"overall": scores("overall"), "relations": {r: scores(r) for r in self.relations}}
