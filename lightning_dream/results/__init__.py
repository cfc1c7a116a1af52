"""Result files: versioned JSON written atomically, read back with a clear error.

- ``formats``: every ``format`` string (``lightning_dream.<kind>/<version>``) in one registry,
  ``FORMATS``, and the contract every format keeps (versions, undefined values, ``complete``,
  strict JSON);
- ``source``: what an experiment offers the results writer (``ResultSource``), a run's header and rows;
- ``writing``: strict JSON written atomically and durably (``write_json_atomic``, ``write_text_atomic``);
- ``reading``: ``read_results``, and ``Results``/``Row`` to read a run from Python;
- ``migration``: older soft-input files read as today's version (``upgrade_soft_input``).

This package imports no Lightning (``report`` and ``--help`` start without it); every public name
of its modules is importable from here.
"""

from lightning_dream.results.formats import (
    ACTIVATION_FORMAT,
    ALBERT_LYAPUNOV_FORMAT,
    ALBERT_TRAJECTORY_FORMAT,
    ATTENTION_FORMAT,
    CAV_FORMAT,
    COMBINED_FORMAT,
    COMPARE_METHODS_FORMAT,
    CORPUS_SEARCH_FORMAT,
    DEPTH_PROBE_FORMAT,
    DREAM_FORMAT,
    DREAM_MLM_FORMAT,
    FACTORIZE_FORMAT,
    FILL_MASK_FORMAT,
    FINAL_IS_BEST,
    FORMATS,
    INSPECT_FORMAT,
    KNOWLEDGE_PROBE_FORMAT,
    MLM_SAMPLING_FORMAT,
    RECONSTRUCT_CHANGED_FORMAT,
    RECONSTRUCT_FORMAT,
    RECONSTRUCT_SHIFTED_FORMAT,
    RESULTS_FILE,
    SIMILAR_EMBEDDINGS_FORMAT,
    SOFT_INPUT_FORMAT,
    TOKEN_SEARCH_FORMAT,
    TRAJECTORY_FORMAT,
    Format,
    parse_format,
)
from lightning_dream.results.migration import upgrade_soft_input
from lightning_dream.results.reading import Results, Row, open_results, read_results
from lightning_dream.results.source import ResultSource, Summary, merge_rows, result_header
from lightning_dream.results.writing import (
    finite_payload,
    fsync_folder,
    remove_stale,
    write_json_atomic,
    write_text_atomic,
)

__all__ = [
    "ACTIVATION_FORMAT",
    "ALBERT_LYAPUNOV_FORMAT",
    "ALBERT_TRAJECTORY_FORMAT",
    "ATTENTION_FORMAT",
    "CAV_FORMAT",
    "COMBINED_FORMAT",
    "COMPARE_METHODS_FORMAT",
    "CORPUS_SEARCH_FORMAT",
    "DEPTH_PROBE_FORMAT",
    "DREAM_FORMAT",
    "DREAM_MLM_FORMAT",
    "FACTORIZE_FORMAT",
    "FILL_MASK_FORMAT",
    "FINAL_IS_BEST",
    "FORMATS",
    "INSPECT_FORMAT",
    "KNOWLEDGE_PROBE_FORMAT",
    "MLM_SAMPLING_FORMAT",
    "RECONSTRUCT_CHANGED_FORMAT",
    "RECONSTRUCT_FORMAT",
    "RECONSTRUCT_SHIFTED_FORMAT",
    "RESULTS_FILE",
    "SIMILAR_EMBEDDINGS_FORMAT",
    "SOFT_INPUT_FORMAT",
    "TOKEN_SEARCH_FORMAT",
    "TRAJECTORY_FORMAT",
    "Format",
    "ResultSource",
    "Results",
    "Row",
    "Summary",
    "finite_payload",
    "fsync_folder",
    "merge_rows",
    "open_results",
    "parse_format",
    "read_results",
    "remove_stale",
    "result_header",
    "upgrade_soft_input",
    "write_json_atomic",
    "write_text_atomic",
]
