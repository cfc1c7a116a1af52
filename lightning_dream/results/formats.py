"""Result formats: the one registry of every ``format`` string the project writes or reads.

Every result file names its ``format``, ``lightning_dream.<kind>/<version>``; every format string
of the project is one of the constants below, each made by ``register`` so that ``FORMATS`` (kind
-> ``Format``) holds them all, and experiments reference them (``result_format``).
A run's ``results.json`` is written by ``callbacks.results.ResultWriter`` alone: a header
(``results.source.result_header``: ``format``, ``experiment``, ``config``, ``trainer``), then the
experiment's run-level fields, then its rows (``jobs`` or ``rows``), one per job or item, in index
order.

The contracts a format keeps:

- **Versions.** A new *optional* field keeps the format's version (readers ignore what they do not
  know, and a report shows older files with a note where a field is missing). A renamed or
  removed field, or a field whose meaning or unit changes, bumps the version (``/1`` -> ``/2``);
  say in a comment beside the constant what the new version changed.
- **Undefined values.** A value that is legitimately undefined (the Lyapunov exponent of a run
  with no complete window, the distance between inputs when there is one input, a correlation of
  constant predictions) is written as ``null`` with the reason beside it under the same name plus
  ``_undefined``: ``"x": null, "x_undefined": "constant predictions"``. Never NaN or Infinity.
- **Complete.** ``complete`` (optional, so no format changed) is false when the run was stopped
  before its end (``max_steps``, ``max_time``, Ctrl-C); ``trainer.global_step`` is the step reached.
  Resuming the run's last checkpoint (``--ckpt_path``) continues it to the end.
- **Strict JSON.** Result files are strict JSON (RFC 8259), readable by any parser, a browser's
  included. ``write_json_atomic`` enforces it: it serialises with ``allow_nan=False``; if a payload
  still holds a non-finite float (an experiment that did not say why), that value is written as
  ``null`` with a generic ``<name>_undefined`` reason (``"not a finite number (nan)"``; for a list,
  how many of its values were not), a reason the experiment gave itself is kept, and a warning
  names the file. So a long run never loses its results to one NaN, and no file holds ``NaN``.
"""

from __future__ import annotations

from dataclasses import dataclass

RESULTS_FILE = "results.json"

PREFIX = "lightning_dream."


@dataclass(frozen=True)
class Format:
    """One result format: its kind (``dream``), its newest version, and whether a file of it
    describes the whole run (curves, vectors, a table per depth) rather than a list of jobs."""

    kind: str
    version: int
    whole_run: bool = False

    @property
    def tag(self) -> str:
        """The ``format`` field of a file of this version: ``lightning_dream.dream/3``."""
        return f"{PREFIX}{self.kind}/{self.version}"


#: kind -> its format, every one the project knows (filled by ``register`` below, nowhere else)
FORMATS: dict[str, Format] = {}


def register(kind: str, version: int, *, whole_run: bool = False) -> str:
    """Add a format to ``FORMATS`` and return its ``format`` string; a kind is registered once."""
    if kind in FORMATS:
        raise ValueError(f"result format {kind!r} is registered twice")
    FORMATS[kind] = Format(kind, version, whole_run)
    return FORMATS[kind].tag


def parse_format(fmt: str) -> tuple[str, int]:
    """('dream', 2) from 'lightning_dream.dream/2'; ('', 0) for anything else."""
    name, _, version = str(fmt).partition("/")
    if not name.startswith(PREFIX) or not version.isdigit():
        return "", 0
    return name.removeprefix(PREFIX), int(version)


# -- run results (results.json), by experiment family ------------------------------------------
#: /2: snapshots carry ``softmax_top`` (the annealing view's top tokens per changeable position).
#: /3: ``final_*`` is the best real (snapped) input seen, the method's result (was ``best_*``);
#: ``last_*`` is the last step's input (was ``final_*``); ``best_*`` is gone. The same for every
#: stage-named field: ``*_fluency``/``_pll``/``_unigram``, DreamMLM's ``*_probability``,
#: Reconstruct's ``last_distance``/``last_token_recovery`` (``distance``/``token_recovery`` are the
#: final's, as before). Older files are read as this version (``migration.upgrade_soft_input``).
SOFT_INPUT_FORMAT = register("soft_input", 3)
DREAM_FORMAT = register("dream", 3)  # /2, /3: as SOFT_INPUT_FORMAT
DREAM_MLM_FORMAT = register("dream_mlm", 2)  # /2: final/last as SOFT_INPUT_FORMAT/3
RECONSTRUCT_FORMAT = register("reconstruct", 2)  # /2: final/last as SOFT_INPUT_FORMAT/3
RECONSTRUCT_CHANGED_FORMAT = register("reconstruct_changed", 2)  # /2: as RECONSTRUCT_FORMAT
RECONSTRUCT_SHIFTED_FORMAT = register("reconstruct_shifted", 2)  # /2: as RECONSTRUCT_FORMAT
#: the soft-input formats that renamed best/final to final/last
FINAL_IS_BEST = (
    SOFT_INPUT_FORMAT,
    DREAM_FORMAT,
    DREAM_MLM_FORMAT,
    RECONSTRUCT_FORMAT,
    RECONSTRUCT_CHANGED_FORMAT,
    RECONSTRUCT_SHIFTED_FORMAT,
)
#: ``CompareMethods``: per job a soft-input row (as SOFT_INPUT_FORMAT) with ``target``, ``span`` (word or
#: sentence), ``steps``, ``wall_seconds`` and, for single-word jobs, ``exhaustive_best`` and
#: ``exhaustive_token``; the run's ``table``: one row per method (``report.methods.comparison_table``)
COMPARE_METHODS_FORMAT = register("compare_methods", 1)

FILL_MASK_FORMAT = register("fill_mask", 1)
KNOWLEDGE_PROBE_FORMAT = register("knowledge_probe", 1)
MLM_SAMPLING_FORMAT = register("mlm_sampling", 1)

TOKEN_SEARCH_FORMAT = register("token_search", 1)
SIMILAR_EMBEDDINGS_FORMAT = register("similar_embeddings", 1)
CORPUS_SEARCH_FORMAT = register("corpus_search", 1)

INSPECT_FORMAT = register("inspect", 1)
ATTENTION_FORMAT = register("attention", 1)
FACTORIZE_FORMAT = register("factorize", 1)

ALBERT_TRAJECTORY_FORMAT = register("albert_trajectory", 1, whole_run=True)
ALBERT_LYAPUNOV_FORMAT = register("albert_lyapunov", 1, whole_run=True)
#: ``DepthProbe`` / ``MLMDepthProbe``: a row per depth (``depth``, ``val/<metric>``), ``best`` per metric
DEPTH_PROBE_FORMAT = register("depth_probe", 1, whole_run=True)

# -- other files -------------------------------------------------------------------------------
#: ``cav.json``: a unit vector per layer (written by the CAV run's ResultWriter, read by ``load_cav``)
CAV_FORMAT = register("cav", 1, whole_run=True)
#: a trajectory folder's ``meta.json`` (``data/trajectories.py``)
TRAJECTORY_FORMAT = register("trajectory", 1)
#: one word's vector at every layer (``export_activation``)
ACTIVATION_FORMAT = register("activation", 1)
#: runs fused by layer or magnitude (``combine-layers`` / ``combine-magnitudes``): ``groups`` of
#: jobs of ``result_format``
COMBINED_FORMAT = register("combined", 1)
