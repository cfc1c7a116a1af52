"""The command line as a researcher types it."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lightning_dream.cli import EXTRA_COMMANDS, LIGHTNING_COMMANDS
from tests.helpers import parse_cli, run_cli

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
        "--model.method.warmup",
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


DREAM = str(ROOT / "configs/dream.yaml")


def test_help_lists_every_command_on_one_line():
    done = run_cli("--help")
    assert done.code == 0
    for command in (*LIGHTNING_COMMANDS, *EXTRA_COMMANDS):
        (line,) = [line for line in done.out.splitlines() if line.split()[:1] == [command]]
        assert len(line.split()) > 2, f"{command} has no summary"


def test_version():
    from lightning_dream import __version__

    done = run_cli("--version")
    assert done.code == 0 and done.out.strip() == f"lightning_dream {__version__}"


def test_report_help_shows_short_output_option():
    done = run_cli("report", "--help")
    assert done.code == 0 and "-o OUTPUT, --output OUTPUT" in done.out


NO_TRAINING = [["--help"], ["--version"], ["report", "--help"], ["tokenize", "--help"], ["combine-layers", "--help"]]
NO_TRAINING += [["combine-magnitudes", "--help"], ["export-activation", "--help"]]


def imported_modules(*commands: list[str]) -> list[set[str]]:
    """Run the commands one after another in one fresh interpreter as ``python -m lightning_dream``;
    the modules loaded after each (cumulative: a module first loaded by command k shows from k on)."""
    script = (
        "import runpy, sys\n"
        f"for words in {list(commands)!r}:\n"
        "    sys.argv = ['lightning_dream', *words]\n"
        "    try:\n        runpy.run_module('lightning_dream', run_name='__main__')\n"
        "    except SystemExit:\n        pass\n"
        "    print('MODULES', ' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env={**ENV, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return [set(line.split()[1:]) for line in done.stdout.splitlines() if line.startswith("MODULES")]


def test_commands_that_do_not_train_import_no_lightning_nor_model_code():
    for command, modules in zip(NO_TRAINING, imported_modules(*NO_TRAINING), strict=True):
        assert not {m for m in modules if m.startswith(("pytorch_lightning", "lightning_fabric"))}, command
        model_code = {m for m in modules if m.startswith("transformers.models.") and ".modeling_" in m}
        assert model_code <= {"transformers.models.auto.modeling_auto"}, (command, model_code)  # the lazy name map
        assert not {m for m in modules if m.startswith("lightning_dream.experiments.") and m.count(".") > 2}, command


def test_python_m_names_itself():
    done = run("--help", cwd=ROOT)
    assert done.returncode == 0 and done.stdout.startswith("usage: python -m lightning_dream COMMAND")
    assert "__main__.py" not in done.stdout


def test_lightning_command_imports_only_its_experiment():
    spellings = [["--model", "Dream"], ["--config", DREAM], ["--model.class_path", "lightning_dream.experiments.Dream"]]
    (modules,) = imported_modules(*[["fit", *words, "--print_config"] for words in spellings])[-1:]
    experiments = {m for m in modules if m.startswith("lightning_dream.experiments.") and m.count(".") > 2}
    assert "lightning_dream.experiments.soft_input.dream" in experiments
    assert {m.split(".")[2] for m in experiments} == {"soft_input"}


@pytest.mark.parametrize(
    ("command", "config", "allowed"),
    [
        ("predict", "dream.yaml", "fit"),
        ("validate", "dream.yaml", "fit"),
        ("fit", "sentence_attention.yaml", "predict"),
    ],
)
def test_wrong_subcommand_is_one_line_naming_the_supported_ones(command, config, allowed):
    done = run_cli(command, "--config", str(ROOT / "configs" / config))
    assert done.code == 2, done.err[-2000:]
    (line,) = done.err.strip().splitlines()
    assert line.startswith("error: ") and f"does not run under '{command}': it supports {allowed}" in line


def test_optimizer_options_are_not_offered():
    done = run_cli("fit", "--model", "Dream", "--help")
    assert done.code == 0 and "--trainer.max_steps" in done.out
    assert not [line for line in done.out.splitlines() if line.strip().startswith(("--optimizer", "--lr_scheduler"))]
    refused = run_cli("fit", "--config", DREAM, "--optimizer", "SGD")
    assert refused.code == 2 and refused.err.strip() == "error: unrecognized arguments: --optimizer SGD (see --help)"


def test_seed_everything_seeds_the_experiment():
    _, first = parse_cli("fit", "--config", DREAM, "--seed_everything", "1")
    _, second = parse_cli("fit", "--config", DREAM, "--seed_everything", "2")
    assert (first.model.init_args.seed, second.model.init_args.seed) == (1, 2)


def test_experiment_seed_wins_and_becomes_seed_everything():
    _, config = parse_cli("fit", "--config", DREAM, "--model.seed", "5")
    assert config.model.init_args.seed == 5 and config.seed_everything == 5


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        (["--model.layer_id", "abc"], "error: model.layer_id: expected int, got abc"),
        (["--trainer.max_steps", "x"], "error: trainer.max_steps: expected int, got x"),
        (
            ["--model.target", "nope"],
            "error: model.target: expected typing.Literal['neuron', 'word', 'layer'], got nope",
        ),
    ],
)
def test_parser_error_is_one_line_naming_the_key(extra, line):
    done = run_cli("fit", "--config", DREAM, *extra)
    assert done.code == 2 and done.err.strip() == line


def test_unknown_key_is_one_line_listing_the_accepted_ones(tmp_path):
    typo = tmp_path / "typo.yaml"
    typo.write_text("model:\n  init_args:\n    nueron_ids: [1]\n")
    done = run_cli("fit", "--config", DREAM, "--config", str(typo))
    (line,) = done.err.strip().splitlines()
    assert done.code == 2 and line.startswith("error: model: Option 'nueron_ids' is not accepted; Dream accepts: ")
    assert "neuron_ids" in line.split("accepts: ")[1].split(", ")


def test_yaml_syntax_error_is_one_line_naming_the_file(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("model: [\n")
    done = run_cli("fit", "--config", DREAM, "--config", str(broken))
    (line,) = done.err.strip().splitlines()
    assert done.code == 2 and line.startswith(f"error: {broken}: not valid YAML") and "line 2, column 1" in line


def test_json_escaped_emoji_on_the_command_line_is_one_sentence():
    done = run_cli("fit", "--model", "Dream", "--model.sentences", '["the \\ud83d\\ude42 sat ."]', "--print_config")
    assert done.code == 0, done.err[-2000:]
    assert yaml.safe_load(done.out)["model"]["init_args"]["sentences"] == ["the \U0001f642 sat ."]


def test_json_escaped_emoji_in_a_yaml_config_is_the_emoji(tmp_path):
    config = tmp_path / "emoji.yaml"
    config.write_text('model:\n  init_args:\n    sentences: ["the \\ud83d\\ude42 sat ."]\n')
    done = run_cli("fit", "--config", DREAM, "--config", str(config), "--print_config")
    assert yaml.safe_load(done.out)["model"]["init_args"]["sentences"] == ["the \U0001f642 sat ."]


def test_unknown_command_is_one_line():
    done = run_cli("fitt")
    assert done.code == 2 and done.err.startswith("error: unknown command 'fitt': allowed fit, validate, test, predict")
