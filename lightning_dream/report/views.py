"""Which views each experiment's results support, by the ``format`` in the result file.

A format is ``lightning_dream.<experiment>/<version>``. Views read fields defensively: an older
version missing a field gets a note saying so, and a newer version than listed here gets a note
that this report may not show everything.
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
from lightning_dream.results import COMBINED_FORMAT

#: written by ``combine_layers`` / ``combine_magnitudes``: ``groups`` of jobs of ``result_format``

View = Callable[[dict[str, Any]], list[Section]]

#: experiment -> (newest version understood, its views)
VIEWS: dict[str, tuple[int, tuple[View, ...]]] = {
    "dream": (3, (dream.dream_process, dream.annealing)),
    "soft_input": (3, (dream.dream_process, dream.annealing)),
    "reconstruct": (2, (reconstruction.across_layers, dream.dream_process, dream.annealing)),
    "reconstruct_changed": (2, (reconstruction.shifted, reconstruction.across_layers, dream.dream_process)),
    "reconstruct_shifted": (2, (reconstruction.shifted, dream.dream_process)),
    "dream_mlm": (2, (dream.dream_process, dream.annealing)),
    "compare_methods": (1, (methods.comparison,)),
    "token_search": (1, (substitution.token_search,)),
    "similar_embeddings": (1, (substitution.similar_embeddings,)),
    "depth_probe": (1, (dynamics.depth_probe,)),
    "albert_trajectory": (1, (dynamics.trajectory,)),
    "albert_lyapunov": (1, (dynamics.lyapunov,)),
    "attention": (1, (attention.attention,)),
    "factorize": (1, (factorize.factorize,)),
    "fill_mask": (1, (predictions.fill_mask,)),
    "knowledge_probe": (1, (predictions.knowledge_probe,)),
    "mlm_sampling": (1, (predictions.mlm_sampling,)),
    "corpus_search": (1, (predictions.corpus_search,)),
    "cav": (1, (predictions.cav,)),
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


#: experiments whose results describe the whole run rather than a list of jobs
WHOLE_RUN = {"albert_trajectory", "albert_lyapunov", "depth_probe", "cav"}


def parse_format(fmt: str) -> tuple[str, int]:
    """('dream', 2) from 'lightning_dream.dream/2'; ('', 0) for anything else."""
    name, _, version = fmt.partition("/")
    if not name.startswith("lightning_dream.") or not version.isdigit():
        return "", 0
    return name.removeprefix("lightning_dream."), int(version)


def known_formats() -> str:
    return ", ".join(f"lightning_dream.{name}/{version}" for name, (version, _) in sorted(VIEWS.items()))


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
    newest, views = VIEWS[name]
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
    if name not in WHOLE_RUN and (not isinstance(rows, list) or not rows):
        return sections + [Section("empty", "No jobs", [Note(f"the result file ({fmt}) holds no jobs", "warning")])]
    for view in views:
        try:
            sections += view(result)
        except MALFORMED as err:
            sections.append(problem_section(view.__name__, err))
    return sections
