"""Activation factorisation view: each NMF component as token highlighting over the text, in
its own colour (like Ecco's explore view), with the component's strongest neurons beside it."""

from __future__ import annotations

from typing import Any

from lightning_dream.report.blocks import Section, Token, TokenRow, TokenRows
from lightning_dream.report.common import MAX_DETAILED_JOBS, need
from lightning_dream.report.html import PALETTE


def component_rows(tokens: list[str], weights: list[list[float]], components: list[dict[str, Any]]) -> list[TokenRows]:
    count = len(weights[0]) if weights else 0
    blocks = []
    for c in range(count):
        column = [w[c] for w in weights]
        peak = max(column) or 1.0
        row_tokens = [Token(t, weight=v / peak, title=f"{v:.3g}") for t, v in zip(tokens, column)]
        neurons = (
            ", ".join(f"L{n['layer']}:{n['neuron']}" for n in components[c].get("top_neurons", [])[:3])
            if c < len(components)
            else ""
        )
        row = TokenRow(
            f"component {c + 1}", row_tokens, f"top neurons {neurons}" if neurons else "", {"component": c + 1}
        )
        blocks.append(TokenRows("", [row], color=PALETTE[c % len(PALETTE)]))
    return blocks


def factorize(result: dict[str, Any]) -> list[Section]:
    sections = []
    for job in result["jobs"][:MAX_DETAILED_JOBS]:
        tokens, weights, components = need(job, "tokens", "token_weights", "components", where=f"job {job.get('job')}")
        layers = job.get("layers", [])
        subtitle = (
            f"NMF of the feed-forward neurons of blocks {layers} into {len(components)} components "
            f"(relative error {job.get('relative_error', float('nan')):.3f}); highlight = the component's "
            f"weight on each token"
        )
        sections.append(
            Section(
                "factorization",
                f"Activation factorisation — job {job.get('job')}",
                component_rows(tokens, weights, components),
                subtitle,
            )
        )
    return sections
