"""Token search and similar-embeddings views (the seed blog's figures 3 and 4): the sentence
with the replaced position in blue, and the replacing tokens' activations as bars (beside their
embedding distance or similarity to the original word, for similar embeddings)."""

from __future__ import annotations

from typing import Any

from lightning_dream.report.blocks import BarPanel, BarPanels, Section, Token, TokenRow, TokenRows
from lightning_dream.report.common import MAX_DETAILED_JOBS, job_name, need

ACTIVATION_COLOR = "#2da44e"


def sentence(job: dict[str, Any]) -> TokenRows:
    tokens, position = need(job, "tokens", "change_word", where=f"job {job.get('job')}")
    row = [
        Token(t, "target" if i == position else "fixed" if i in (0, len(tokens) - 1) else "plain")
        for i, t in enumerate(tokens)
    ]
    return TokenRows("", [TokenRow("sentence", row, f"replaced position {position}", {"row": "sentence"})], ("target",))


def token_search(result: dict[str, Any]) -> list[Section]:
    sections = []
    for job in result["jobs"][:MAX_DETAILED_JOBS]:
        top, original = need(job, "top", "original", where=f"job {job.get('job')}")
        caption = (
            f"the original {original['token']!r} reads {original['activation']:.4g}, rank "
            f"{job.get('original_rank', '?')} "
            f"of {job.get('tokens_searched', '?')} tokens"
        )
        panel = BarPanel(
            f"top {len(top)} tokens at position {job['change_word']}",
            [t["token"] for t in top],
            [t["activation"] for t in top],
        )
        bars = BarPanels("tokens by activation", [panel], "activation", caption=caption, color=ACTIVATION_COLOR)
        sections.append(Section("token-search", f"Token search — {job_name(job)}", [sentence(job), bars]))
    return sections


def similar_embeddings(result: dict[str, Any]) -> list[Section]:
    sections = []
    for job in result["jobs"][:MAX_DETAILED_JOBS]:
        (original,) = need(job, "original", where=f"job {job.get('job')}")
        panels = []
        for metric, field in (("euclidean", "distance"), ("cosine", "similarity")):
            if metric not in job:
                continue
            near = [
                {
                    "token": original["token"],
                    "activation": original["activation"],
                    field: 0.0 if field == "distance" else 1.0,
                }
            ] + job[metric]
            panels.append(
                BarPanel(
                    f"nearest by {metric} {field}",
                    [n["token"] for n in near],
                    [n["activation"] for n in near],
                    [n[field] for n in near],
                    original["token"],
                )
            )
        bars = BarPanels(
            "neighbours in embedding space",
            panels,
            "activation",
            "distance / similarity",
            caption="the original word is marked blue",
            color=ACTIVATION_COLOR,
        )
        sections.append(Section("similar-embeddings", f"Similar embeddings — {job_name(job)}", [sentence(job), bars]))
    return sections
