"""Knowledge / cloze probe: P@1 and P@k of a masked LM on LAMA-format facts, per relation.

A fact counts as a hit at k when its ``obj_label`` is among the k most probable tokens at the
[MASK] (over the whole vocabulary, as in LAMA's own evaluation of BERT): its ``rank`` (1 + the
number of tokens scored higher) is at most k. Precision is averaged over facts (micro), overall
and within each relation, from the rows of every fact once all processes' rows are gathered.
"""

from __future__ import annotations

from typing import Any

import torch

from lightning_dream.checks import PositiveInt
from lightning_dream.data.lama import read_lama
from lightning_dream.experiments.masked_lm.base import MaskedLMPrediction
from lightning_dream.models.mlm_scoring import logits_at, pad_batch
from lightning_dream.results import KNOWLEDGE_PROBE_FORMAT, Summary


class KnowledgeProbe(MaskedLMPrediction):
    result_format = KNOWLEDGE_PROBE_FORMAT

    def __init__(self, probe_file: str = "news-cloze", top_k: PositiveInt = 10, **kwargs: Any):
        """
        Args:
            probe_file: a LAMA jsonl file, or ``news-cloze`` (shipped: held-out news sentences
                with one content word masked).
            top_k: the k of P@k (P@1 is always reported).
        """
        super().__init__(**kwargs)
        self.check_top_k(top_k)
        self.facts = read_lama(probe_file, self.tokenizer, self.config.max_position_embeddings)
        self.relations = sorted({fact.relation for fact in self.facts})

    def items(self) -> list[int]:
        return list(range(len(self.facts)))

    @torch.no_grad()
    def predict_step(self, batch: list[int], batch_idx: int) -> list[dict[str, Any]]:
        facts = [self.facts[i] for i in batch]
        ids, mask = pad_batch([list(f.input_ids) for f in facts], self.tokenizer.pad_token_id)
        positions = torch.tensor([f.mask_position for f in facts])
        logits = logits_at(self.mlm, ids, mask, torch.arange(len(facts)), positions)
        labels = torch.tensor([f.label_id for f in facts])
        top = logits.topk(self.hparams.top_k, dim=-1).indices
        ranks = (logits > logits.gather(1, labels[:, None])).sum(-1) + 1
        return [
            {
                "line": f.line,
                "id": f.id,
                "sub_label": f.sub_label,
                "sentence": f.text,
                "relation": f.relation,
                "obj_label": f.obj_label,
                "rank": int(rank),
                "top": self.tokenizer.convert_ids_to_tokens(t.tolist()),
            }
            for f, rank, t in zip(facts, ranks, top)
        ]

    def summary_table(self, payload: dict[str, Any]) -> Summary:
        """P@1 and P@k per relation, then overall."""
        k = f"P@{self.hparams.top_k}"
        groups = [*payload["relations"].items(), ("overall", payload["overall"])]
        rows = [[name, s["facts"], s["P@1"], s[k]] for name, s in groups]
        return Summary("KnowledgeProbe: precision at k", ["relation", "facts", "P@1", k], rows)

    def headline(self, payload: dict[str, Any]) -> float:
        return payload["overall"]["P@1"]

    def result_fields(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """P@1 and P@k over every fact's row, overall and per relation."""
        k = self.hparams.top_k

        def scores(group: str) -> dict[str, float]:
            ranks = [row["rank"] for row in rows if group in ("overall", row["relation"])]
            return {
                "facts": len(ranks),
                "P@1": sum(rank <= 1 for rank in ranks) / len(ranks),
                f"P@{k}": sum(rank <= k for rank in ranks) / len(ranks),
            }

        return {"overall": scores("overall"), "relations": {r: scores(r) for r in self.relations}}

    def result_scalars(self, payload: dict[str, Any]) -> dict[str, float]:
        """P@1 and P@k, overall and per relation, as TensorBoard scalars."""
        groups = {"overall": payload["overall"], **{f"relation/{r}": v for r, v in payload["relations"].items()}}
        return {f"{group}/{name}": value for group, s in groups.items() for name, value in s.items() if "@" in name}
