"""Which views each experiment's results support, by the ``format`` in the result file.

A format is ``lightning_dream.<kind>/<version>`` (``results.FORMATS``). Views read fields
defensively: an older version missing a field gets a note saying so, and a newer version than the
registered one gets a note that this report may not show everything. A whole-run format
(``Format.whole_run``) is shown without job rows; any other without rows is a "No jobs" note.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lightning_dream.report import (
    attention,
    dream,
    dynamics,
    factorize,
    methods,
    predictions,
    reconstruction,
    substitution,
)
from lightning_dream.report.blocks import Note, Section
from lightning_dream.report.common import MissingFields
from lightning_dream.results import COMBINED_FORMAT, FORMATS, parse_format

View = Callable[[dict[str, Any]], list[Section]]

#: format kind -> its views; the newest version understood is the format's own (``results.FORMATS``)
VIEWS: dict[str, tuple[View, ...]] = {
    "dream": (dream.dream_process, dream.annealing),
    "soft_input": (dream.dream_process, dream.annealing),
    "reconstruct": (reconstruction.across_layers, dream.dream_process, dream.annealing),
    "reconstruct_changed": (reconstruction.shifted, reconstruction.across_layers, dream.dream_process),
    "reconstruct_shifted": (reconstruction.shifted, dream.dream_process),
    "dream_mlm": (dream.dream_process, dream.annealing),
    "compare_methods": (methods.comparison,),
    "token_search": (substitution.token_search,),
    "similar_embeddings": (substitution.similar_embeddings,),
    "depth_probe": (dynamics.depth_probe,),
    "albert_trajectory": (dynamics.trajectory,),
    "albert_lyapunov": (dynamics.lyapunov,),
    "attention": (attention.attention,),
    "factorize": (factorize.factorize,),
    "fill_mask": (predictions.fill_mask,),
    "knowledge_probe": (predictions.knowledge_probe,),
    "mlm_sampling": (predictions.mlm_sampling,),
    "corpus_search": (predictions.corpus_search,),
    "cav": (predictions.cav,),
}


#: what a malformed field raises inside a view (a string where a number belongs, a number where a
#: list belongs, a missing key): the view becomes a warning note instead of a traceback
MALFORMED = (MissingFields, KeyError, TypeError, IndexError, ValueError, AttributeError)


def problem_section(name: str, err: Exception) -> Section:
    """The note shown in place of a view (or a section) that the results cannot fill."""
    detail = err if isinstance(err, MissingFields) else f"{type(err).__name__}: {err}"
    return Section(
        name.replace("_", "-"),
        name.replace("_", " "),
        [Note(f"cannot show this view: {detail} (malformed, partially written or older results?)", "warning")],
    )


def known_formats() -> str:
    """The formats this report shows, at their newest version: ``lightning_dream.cav/1, ...``."""
    return ", ".join(FORMATS[name].tag for name in sorted(VIEWS))


def render_views(result: dict[str, Any]) -> list[Section]:
    """Every section the result supports; problems become warning notes, never exceptions."""
    if result.get("format") == COMBINED_FORMAT:  # runs fused by layer or magnitude: show their jobs together
        jobs = [job for group in result.get("groups", {}).values() for job in group]
        result = {**result, "format": result.get("result_format"), "jobs": jobs}
    fmt = str(result.get("format"))
    name, version = parse_format(fmt)
    if name not in VIEWS:
        return [
            Section(
                "unknown",
                "No view for these results",
                [Note(f"format {fmt!r} is not one this report knows ({known_formats()})", "warning")],
            )
        ]
    newest, views = FORMATS[name].version, VIEWS[name]
    sections = []
    if result.get("upgraded_from"):  # read_results renamed an older soft-input file's fields
        why = f"written as {result['upgraded_from']!r}: its best_* is shown as final_*, its final_* as last_*"
        sections.append(Section("format", "Older results", [Note(why)]))
    if version > newest:
        sections.append(
            Section(
                "format",
                "Newer results",
                [
                    Note(
                        f"format {fmt!r} is newer than this report understands (up to /{newest}): some fields "
                        f"may not be shown",
                        "warning",
                    )
                ],
            )
        )
    rows = result.get("jobs", result.get("rows"))  # jobs, or the items of a read-only run
    if not FORMATS[name].whole_run and (not isinstance(rows, list) or not rows):
        return sections + [Section("empty", "No jobs", [Note(f"the result file ({fmt}) holds no jobs", "warning")])]
    for view in views:
        try:
            sections += view(result)
        except MALFORMED as err:
            sections.append(problem_section(view.__name__, err))
    return sections
