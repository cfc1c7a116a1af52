"""The command line as a researcher types it."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lightning_dream", *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=600
    )


def test_dream_config_runs_end_to_end_and_writes_results(tmp_path):
    done = run(
        "fit",
        "--config",
        str(ROOT / "configs/dream.yaml"),
        "--model.num_iterations",
        "4",
        "--model.warmup",
        "0",
        "--trainer.default_root_dir",
        str(tmp_path),
        "--trainer.enable_progress_bar",
        "false",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    run_dir = tmp_path / "lightning_logs" / "version_0"
    results = json.loads((run_dir / "results.json").read_text())
    assert results["experiment"] == "Dream" and len(results["jobs"]) == 4
    assert (run_dir / "config.yaml").is_file() and (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert list(run_dir.glob("events.out.tfevents.*"))


def test_bad_value_is_one_line_before_any_model_work(tmp_path):
    done = run("fit", "--config", str(ROOT / "configs/dream.yaml"), "--model.layer_id", "9", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == "error: layer_id=9 is out of range: allowed 0..6"
    assert "Traceback" not in done.stderr


def test_config_typo_names_the_key(tmp_path):
    typo = tmp_path / "typo.yaml"
    typo.write_text("model:\n  init_args:\n    nueron_ids: [1]\n")
    done = run("fit", "--config", str(ROOT / "configs/dream.yaml"), "--config", str(typo), cwd=tmp_path)
    assert done.returncode != 0 and "'nueron_ids' is not accepted" in done.stderr


@pytest.mark.parametrize("command", ["lightning-dream", "lightning"])
def test_console_scripts_are_the_same_cli(command):
    exe = shutil.which(command)
    if exe is None:
        pytest.skip(f"{command} is not on PATH (package not installed with pip install -e .)")
    done = subprocess.run([exe, "fit", "--help"], env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "--model" in done.stdout and "--trainer.strategy" in done.stdout
