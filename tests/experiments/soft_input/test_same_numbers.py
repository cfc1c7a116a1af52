"""A correct run's numbers do not change when the code is reorganised: short runs of the shipped
quick configs and of each search method end with the tokens, activations and pass counts that the
code before search methods owned their settings (commit aca728f, 2026-12-04) gave for the same runs
(``same_numbers.json``; the arguments there are today's spelling of the same settings)."""

import json
from pathlib import Path

import pytest

from lightning_dream.results import read_results
from tests.helpers import run_cli

RECORDED = json.loads((Path(__file__).parent / "same_numbers.json").read_text())
TOKENS = ("start_tokens", "final_tokens", "last_tokens")
VALUES = ("start_activation", "final_activation", "last_activation")


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_runs_end_where_they_ended_before(tmp_path, name):
    recorded = RECORDED[name]
    quiet = ["--trainer.logger", "false", "--trainer.enable_progress_bar", "false"]
    run = run_cli(*recorded["args"], "--trainer.default_root_dir", str(tmp_path), *quiet)
    assert run.code == 0, run.err
    jobs = read_results(tmp_path / "results.json")["jobs"]
    assert len(jobs) == len(recorded["jobs"])
    for job, before in zip(jobs, recorded["jobs"]):
        assert [job[field] for field in TOKENS] == [before[field] for field in TOKENS]
        assert [job[field] for field in VALUES] == pytest.approx([before[field] for field in VALUES], abs=1e-5)
        assert job["passes"] == before["passes"]
        if "front_size" in before:
            assert len(job["front"]) == before["front_size"]
