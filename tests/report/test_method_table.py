"""The search-method table: median final/start, the share of runs 5% above their start, passes."""

import json

import pytest

from lightning_dream.errors import ConfigError
from lightning_dream.report.blocks import LinePlot
from lightning_dream.report.methods import activation_vs_passes, method_table
from lightning_dream.results import DREAM_FORMAT


def run_dir(path, pairs):
    jobs = [
        {
            "job": i,
            "start_activation": start,
            "final_activation": best,
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
    assert [r["median_final_over_start"] for r in rows] == [1.01, 1.5]
    assert [r["share_5pct_above_start"] for r in rows] == [pytest.approx(1 / 3, abs=1e-3), 1.0]
    assert (tmp_path / "f.png").stat().st_size > 0
    assert "beat" in capsys.readouterr().out


def test_curve_is_the_median_best_so_far_over_jobs(tmp_path):
    jobs = [{"start_activation": 1.0, "snapshots": [{"passes": 0, "snapped_activation": v} for v in (1.0, 3.0, 2.0)]}]
    plot = activation_vs_passes({"m": jobs}, "t")
    assert isinstance(plot, LinePlot) and plot.series[0].y == [1.0, 3.0, 3.0]


def test_a_run_without_a_name_is_one_line():
    with pytest.raises(ConfigError, match="NAME=RUN_DIR"):
        method_table(["runs/x"])
