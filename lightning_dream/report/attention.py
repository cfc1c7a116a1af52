"""Attention view: head view and model view (every layer x head) of a sentence, in the manner
of BERTviz, drawn by the page's own script (``attention.js``) from the result file's maps.

The ``bertviz`` package itself does not fit: its views load require.js, d3 and jQuery from a
CDN when shown, and a report here must open with no network.
"""

from __future__ import annotations

from typing import Any

from lightning_dream.report.blocks import Attention, Section
from lightning_dream.report.common import MAX_DETAILED_JOBS, need


def attention(result: dict[str, Any]) -> list[Section]:
    sections = []
    for job in result["jobs"][:MAX_DETAILED_JOBS]:
        tokens, maps = need(job, "tokens", "attentions", where=f"job {job.get('job')}")
        subtitle = (
            f"{len(maps)} layers x {len(maps[0])} heads; line opacity = attention weight from a token "
            f"(left) to a token (right)"
        )
        sections.append(
            Section(
                "attention",
                f"Attention — {job.get('sentence', '')!r}",
                [Attention("all layers x heads", tokens, maps)],
                subtitle,
            )
        )
    return sections
