"""Views of read-only runs: fill-mask, knowledge probe and MLM samples (``masked_lm``), the top
corpus sentences of a neuron (corpus search) and a CAV's held-out accuracy per layer."""

from __future__ import annotations

from typing import Any

from lightning_dream.report.blocks import BarPanel, BarPanels, Note, Section, Token, TokenRow, TokenRows
from lightning_dream.report.common import MAX_DETAILED_JOBS, job_name, need, with_ties

#: at most this many facts, samples or sentences are listed
MAX_ROWS = 20


def fill_mask(result: dict[str, Any]) -> list[Section]:
    """Per sentence: its tokens with the masked positions marked, and the top tokens' probabilities
    per masked position (the original word marked blue)."""
    sections = []
    for n, row in enumerate(result["rows"][:MAX_DETAILED_JOBS]):
        tokens, masks = need(row, "tokens", "masks", where=f"row {n}")
        masked = {m["position"] for m in masks}
        line = [Token(t, "target" if i in masked else "plain") for i, t in enumerate(tokens)]
        panels = []
        for mask in masks:
            names, values = with_ties([t["token"] for t in mask["top"]], [t["probability"] for t in mask["top"]])
            label = f"position {mask['position']}"
            if "original" in mask:
                label += f" · original {mask['original']!r} rank {mask.get('original_rank', '?')}"
            panels.append(BarPanel(label, names, values, highlight=mask.get("original")))
        blocks = [
            TokenRows("", [TokenRow("sentence", line, f"{len(masks)} masked", {"row": "sentence"})], ("target",)),
            BarPanels("top tokens", panels, "probability", max_value=1.0, caption="the original word is marked blue"),
        ]
        sections.append(Section("fill-mask", f"Fill-mask — {row.get('sentence', f'row {n}')}", blocks))
    return sections


def knowledge_probe(result: dict[str, Any]) -> list[Section]:
    """P@1 and P@k per relation and overall, then the first facts with the model's top tokens
    (the right object marked green)."""
    overall, relations = need(result, "overall", "relations")
    names = [*relations, "overall"]
    scores = [*relations.values(), overall]
    metrics = [key for key in overall if key.startswith("P@")]
    panels = [BarPanel(metric, names, [s[metric] for s in scores]) for metric in metrics]
    caption = ", ".join(f"{name}: {s['facts']} facts" for name, s in zip(names, scores))
    rows = []
    for fact in result["rows"][:MAX_ROWS]:
        tokens = [Token(t, "recovered" if t == fact["obj_label"] else "plain") for t in fact["top"]]
        note = f"{fact['obj_label']!r} at rank {fact['rank']}"
        rows.append(TokenRow(fact.get("relation", ""), tokens, note, {"row": "fact"}))
    blocks = [
        BarPanels("precision at k", panels, "precision", max_value=1.0, caption=caption),
        TokenRows(f"the first {len(rows)} facts: top predictions", rows, ("recovered",)),
    ]
    return [Section("knowledge-probe", "Knowledge probe", blocks)]


def mlm_sampling(result: dict[str, Any]) -> list[Section]:
    """Every sample's tokens with its perplexity under the model (pseudo-log-likelihood)."""
    samples = result["rows"][:MAX_ROWS]
    rows = [
        TokenRow(
            f"sample {s.get('sample', i)}",
            [Token(t) for t in s["tokens"]],
            f"perplexity {s['perplexity']:.4g}",
            {"row": "sample"},
        )
        for i, s in enumerate(samples)
    ]
    mean = result.get("mean_pll_per_token")
    subtitle = f"mean pseudo-log-likelihood per token {mean:.4g}" if isinstance(mean, (int, float)) else ""
    bars = BarPanels(
        "perplexity per sample",
        [
            BarPanel(
                "samples",
                [f"sample {s.get('sample', i)}" for i, s in enumerate(samples)],
                [s["perplexity"] for s in samples],
            )
        ],
        "perplexity",
    )
    return [Section("mlm-sampling", "MLM samples", [TokenRows("", rows), bars], subtitle)]


def corpus_search(result: dict[str, Any]) -> list[Section]:
    """Per neuron: the corpus sentences that drive it most, with the token it peaks at marked."""
    sections = []
    for job in result["jobs"][:MAX_DETAILED_JOBS]:
        (top,) = need(job, "top", where=f"job {job.get('job')}")
        if not top:
            sections.append(Section("corpus-search", f"Corpus search — {job_name(job)}", [Note("no sentence found")]))
            continue
        rows = [
            TokenRow(
                f"#{rank}",
                [Token(t["token"], "target")] + [Token(w) for w in t["sentence"].split()],
                f"{t['activation']:.4g}",
                {"row": "hit"},
            )
            for rank, t in enumerate(top[:MAX_ROWS], 1)
        ]
        bars = BarPanels(
            "activation of the top sentences",
            [
                BarPanel(
                    "at the token marked blue",
                    [f"#{r} {t['token']}" for r, t in enumerate(top, 1)],
                    [t["activation"] for t in top],
                )
            ],
            "activation",
            caption=f"{job.get('sentences_searched', '?')} sentences of {job.get('corpus', '?')} searched",
            color="#2da44e",
        )
        sections.append(
            Section("corpus-search", f"Corpus search — {job_name(job)}", [TokenRows("", rows, ("target",)), bars])
        )
    return sections


def cav(result: dict[str, Any]) -> list[Section]:
    """The held-out accuracy of the concept's linear readout at each layer."""
    (layers,) = need(result, "layers")
    names = [f"layer {layer}" for layer in layers]
    values = [entry.get("heldout_accuracy") or 0.0 for entry in layers.values()]
    concepts = " vs ".join(map(str, result.get("concepts", [])))
    bars = BarPanels(
        "held-out accuracy per layer",
        [BarPanel(concepts or "CAV", names, values)],
        "accuracy",
        max_value=1.0,
        caption=str(result.get("sign", "")),
    )
    return [Section("cav", f"Concept activation vectors — {concepts}", [bars])]
