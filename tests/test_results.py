"""Result files: strict JSON however a payload ends, rows from every process once and in order."""

import json
import warnings

import pytest

from lightning_dream.errors import ConfigError
from lightning_dream.results import DREAM_FORMAT, RECONSTRUCT_FORMAT, merge_rows, read_results, write_json_atomic


def test_non_finite_values_are_written_as_null_with_a_reason(tmp_path):
    payload = {
        "format": "lightning_dream.test/1",
        "maximal_exponent": float("nan"),
        "distance": None,
        "distance_undefined": "one input",  # the experiment's own reason is kept
        "per_input": [0.5, float("inf")],
        "rows": [{"correlation": float("-inf")}],
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = write_json_atomic(tmp_path / "results.json", payload)
    json.loads(path.read_text(), parse_constant=lambda name: pytest.fail(f"{name} in a result file"))
    result = read_results(path)
    assert result["maximal_exponent"] is None and "not a finite number (nan)" in result["maximal_exponent_undefined"]
    assert result["distance_undefined"] == "one input"
    assert result["per_input"] == [0.5, None] and "1 non-finite" in result["per_input_undefined"]
    assert result["rows"][0] == {"correlation": None, "correlation_undefined": "not a finite number (-inf)"}
    assert any("3 non-finite" in str(w.message) for w in caught)


def test_rows_of_two_processes_come_back_in_index_order_each_once():
    assert merge_rows([{0: {"a": 0}, 1: {"a": 1}}, {3: {"a": 3}, 2: {"a": 2}}]) == [{"a": i} for i in range(4)]
    with pytest.raises(RuntimeError, match="row 1 was produced by two processes"):
        merge_rows([{0: {}, 1: {}}, {1: {}}])


def test_a_killed_write_leaves_nothing_behind_after_the_next(tmp_path):
    from lightning_dream.results import write_text_atomic

    (tmp_path / ".results.json.k1ll3d").write_text('{"half": ')  # a write killed before its rename
    write_text_atomic(tmp_path / "results.json", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_results_opens_a_folder_of_runs_at_its_newest_run_and_reads_rows_as_attributes(tmp_path):
    import os

    from lightning_dream import Results

    old, new = tmp_path / "lightning_logs" / "version_0", tmp_path / "lightning_logs" / "version_1"
    for folder, sentence in ((old, "old"), (new, "new")):
        write_json_atomic(folder / "results.json", {"format": DREAM_FORMAT, "jobs": [{"final_sentence": sentence}]})
    os.utime(old / "results.json", (1, 1))
    results = Results.open(tmp_path)
    assert results.path == new / "results.json"
    assert results.rows[0].final_sentence == "new" and results.rows[0]["final_sentence"] == "new"
    assert results.complete  # a file without the field: written before it existed, by a finished run
    with pytest.raises(AttributeError, match="final_sentence"):
        results.rows[0].start_sentence
    with pytest.raises(ConfigError):
        Results.open(tmp_path / "lightning_logs" / "version_2")


def test_an_older_soft_input_file_reads_with_final_as_its_best_and_last_as_its_last_step(tmp_path):
    """dream/2 wrote best_* (the best snapped input) and final_* (the last step's): read as /3."""
    old = {"job": 0, "final_activation": 0.5, "final_tokens": ["a"], "best_activation": 2.0, "best_fluency": 1.0}
    write_json_atomic(tmp_path / "results.json", {"format": "lightning_dream.dream/2", "jobs": [old]})
    result = read_results(tmp_path, DREAM_FORMAT)
    assert result["upgraded_from"] == "lightning_dream.dream/2"
    job = result["jobs"][0]
    assert (job["final_activation"], job["last_activation"], job["last_tokens"]) == (2.0, 0.5, ["a"])
    assert job["final_fluency"] == 1.0 and not any(key.startswith("best_") for key in job)
    summary = [{"layer_id": 1, "token_recovery": 1.0, "final_token_recovery": 0.5}]
    write_json_atomic(
        tmp_path / "results.json",
        {"format": "lightning_dream.reconstruct/1", "summary": summary, "jobs": [{**old, "distance": 0.1}]},
    )
    result = read_results(tmp_path, RECONSTRUCT_FORMAT)
    assert result["summary"][0]["last_token_recovery"] == 0.5 and result["jobs"][0]["distance"] == 0.1


def test_a_run_past_its_max_time_is_incomplete_and_only_lightnings_timer_says_so():
    from datetime import timedelta
    from types import SimpleNamespace

    from pytorch_lightning.callbacks import Timer

    from lightning_dream.results import ResultSource

    class OwnTimer:  # a user's callback that happens to share the name
        def time_remaining(self) -> float:
            return 0.0

    OwnTimer.__name__ = "Timer"
    done = SimpleNamespace(current=SimpleNamespace(processed=1))
    loop = SimpleNamespace(max_epochs=1, epoch_progress=done)

    def trainer(*callbacks):
        return SimpleNamespace(
            interrupted=False, training=True, max_steps=-1, global_step=3, callbacks=callbacks, fit_loop=loop
        )

    assert not ResultSource().run_complete(trainer(Timer(duration=timedelta(0))))
    assert ResultSource().run_complete(trainer(Timer(duration=timedelta(days=1))))
    assert ResultSource().run_complete(trainer(OwnTimer()))
