"""Bad and partial input: a clear message naming what is missing, and a report of what is there."""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import pytest

from lightning_dream.cli import main
from lightning_dream.errors import ConfigError
from lightning_dream.report import render_report, report


def copy_with(run: Path, folder: Path, change) -> Path:
    """A copy of a real run whose result file was edited by ``change(payload)``."""
    shutil.copytree(run, folder)
    payload = json.loads((folder / "results.json").read_text())
    change(payload)
    (folder / "results.json").write_text(json.dumps(payload))
    return folder


def test_missing_and_empty_folders_are_named(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        report(str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="holds no results.json and no run folders"):
        report(str(tmp_path))


def test_unfinished_run_says_what_it_holds_and_how_to_resume(tmp_path):
    run = tmp_path / "version_0"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.ckpt").write_bytes(b"")
    (run / "hparams.yaml").write_text("{}")
    (run / ".results.json.abc123").write_text("{")
    with pytest.raises(ConfigError) as err:
        report(str(tmp_path))
    message = str(err.value)
    assert "has no results.json: the run did not finish" in message
    assert "checkpoints (last.ckpt)" in message and "half-written" in message and "--ckpt_path" in message


def test_truncated_result_file_is_called_partially_written(dream_run, tmp_path):
    shutil.copytree(dream_run, tmp_path / "run")
    text = (tmp_path / "run" / "results.json").read_text()
    (tmp_path / "run" / "results.json").write_text(text[: len(text) // 2])
    with pytest.raises(ConfigError, match="not valid JSON \\(partially written\\?\\)"):
        report(str(tmp_path / "run"))


def test_unknown_experiment_gets_a_page_naming_its_format(dream_run, tmp_path):
    run = copy_with(dream_run, tmp_path / "run", lambda p: p.update(format="lightning_dream.telepathy/1"))
    page, _ = render_report(run)
    assert 'data-view="unknown"' in page and "lightning_dream.telepathy/1" in page
    assert 'data-view="dream-process"' not in page


def test_older_dream_results_show_the_process_and_say_why_annealing_is_missing(dream_run, tmp_path):
    def older(payload):  # dream/1: no softmax_top; best_* was the best snapped input, final_* the last step's
        payload["format"] = "lightning_dream.dream/1"
        for job in payload["jobs"]:
            for snapshot in job["snapshots"]:
                del snapshot["softmax_top"]
            for field in ("sentence", "tokens", "activation"):
                job[f"best_{field}"] = job.pop(f"final_{field}")
                job[f"final_{field}"] = job.pop(f"last_{field}")

    page, _ = render_report(copy_with(dream_run, tmp_path / "run", older))
    assert 'data-view="dream-process"' in page and "cannot show this view" not in page
    assert "its best_* is shown as final_*" in page
    annealing = page[page.index('data-view="annealing"') :]
    assert "lightning_dream.dream/1 keep no softmax top tokens" in annealing[:600]


def test_newer_format_is_flagged_and_still_shown(dream_run, tmp_path):
    page, _ = render_report(
        copy_with(dream_run, tmp_path / "run", lambda p: p.update(format="lightning_dream.dream/9"))
    )
    assert "newer than this report understands" in page and 'data-view="dream-process"' in page


def test_job_missing_its_snapshots_is_named_and_the_rest_is_shown(dream_run, tmp_path):
    page, _ = render_report(copy_with(dream_run, tmp_path / "run", lambda p: p["jobs"][0].pop("snapshots")))
    assert "job 0 lacks snapshots" in page
    assert 'data-view="dream-overview"' not in page  # one job: no overview
    assert 'data-view="annealing"' in page


def test_folder_with_one_bad_run_reports_the_good_ones(dream_run, attention_run, tmp_path):
    shutil.copytree(dream_run, tmp_path / "runs" / "good")
    shutil.copytree(attention_run, tmp_path / "runs" / "bad")
    (tmp_path / "runs" / "bad" / "results.json").write_text('{"jobs": []}')
    page = html.unescape(Path(report(str(tmp_path / "runs"))).read_text())
    assert page.count('class="index-row"') == 2
    assert "has no 'format' field" in page and 'data-view="dream-process"' in page


def test_combined_layers_file_is_shown_as_its_experiment(dream_run, tmp_path):
    payload = json.loads((dream_run / "results.json").read_text())
    combined = {
        "format": "lightning_dream.combined/1",
        "result_format": payload["format"],
        "groups": {"2": payload["jobs"]},
    }
    (tmp_path / "combined_layers.json").write_text(json.dumps(combined))
    page, runs = render_report(tmp_path / "combined_layers.json")
    assert len(runs) == 1 and 'data-view="dream-process"' in page


def test_cli_writes_the_page_and_says_bad_input_in_one_line(dream_run, tmp_path, capsys):
    main(["report", str(dream_run), "-o", str(tmp_path / "out.html")])
    assert (tmp_path / "out.html").read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path / "empty")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "does not exist" in err and "\n" not in err


@pytest.mark.parametrize(
    "change, found",
    [
        (lambda p: p["jobs"][0].update(final_activation="high"), "ValueError"),  # a string activation
        (lambda p: p.update(jobs=[3, 4]), "AttributeError"),  # integer jobs
    ],
)
def test_malformed_fields_are_a_note_on_the_page(dream_run, tmp_path, change, found):
    folder = copy_with(dream_run, tmp_path / "run", change)
    page = Path(report(str(folder))).read_text()
    assert f"cannot show this view: {found}" in html.unescape(page)


def test_tied_tail_of_softmax_weights_becomes_one_entry():
    from lightning_dream.report.common import with_ties

    rest = 1 - 0.9 - 0.05 - 3 * 1e-5
    names, weights = with_ties(["a", "b", "[PAD]", "[unused0]", "[unused1]"], [0.9, 0.05, 1e-5, 1e-5, 1e-5])
    assert names[:2] == ["a", "b"] and weights == [0.9, 0.05, 1e-5]
    assert names[2] == f"1e-05 × ~{3 + round(rest / 1e-5):,} tied tokens"
    assert with_ties(["a", "b", "c"], [0.5, 0.3, 0.2]) == (["a", "b", "c"], [0.5, 0.3, 0.2])
    assert with_ties(["a", "[PAD]", "[unused0]"], [1.0, 0.0, 0.0]) == (["a", "≈0 · every other token"], [1.0, 0.0])
