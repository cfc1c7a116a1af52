"""Every shipped config parses against its class (``--print_config``) without loading a model."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import pytorch_lightning as pl
import transformers
import yaml

from lightning_dream.results import read_results
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))

#: the command each config runs under (as its header comment says)
FIT = {
    "cav",
    "compare_methods",
    "dream",
    "depth_probe",
    "depth_probe_stsb",
    "dream_epo",
    "dream_gcg",
    "dream_mlm",
    "dream_quick",
    "masked_lm_pretraining",
    "mlm_depth_probe",
    "mlm_readout",
    "reconstruct",
    "reconstruct_changed",
    "reconstruct_quick",
    "reconstruct_shifted",
}
PREDICT = {
    "corpus_search",
    "factorize_activations",
    "fill_mask",
    "knowledge_probe",
    "lyapunov",
    "mlm_sampling",
    "sentence_attention",
    "similar_embeddings",
    "token_search",
    "trajectory",
}
EXTRA: dict[str, str] = {}  # configs run by an extra command


def command(config: Path) -> str:
    return EXTRA.get(config.stem) or ("predict" if config.stem in PREDICT else "fit")


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
    assert {c.stem for c in CONFIGS} == FIT | PREDICT | set(EXTRA), "add the new config to FIT, PREDICT or EXTRA"


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.name)
def test_config_parses_against_its_class(config, no_model_work):
    done = run_cli(command(config), "--config", str(config), "--print_config")
    assert done.code == 0, done.err[-2000:]
    assert no_model_work == []
    printed, written = yaml.safe_load(done.out), yaml.safe_load(config.read_text())
    assert contains(printed, written), f"{config.name}: printed config differs from the file:\n{done.out}"
    if config.stem not in EXTRA:
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
