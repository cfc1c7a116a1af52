"""Render view blocks into one self-contained HTML page: inline CSS, inline SVG, inline JS and
data, nothing fetched (it opens from disk with no network)."""

from __future__ import annotations

import json
import math
from html import escape
from importlib.resources import files

from lightning_dream.report.blocks import (
    TOKEN_KINDS,
    Attention,
    BarPanels,
    Block,
    LinePlot,
    Note,
    Section,
    TokenRows,
)

#: series colours in the order they are drawn (the blog's greens and blue for the dream curves)
PALETTE = ("#1b7f3b", "#8fd18f", "#2f6db5", "#d9822b", "#7a4fb5", "#c2410c", "#0e7490", "#6b7280")


def asset(name: str) -> str:
    """Text of a file shipped beside this module (the page's CSS and JS)."""
    return files("lightning_dream.report").joinpath(name).read_text()


def attrs(values: dict) -> str:
    return "".join(f' data-{escape(str(k))}="{escape(str(v))}"' for k, v in values.items())


def token_rows(block: TokenRows) -> str:
    out = [f'<div class="token-rows">{f"<h4>{escape(block.title)}</h4>" if block.title else ""}<table>']
    for row in block.rows:
        cells = []
        for token in row.tokens:
            style = ""
            if token.weight is not None:
                style = (
                    f' style="background:{block.color or "#d9822b"}{round(255 * min(max(token.weight, 0.0), 1.0)):02x}"'
                )
            title = f' title="{escape(token.title)}"' if token.title else ""
            cells.append(f'<span class="tok {token.kind}"{style}{title}>{escape(token.text)}</span>')
        out.append(
            f'<tr class="token-row"{attrs(row.attrs)}><th>{escape(row.label)}</th>'
            f'<td class="tokens">{" ".join(cells)}</td><td class="note">{escape(row.note)}</td></tr>'
        )
    out.append("</table>")
    if block.legend:
        items = "".join(f'<span class="tok {k}">{escape(k)}</span> {escape(TOKEN_KINDS[k])} ' for k in block.legend)
        out.append(f'<p class="legend">{items}</p>')
    out.append("</div>")
    return "".join(out)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0]
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if m * step >= raw)
    first = math.floor(low / step) * step
    return [round(first + i * step, 12) for i in range(count + 3) if first + (i - 1) * step < high]


def fmt(value: float) -> str:
    return f"{value:.3g}"


def line_plot(block: LinePlot, width: int = 640, height: int = 260) -> str:
    """An SVG chart; series with ``right=True`` share a second y axis on the right."""
    left, right, top, bottom = 62, 62 if block.right_label else 16, 44, 40
    xs = [x for s in block.series for x in s.x] or [0.0, 1.0]
    xt = nice_ticks(min(xs), max(xs))
    if all(float(x).is_integer() for x in xs):  # steps, layers, depths: no ticks between them
        xt = (
            [x for x in xt if float(x).is_integer()]
            if len([x for x in xt if float(x).is_integer()]) >= 2
            else [min(xs), max(xs)]
        )
    x0, x1 = xt[0], xt[-1]

    def sx(x: float) -> float:
        return left + (x - x0) / ((x1 - x0) or 1) * (width - left - right)

    def axis(side_right: bool):
        ys = [y for s in block.series if s.right == side_right for y in s.y if math.isfinite(y)]
        if not ys:
            return None, None
        ticks = nice_ticks(min(ys), max(ys))
        lo, hi = ticks[0], ticks[-1]
        return ticks, lambda y: top + (hi - y) / ((hi - lo) or 1) * (height - top - bottom)

    parts = [f'<svg class="plot" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">']
    parts.append(f'<text x="{width / 2}" y="16" class="title">{escape(block.title)}</text>')
    for x in xt:
        parts.append(f'<line x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{top}" y2="{height - bottom}" class="grid"/>')
        parts.append(f'<text x="{sx(x):.1f}" y="{height - bottom + 14}" class="tick">{fmt(x)}</text>')
    parts.append(f'<text x="{(left + width - right) / 2}" y="{height - 6}" class="label">{escape(block.xlabel)}</text>')
    for side_right, label in ((False, block.ylabel), (True, block.right_label)):
        ticks, sy = axis(side_right)
        if ticks is None:
            continue
        xpos = width - right + 6 if side_right else left - 6
        anchor = "start" if side_right else "end"
        for y in ticks:
            if not side_right:
                parts.append(f'<line x1="{left}" x2="{width - right}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" class="grid"/>')
            parts.append(f'<text x="{xpos}" y="{sy(y) + 4:.1f}" class="tick" text-anchor="{anchor}">{fmt(y)}</text>')
        lx = width - 12 if side_right else 14
        parts.append(
            f'<text x="{lx}" y="{(top + height - bottom) / 2}" class="label" transform="rotate(-90 {lx} '
            f'{(top + height - bottom) / 2})">{escape(label)}</text>'
        )
        for i, series in enumerate(block.series):
            if series.right != side_right:
                continue
            color = PALETTE[i % len(PALETTE)]
            points = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(series.x, series.y) if math.isfinite(y))
            dash = ' stroke-dasharray="5 3"' if side_right else ""
            parts.append(
                f'<polyline class="series" data-name="{escape(series.name)}" points="{points}" stroke="{color}"{dash}/>'
            )
            if block.markers:
                parts += [
                    f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="2.5" fill="{color}"/>'
                    for p in points.split()
                ]
    x = left
    for i, series in enumerate(block.series):  # one legend line under the title
        color = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{top - 12}" width="12" height="3" fill="{color}"/>')
        parts.append(f'<text x="{x + 16}" y="{top - 7}" class="legend-text">{escape(series.name)}</text>')
        x += 28 + 6.2 * len(series.name)
    parts.append("</svg>")
    return "".join(parts)


