"""The search-method table: median final/start, the share of runs 5% above their start, passes."""

import json

import pytest

from lightning_dream.errors import ConfigError
from lightning_dream.report.blocks import LinePlot
from lightning_dream.report.methods import activation_vs_passes, fluent_gain_on_front, method_table
from lightning_dream.results import COMPARE_METHODS_FORMAT, DREAM_FORMAT


def run_dir(path, pairs):
    jobs = [
        {
            "job": i,
            "start_activation": start,
            "final_activation": best,
            "last_activation": best,
            "start_change": 1,
            "end_change": 4,
            "word_id": 2,
            "passes": 30.0,
            "snapshots": [
                {"passes": 0.0, "snapped_activation": start},
                {"passes": 30.0, "snapped_activation": best},
            ],
        }
        for i, (start, best) in enumerate(pairs)
    ]
    path.mkdir()
    (path / "results.json").write_text(json.dumps({"format": DREAM_FORMAT, "jobs": jobs}))
    return f"{path.name}={path}"


def test_table_counts_only_runs_clearly_above_their_start(tmp_path, capsys):
    keep = run_dir(tmp_path / "keep", [(1.0, 1.0), (2.0, 2.02), (1.0, 1.2)])
    beat = run_dir(tmp_path / "beat", [(1.0, 1.5), (2.0, 4.0), (1.0, 1.1)])
    rows = method_table([keep, beat], figure=str(tmp_path / "f.png"))
    assert [r["median_final_over_start_sentence"] for r in rows] == [1.01, 1.5]
    assert [r["share_5pct_above_start_sentence"] for r in rows] == [pytest.approx(1 / 3, abs=1e-3), 1.0]
    assert [r["median_final_over_start_word"] for r in rows] == [None, None]  # whole-sentence jobs: no word row
    assert (tmp_path / "f.png").stat().st_size > 0
    assert "beat" in capsys.readouterr().out


def test_curve_is_the_median_best_so_far_over_jobs(tmp_path):
    jobs = [{"start_activation": 1.0, "snapshots": [{"passes": 0, "snapped_activation": v} for v in (1.0, 3.0, 2.0)]}]
    plot = activation_vs_passes({"m": jobs}, "t")
    assert isinstance(plot, LinePlot) and plot.series[0].y == [1.0, 3.0, 3.0]


def test_curve_ends_at_the_final_result_after_all_passes():
    job = {"start_activation": 2.0, "final_activation": 3.0, "passes": 400.0}
    job["snapshots"] = [{"passes": 385.0, "snapped_activation": 2.0}]  # one snapshot: no line without the end
    plot = activation_vs_passes({"epo": [job]}, "t")
    assert plot.series[0].x == [385.0, 400.0] and plot.series[0].y == [1.0, 1.5]


def test_a_run_without_a_name_is_one_line():
    with pytest.raises(ConfigError, match="NAME=RUN_DIR per method .* or one CompareMethods run folder"):
        method_table(["runs/x"])


def test_a_front_counts_when_a_point_reads_as_well_as_the_start_and_is_5pct_above_it():
    job = {"start_activation": 2.0, "start_fluency": -1.0, "front": [{"activation": 2.5, "fluency": -1.5}]}
    job["front"].append({"activation": 2.05, "fluency": -0.5})  # fluent enough, 2.5% up only
    assert not fluent_gain_on_front(job)
    job["front"].append({"activation": 2.1, "fluency": -1.0})
    assert fluent_gain_on_front(job)


def test_one_comparison_run_gives_its_table_and_one_picture(tmp_path, capsys):
    def job(method, span, final, front=None):
        row = {
            "method": method,
            "span": span,
            "start_activation": 1.0,
            "final_activation": final,
            "last_activation": 0.5,
            "start_fluency": -1.0,
            "final_fluency": -2.0,
            "passes": 30.0,
            "wall_seconds": 1.0,
            "exhaustive_best": 2.0 if span == "word" else None,
            "snapshots": [{"passes": 0.0, "snapped_activation": 1.0}, {"passes": 30.0, "snapped_activation": final}],
        }
        return row if front is None else {**row, "front": front}

    fluent = [{"activation": 1.5, "fluency": -2.0}, {"activation": 1.1, "fluency": -0.5}]
    jobs = [job("gcg", "word", 2.0), job("gcg", "sentence", 1.5), job("epo", "sentence", 1.5, fluent)]
    jobs.append(job("epo", "word", 1.5, fluent[:1]))
    jobs = [{"job": i, **row} for i, row in enumerate(jobs)]
    (tmp_path / "results.json").write_text(json.dumps({"format": COMPARE_METHODS_FORMAT, "jobs": jobs}))
    rows = method_table([str(tmp_path)], figure=str(tmp_path / "compare.png"))
    assert [r["method"] for r in rows] == ["gcg", "epo"]
    assert [r["share_word_reaching_exhaustive"] for r in rows] == [1.0, 0.0]
    assert [r["share_front_fluent_5pct_above_start"] for r in rows] == [None, 0.5]
    assert [r["median_last_over_start_sentence"] for r in rows] == [0.5, 0.5]  # the last step's, beside the best
    assert (tmp_path / "compare.png").stat().st_size > 0
    assert "share_front_fluent_5pct_above_start: 0.5" in capsys.readouterr().out
