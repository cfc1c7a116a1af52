"""What a view shows, independent of where it is shown.

A view turns a result file into these few blocks (coloured token rows, line plots, bar panels,
an attention tensor, notes); ``html.py`` renders them into the report page and ``mpl.py`` into
matplotlib figures for TensorBoard, so the browser and TensorBoard show the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Union

#: Token colour classes and what they mean; every view picks from these so one legend reads all.
TOKEN_KINDS: dict[str, str] = {
    "fixed": "kept fixed (not optimised)",
    "recovered": "recovered: same token as the original",
    "lost": "not recovered: another token",
    "toward": "changed toward the concept",
    "away": "changed toward the other concept",
    "other": "changed otherwise",
    "unchanged": "unchanged",
    "changed": "changed since the start",
    "shifted": "activation moved here",
    "target": "searched / replaced position",
    "plain": "",
}


@dataclass
class Token:
    text: str
    kind: str = "plain"
    weight: float | None = None  # 0..1 highlight strength (factorisation components)
    title: str = ""  # hover text


@dataclass
class TokenRow:
    label: str
    tokens: list[Token]
    note: str = ""  # shown beside the row: magnitude, recovery, activation
    attrs: dict[str, Any] = field(default_factory=dict)  # data-* attributes (layer, step) for tests and links


@dataclass
class TokenRows:
    title: str
    rows: list[TokenRow]
    legend: tuple[str, ...] = ()  # token kinds to explain under the rows
    color: str = ""  # highlight colour for weighted tokens


@dataclass
class Series:
    name: str
    x: list[float]
    y: list[float]
    right: bool = False  # drawn against the right-hand axis


@dataclass
class LinePlot:
    title: str
    xlabel: str
    ylabel: str
    series: list[Series]
    right_label: str = ""
    markers: bool = False


@dataclass
class BarPanel:
    label: str
    names: list[str]
    values: list[float]
    second: list[float] | None = None  # a second bar per name (e.g. embedding distance beside activation)
    highlight: str | None = None  # name drawn in the "target" colour


@dataclass
class BarPanels:
    title: str
    panels: list[BarPanel]
    value_label: str
    second_label: str = ""
    max_value: float | None = None  # fixed scale (1.0 for softmax weights); default: largest value
    caption: str = ""
    color: str = ""  # bar colour (default: the softmax orange)


@dataclass
class Attention:
    """All layers x heads of one sentence: ``weights[layer][head][query][key]``."""

    title: str
    tokens: list[str]
    weights: list[list[list[list[float]]]]


@dataclass
class Note:
    text: str
    level: Literal["info", "warning"] = "info"


Block = Union[TokenRows, LinePlot, BarPanels, Attention, Note]


@dataclass
class Section:
    """One view of one run (or of one job in it)."""

    view: str  # stable id: dream-process, annealing, reconstruction, ...
    title: str
    blocks: list[Block]
    subtitle: str = ""
