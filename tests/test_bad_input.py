"""Bad input as a new user types it: one line and exit 2 before any model work, or the specific
outcome (issue 16). Other areas keep their own: assets (tests/test_assets.py), probe files
(tests/experiments/masked_lm/test_knowledge_probe.py), report pages (tests/report/test_report_inputs.py)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from lightning_dream import experiments
from lightning_dream.callbacks.results import ResultWriter
from lightning_dream.models.loading import load_tokenizer
from lightning_dream.results import ResultSource
from lightning_dream.tokenization import tokenize_sentence
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_weights():
    """Any weight loading fails the test: the errors must come first."""
    with mock.patch(
        "lightning_dream.experiments.soft_input.base.load_encoder", side_effect=AssertionError("weights loaded")
    ):
        yield


def dream(tmp_path, *args: str, yaml: str = ""):
    settings = tmp_path / "settings.yaml"
    settings.write_text(yaml or "{}\n")
    return run_cli("fit", "--config", str(ROOT / "configs/dream.yaml"), "--config", str(settings), *args)


def one_line_error(run) -> str:
    assert run.code == 2 and "Traceback" not in run.err, run.err[-2000:]
    return run.err.strip().splitlines()[-1]


@pytest.mark.parametrize("key", ["end_temp", "start_temp"])
def test_infinite_temperature_is_refused(tmp_path, no_weights, key):
    yaml = f"model:\n  init_args:\n    method:\n      init_args:\n        {key}: .inf\n"
    line = one_line_error(dream(tmp_path, yaml=yaml))
    assert line == f"error: model.method.{key}=inf is not a finite number: give a real value (no nan, inf, -inf)"


@pytest.mark.parametrize("typed", ["[CLS] [SEP]", "[PAD]"])
def test_special_tokens_typed_in_a_sentence_are_refused(tmp_path, no_weights, typed):
    line = one_line_error(dream(tmp_path, "--model.sentences", f'["the {typed} sat ."]'))
    assert line.startswith(f"error: sentence 'the {typed} sat .' contains {typed.replace(' ', ', ')}")
    assert "the model adds its own [CLS]/[SEP]" in line


def test_mask_and_unk_stay_ordinary_tokens():
    tok = load_tokenizer("minilm-l6")
    tokens = tok.convert_ids_to_tokens(tokenize_sentence(tok, "the [MASK] sat on [UNK] ."))
    assert tokens == ["[CLS]", "the", "[MASK]", "sat", "on", "[UNK]", ".", "[SEP]"]


def test_sentence_longer_than_the_model_is_refused_before_weights(tmp_path, no_weights):
    line = one_line_error(dream(tmp_path, "--model.sentences", json.dumps(["word " * 600])))
    assert line.endswith("is 602 tokens ([CLS]/[SEP] included): the model has 512 positions")


def test_sentence_of_control_characters_has_no_words(tmp_path, no_weights):
    line = one_line_error(dream(tmp_path, yaml='model:\n  init_args:\n    sentences: ["\\x01\\x02"]\n'))
    assert line == "error: sentence '\\x01\\x02' has no words after normalisation (only spaces or control characters)"


def test_stock_ddp_for_independent_jobs_is_refused(tmp_path, no_weights):
    line = one_line_error(dream(tmp_path, "--trainer.devices", "2", "--trainer.strategy", "ddp"))
    assert line == (
        "error: trainer.strategy=ddp cannot run Dream's independent jobs on several devices: "
        "leave it out (auto) or give job_sharding (job_sharding_spawn/_fork in notebooks)"
    )


def test_one_job_on_two_processes_with_the_default_strategy(tmp_path):
    """Job sharding is chosen by itself; the idle rank holds no job and joins the gathers."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    args = ["--model.sentences", '["i hate kickshaws ."]', "--model.neuron_ids", "[314]", "--model.layer_id", "1"]
    args += ["--model.num_iterations", "3", "--model.method.warmup", "0", "--trainer.log_every_n_steps", "1"]
    args += ["--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.default_root_dir", str(tmp_path)]
    args += ["--trainer.enable_progress_bar", "false", "--trainer.callbacks", "[]"]
    done = subprocess.run(
        [sys.executable, "-m", "lightning_dream", "fit", "--config", str(ROOT / "configs/dream.yaml"), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(next(tmp_path.rglob("results.json")).read_text())
    assert results["trainer"]["world_size"] == 2 and [job["job"] for job in results["jobs"]] == [0]


class StubRun(ResultSource):
    """What ResultWriter reads of an experiment, with undefined values wherever they can be."""

    hparams = {"end_temp": math.inf}

    def job_results(self):
        return {0: {"activation": math.nan, "snapshots": [{"temperature": math.inf}]}}

    def result_fields(self, rows):
        return {"exponent": -math.inf}

    def print(self, *args):
        pass


RESULT_SOURCES = [cls for cls in vars(experiments).values() if isinstance(cls, type) and issubclass(cls, ResultSource)]


@pytest.mark.parametrize("experiment", RESULT_SOURCES, ids=lambda cls: cls.__name__)
def test_results_are_strict_json(tmp_path, experiment):
    """Every experiment's results go through ResultWriter, which writes with ``allow_nan=False``."""
    stub = type(experiment.__name__, (StubRun,), {"result_format": experiment.result_format})()
    trainer = mock.Mock(log_dir=str(tmp_path), is_global_zero=True, world_size=1, global_step=3, logger=None)
    with pytest.warns(UserWarning, match="non-finite"):
        (path,) = ResultWriter().write(trainer, stub)

    def refuse(constant):
        raise AssertionError(f"{constant} in {experiment.__name__}'s results")

    payload = json.loads(path.read_text(), parse_constant=refuse)
    assert payload["experiment"] == experiment.__name__ and payload["exponent"] is None
    assert payload["jobs"][0]["activation"] is None and payload["jobs"][0]["activation_undefined"]
