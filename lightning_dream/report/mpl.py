"""The same view blocks as matplotlib figures, for TensorBoard (``callbacks/figures.py``) and the
soft-input step logger's softmax image."""

from __future__ import annotations

from lightning_dream.report.blocks import Attention, BarPanels, Block, LinePlot, Note, TokenRows
from lightning_dream.report.html import PALETTE

#: token colour classes as (background, text) colours, matching report.css
KIND_COLORS: dict[str, tuple[str, str]] = {
    "fixed": ("none", "#8c959f"),
    "recovered": ("#dafbe1", "#116329"),
    "toward": ("#dafbe1", "#116329"),
    "lost": ("#ffebe9", "#a40e26"),
    "other": ("#ffebe9", "#a40e26"),
    "away": ("#ffcecb", "#82071e"),
    "changed": ("#fff1c2", "#7d4e00"),
    "shifted": ("#ddf4ff", "#0550ae"),
    "target": ("#ddf4ff", "#0550ae"),
}


def pyplot():
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # tokens in every script are drawn (the vocabulary has CJK pieces); a missing glyph is a box, not news
    warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
    return plt


def token_rows(block: TokenRows):
    """Rows of monospace tokens on coloured boxes, the label left and the note right."""
    plt = pyplot()
    char = 0.075  # inches per character at 9 pt monospace
    label_width = max((len(r.label) for r in block.rows), default=4) * 0.065 + 0.2
    widths = [sum(len(t.text) + 1.4 for t in r.tokens) * char for r in block.rows]
    note_width = max((len(r.note) for r in block.rows), default=0) * 0.065
    width = min(label_width + max(widths, default=1) + note_width + 0.6, 30)
    fig = plt.figure(figsize=(width, 0.32 * len(block.rows) + 0.6))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, width)
    ax.set_ylim(len(block.rows) + 1.2, 0)
    ax.text(0.1, 0.5, block.title, fontsize=10, weight="bold", va="center")
    for i, row in enumerate(block.rows):
        y = i + 1.4
        ax.text(label_width - 0.1, y, row.label, ha="right", va="center", fontsize=8, color="#57606a")
        x = label_width
        for token in row.tokens:
            face, color = KIND_COLORS.get(token.kind, ("none", "#1f2328"))
            if token.weight is not None:
                face, color = (block.color or "#d9822b", min(max(token.weight, 0.0), 1.0)), "#1f2328"
            box = None if face == "none" else dict(boxstyle="round,pad=0.15", facecolor=face, edgecolor="none")
            ax.text(x, y, token.text, va="center", fontsize=9, family="monospace", color=color, bbox=box)
            x += (len(token.text) + 1.4) * char
        if row.note:
            ax.text(x + 0.15, y, row.note, va="center", fontsize=8, color="#57606a")
    return fig


def line_plot(block: LinePlot, ax=None):
    """The plot on its own figure, or drawn into ``ax`` (a panel of ``line_plots``)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.0)) if ax is None else (ax.figure, ax)
    right = ax.twinx() if any(s.right for s in block.series) else None
    for i, series in enumerate(block.series):
        target = right if series.right else ax
        style = "--" if series.right else "-"
        target.plot(
            series.x,
            series.y,
            style,
            color=PALETTE[i % len(PALETTE)],
            label=series.name,
            marker="o" if block.markers else None,
            ms=3,
        )
    ax.set_xlabel(block.xlabel)
    ax.set_ylabel(block.ylabel)
    if right is not None:
        right.set_ylabel(block.right_label)
    handles = [h for a in (ax, right) if a is not None for h in a.get_legend_handles_labels()[0]]
    ax.legend(handles, [h.get_label() for h in handles], fontsize=7, loc="best")
    ax.set_title(block.title, fontsize=10)
    fig.tight_layout()
    return fig


def line_plots(blocks: list[LinePlot]):
    """Several plots side by side on one figure (one picture for a README)."""
    fig, axes = pyplot().subplots(1, len(blocks), figsize=(6.4 * len(blocks), 3.4), squeeze=False)
    for block, ax in zip(blocks, axes[0]):
        line_plot(block, ax)
    return fig


def bar_panels(block: BarPanels):
    """Horizontal bars, one panel per position (the softmax image of the annealing view)."""
    plt = pyplot()
    # laid out by hand from the label lengths: tight_layout draws the figure once more to measure
    # the text (its cost: docs/performance.md)
    label = 0.068 * max((len(name) for p in block.panels for name in p.names), default=1) + 0.15  # 8 pt monospace
    bars, top, bottom = 1.5, 0.6, 0.4
    width = len(block.panels) * (label + bars) + 0.2
    height = 0.25 * max((len(p.names) for p in block.panels), default=1) + top + bottom
    fig = plt.figure(figsize=(width, height))
    for i, panel in enumerate(block.panels):
        left = 0.1 + i * (label + bars) + label
        ax = fig.add_axes((left / width, bottom / height, (bars - 0.2) / width, (height - top - bottom) / height))
        rows = range(len(panel.names))[::-1]
        ax.barh(
            rows,
            panel.values,
            color=block.color or "#f0883e",
            height=0.45 if panel.second else 0.8,
            align="edge" if panel.second else "center",
        )
        if panel.second is not None:
            ax.barh(rows, panel.second, color="#8c959f", height=-0.45, align="edge")
        ax.set_yticks(rows, panel.names, fontsize=8, family="monospace")
        for tick, name in zip(ax.get_yticklabels(), panel.names):
            if name == panel.highlight:
                tick.set_color("#0550ae")
                tick.set_fontweight("bold")
        if block.max_value:
            ax.set_xlim(0, block.max_value)
        ax.set_title(panel.label, fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(block.title, fontsize=10, y=1 - 0.12 / height, va="top")
    return fig


def attention(block: Attention):
    """Every layer x head as a small query x key heat map (the model view as an image)."""
    plt = pyplot()
    layers, heads = len(block.weights), len(block.weights[0])
    fig, axes = plt.subplots(layers, heads, figsize=(heads * 0.9 + 0.4, layers * 0.9 + 0.5), squeeze=False)
    for layer in range(layers):
        for head in range(heads):
            ax = axes[layer][head]
            ax.imshow(block.weights[layer][head], cmap="Blues", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if head == 0:
                ax.set_ylabel(f"L{layer + 1}", fontsize=7)
            if layer == 0:
                ax.set_title(f"h{head}", fontsize=7)
    fig.suptitle(block.title, fontsize=9)
    return fig


FIGURES = {TokenRows: token_rows, LinePlot: line_plot, BarPanels: bar_panels, Attention: attention}


def figure(block: Block):
    """A matplotlib figure of the block, or None for blocks that are only words (notes)."""
    if isinstance(block, Note):
        return None
    return FIGURES[type(block)](block)