def bar_panels(block: BarPanels) -> str:
    scale = block.max_value or max((v for p in block.panels for v in p.values), default=1.0) or 1.0
    second_scale = max((v for p in block.panels for v in (p.second or [])), default=1.0) or 1.0
    out = [f'<div class="bar-panels"><h4>{escape(block.title)}</h4><div class="panels">']
    for panel in block.panels:
        out.append(f'<div class="panel"><div class="panel-label">{escape(panel.label)}</div><table>')
        for i, (name, value) in enumerate(zip(panel.names, panel.values)):
            cls = "tok target" if name == panel.highlight else "tok"
            width = max(0.0, value / scale) * 100
            color = f";background:{block.color}" if block.color else ""
            bars = f'<div class="bar" style="width:{width:.1f}%{color}"></div>'
            if panel.second is not None:
                second_width = max(0.0, panel.second[i] / second_scale) * 100
                bars += f'<div class="bar second" style="width:{second_width:.1f}%"></div>'
            second = f'<td class="num">{fmt(panel.second[i])}</td>' if panel.second is not None else ""
            out.append(
                f'<tr class="bar-row"><td><span class="{cls}">{escape(name)}</span></td>'
                f'<td class="bars">{bars}</td><td class="num">{fmt(value)}</td>{second}</tr>'
            )
        out.append("</table></div>")
    out.append("</div>")
    swatch = f' style="background:{block.color}"' if block.color else ""
    legend = f'<span class="swatch"{swatch}></span>{escape(block.value_label)}'
    if block.second_label:
        legend += f' <span class="swatch second"></span>{escape(block.second_label)}'
    out.append(f'<p class="legend">{legend}{" — " + escape(block.caption) if block.caption else ""}</p></div>')
    return "".join(out)


def attention(block: Attention) -> str:
    """A container filled by attention.js from the inline JSON (head view + model view)."""
    data = json.dumps({"tokens": block.tokens, "weights": block.weights}, separators=(",", ":")).replace("</", "<\\/")
    return (
        f'<div class="attention"><h4>{escape(block.title)}</h4>'
        f'<script type="application/json" class="attention-data">{data}</script></div>'
    )


def note(block: Note) -> str:
    return f'<p class="note-box {block.level}">{escape(block.text)}</p>'


RENDERERS = {TokenRows: token_rows, LinePlot: line_plot, BarPanels: bar_panels, Attention: attention, Note: note}


def render_block(block: Block) -> str:
    return RENDERERS[type(block)](block)


def section(sec: Section) -> str:
    sub = f'<p class="subtitle">{escape(sec.subtitle)}</p>' if sec.subtitle else ""
    body = "".join(render_block(b) for b in sec.blocks)
    return f'<section class="view" data-view="{escape(sec.view)}"><h3>{escape(sec.title)}</h3>{sub}{body}</section>'


def page(title: str, body: str) -> str:
    script = asset("attention.js").replace("</", "<\\/")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{asset('report.css')}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}<script>{script}</script></body></html>"
    )
