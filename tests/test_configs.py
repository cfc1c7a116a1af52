"""Every shipped config parses against its class (``--print_config``) without loading a model."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import pytorch_lightning as pl
import transformers
import yaml

import lightning_dream.experiments as experiments
from lightning_dream.cli import chosen_experiments
from lightning_dream.results import read_results
from lightning_dream.trainer_cli import supported_commands
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


def config_experiment(config: Path) -> str:
    """The experiment class a shipped config names (``model.class_path``), as the CLI reads it."""
    (name,) = chosen_experiments(["--config", str(config)]) or [None]
    assert name is not None, f"{config.name} names no experiment of lightning_dream.experiments.EXPERIMENTS"
    return name


@functools.cache
def command(config: Path) -> str:
    """The command a config runs under: the first its experiment has a step for (fit before predict)."""
    allowed = supported_commands(getattr(experiments, config_experiment(config)))
    assert allowed, f"{config.name}: {config_experiment(config)} runs under no command"
    return allowed[0]


def commands_in_header(config: Path) -> set[str]:
    """The commands a config's header comment says it runs under (``lightning-dream predict --config
    configs/<this>.yaml``, ``Runs with `lightning-dream predict```)."""
    header = "".join(line for line in config.read_text().splitlines(keepends=True) if line.startswith("#"))
    own = rf"lightning-dream (\w+) --config configs/{re.escape(config.name)}|Runs with `lightning-dream (\w+)`"
    return {first or second for first, second in re.findall(own, header)}


def contains(printed, written) -> bool:
    """Everything the config file writes is in the printed (resolved) config, with the same value."""
    if isinstance(written, dict):
        return isinstance(printed, dict) and all(k in printed and contains(printed[k], v) for k, v in written.items())
    if isinstance(written, list):
        return isinstance(printed, list) and len(printed) == len(written) and all(map(contains, printed, written))
    return printed == written


def pins_cpu(node) -> bool:
    if isinstance(node, dict):
        return any((k == "accelerator" and v == "cpu") or pins_cpu(v) for k, v in node.items())
    return isinstance(node, list) and any(map(pins_cpu, node))


@pytest.fixture
def no_model_work(monkeypatch) -> list[str]:
    """Records (and refuses) every model, tokenizer, experiment, data module or Trainer construction."""
    calls: list[str] = []

    def refuse(what: str):
        def refused(*args, **kwargs):
            calls.append(what)
            raise AssertionError(f"{what} called while only parsing a config")

        return refused

    for cls in (
        transformers.AutoConfig,
        transformers.AutoTokenizer,
        transformers.AutoModel,
        transformers.AutoModelForMaskedLM,
        transformers.PreTrainedModel,
        transformers.PreTrainedTokenizerBase,
    ):
        monkeypatch.setattr(cls, "from_pretrained", refuse(f"{cls.__name__}.from_pretrained"))

    for cls in (pl.LightningModule, pl.LightningDataModule, pl.Trainer):
        original = cls.__init__

        @functools.wraps(original)
        def recorded(self, *args, __original=original, __name=cls.__name__, **kwargs):
            calls.append(f"{__name}.__init__ ({type(self).__name__})")
            return __original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", recorded)
    return calls


def test_every_config_has_its_command():
    assert CONFIGS, "no configs found"
    assert {command(c) for c in CONFIGS} == {"fit", "predict"}  # both kinds are shipped, each found as such
    for config in CONFIGS:
        assert commands_in_header(config) <= {command(config)}, f"{config.name}: its header names another command"


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.name)
def test_config_parses_against_its_class(config, no_model_work):
    done = run_cli(command(config), "--config", str(config), "--print_config")
    assert done.code == 0, done.err[-2000:]
    assert no_model_work == []
    printed, written = yaml.safe_load(done.out), yaml.safe_load(config.read_text())
    assert contains(printed, written), f"{config.name}: printed config differs from the file:\n{done.out}"
    trainer = printed["trainer"]
    assert trainer["accelerator"] == "auto"
    assert trainer["devices"] == 1 and trainer["num_nodes"] == 1 and trainer["strategy"] == "auto"
    assert trainer["default_root_dir"].startswith("runs/")


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.name)
def test_no_config_pins_the_cpu(config):
    assert not pins_cpu(yaml.safe_load(config.read_text()))


@pytest.mark.parametrize(
    ("config", "key", "typo"),
    [("dream.yaml", "num_iterations", "num_iteration"), ("depth_probe.yaml", "fix_encoder", "fix_encodr")],
)
def test_config_typo_is_exit_2_naming_the_key(tmp_path, no_model_work, config, key, typo):
    source = ROOT / "configs" / config
    text = source.read_text()
    assert f"{key}:" in text
    bad = tmp_path / config
    bad.write_text(text.replace(f"{key}:", f"{typo}:"))
    done = run_cli(command(source), "--config", str(bad), "--print_config")
    assert done.code == 2
    assert f"'{typo}' is not accepted" in done.err
    assert no_model_work == []


def quick_try(config: str, tmp_path) -> dict:
    """Run a quick-try config as a user would (the command line), results under tmp_path."""
    done = run_cli("fit", "--config", str(ROOT / "configs" / config), "--trainer.default_root_dir", str(tmp_path))
    assert done.code == 0, done.err[-2000:]
    assert "results: " in done.out
    return read_results(next(tmp_path.rglob("results.json")))


def test_dream_quick_try_raises_its_neuron_visibly(tmp_path):
    result = quick_try("dream_quick.yaml", tmp_path)
    job = result["jobs"][0]
    assert result["complete"] is True
    assert job["start_activation"] > 0 and job["final_activation"] >= 1.1 * job["start_activation"]
    assert job["final_sentence"] != job["start_sentence"]


def test_reconstruct_quick_try_recovers_most_tokens_at_layer_1(tmp_path):
    result = quick_try("reconstruct_quick.yaml", tmp_path)
    layer_1 = [row for row in result["summary"] if row["layer_id"] == 1]
    assert layer_1 and layer_1[0]["token_recovery"] > 0.5
