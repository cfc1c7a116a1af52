"""The worked examples of docs/extending.md run as written: each fenced block whose first line names a
file (``# random_swaps.py``) is written to that file on ``sys.path``; the method and the experiment
run through the command line, the target kind through a Trainer; the registry diffs still match."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import yaml

from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "extending.md"
#: the page's own modules: written fresh per test, so forget any imported earlier
MODULES = ("random_swaps", "cls_norm", "dream_direction")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


def named_files() -> dict[str, str]:
    """File name -> text of every python/yaml block whose first line is ``# <name>.py|yaml``."""
    files = {}
    for block in blocks("python") + blocks("yaml"):
        match = re.match(r"# (\w+\.(?:py|yaml))\n", block)
        if match:
            files[match.group(1)] = block
    return files


@pytest.fixture
def page(tmp_path, monkeypatch) -> Iterator[Path]:
    """The page's files written under tmp_path/page, importable; returns that folder."""
    folder = tmp_path / "page"
    folder.mkdir()
    for name, text in named_files().items():
        (folder / name).write_text(text)
    monkeypatch.syspath_prepend(str(folder))
    for module in MODULES:
        monkeypatch.delitem(sys.modules, module, raising=False)
    yield folder
    for module in MODULES:  # no later import finds this test's files (jsonargparse's caches still hold the classes)
        sys.modules.pop(module, None)


def test_page_names_its_files():
    assert set(named_files()) == {"random_swaps.py", "cls_norm.py", "cls_norm.yaml", "dream_direction.py"}


def test_search_method_runs_by_import_path(page, tmp_path):
    from random_swaps import RandomSwaps

    (fragment,) = [yaml.safe_load(b) for b in blocks("yaml") if "method" in yaml.safe_load(b)]
    spec = fragment["method"]
    assert spec["class_path"] == "random_swaps.RandomSwaps"
    steps = 5
    done = run_cli(
        "fit",
        "--config",
        str(ROOT / "configs" / "dream_quick.yaml"),
        "--model.method",
        json.dumps(spec),
        "--model.num_iterations",
        str(steps),
        "--trainer.default_root_dir",
        str(tmp_path / "run"),
        "--trainer.logger",
        "false",
        "--trainer.enable_progress_bar",
        "false",
    )
    assert done.code == 0, done.err[-3000:]
    payload = json.loads((tmp_path / "run" / "results.json").read_text())
    assert payload["config"]["method"]["init_args"] == spec["init_args"]
    (job,) = payload["jobs"]
    method = RandomSwaps(**spec["init_args"])
    assert job["method"] == RandomSwaps.name == "random_swaps"
    assert job["passes"] == steps * method.step_cost()  # every step runs the swaps and the current tokens
    # kept when better: the last step's tokens are the best seen, and no step's value falls
    assert job["last_activation"] == job["final_activation"] >= job["start_activation"]
    seen = [s["snapped_activation"] for s in job["snapshots"]]
    assert seen == sorted(seen)


def test_experiment_runs_from_its_config(page, tmp_path):
    config = page / "cls_norm.yaml"
    settings = yaml.safe_load(config.read_text())
    assert settings["model"]["class_path"] == "cls_norm.ClsNorm"
    run = tmp_path / "run"
    done = run_cli(
        "predict", "--config", str(config), "--trainer.default_root_dir", str(run), "--trainer.logger", "false"
    )
    assert done.code == 0, done.err[-3000:]
    payload = json.loads((run / "results.json").read_text())
    assert payload["format"] == "my_experiments.cls_norm/1"
    assert payload["experiment"] == "ClsNorm" and payload["complete"]
    sentences = settings["model"]["init_args"]["sentences"]
    layer = settings["model"]["init_args"]["layer"]
    assert [job["sentence"] for job in payload["jobs"]] == sentences
    assert "ClsNorm: [CLS] norm at layer 3" in done.out  # the summary table
    # each norm is a fresh forward's, at the layer asked for (not the last one)
    from lightning_dream.models.loading import load_encoder, load_tokenizer

    encoder, tokenizer = load_encoder("minilm-l6"), load_tokenizer("minilm-l6")
    for job in payload["jobs"]:
        ids = torch.tensor([tokenizer.convert_tokens_to_ids(job["tokens"])])
        with torch.no_grad():
            hidden = encoder(input_ids=ids, output_hidden_states=True).hidden_states
        assert job["layer"] == layer
        assert job["cls_norm"] == pytest.approx(float(hidden[layer][0, 0].norm()), abs=1e-4)
        assert job["cls_norm"] != pytest.approx(float(hidden[-1][0, 0].norm()), abs=1e-3)


def test_target_kind_reports_the_dot_product(page, tmp_path, monkeypatch):
    (usage,) = [b for b in blocks("python") if "from dream_direction import" in b]
    monkeypatch.chdir(tmp_path)  # the example writes under runs/
    namespace: dict = {}
    exec(compile(usage, str(DOC), "exec"), namespace)
    dream = namespace["dream"]
    (job,) = json.loads((tmp_path / "runs" / "direction" / "results.json").read_text())["jobs"]
    assert job["direction_seed"] == 0 and job["word_id"] == 2 and job["neuron_id"] is None
    target = dream.jobs[0].target
    direction = torch.tensor(target.direction)
    assert direction.shape == (dream.config.hidden_size,)
    assert float(direction.norm()) == pytest.approx(1.0, abs=1e-5)
    for stage in ("start", "final", "last"):
        ids = torch.tensor([dream.tokenizer.convert_tokens_to_ids(job[f"{stage}_tokens"])])
        with torch.no_grad():
            hidden = dream.readout.hidden_states(torch.ones_like(ids), target.layer, input_ids=ids)
        expected = float(hidden[target.layer, 0, target.position] @ direction)
        assert job[f"{stage}_activation"] == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("block", blocks("diff"), ids=lambda b: b.splitlines()[1].removeprefix("+++ b/"))
def test_registry_diffs_match_the_source(block):
    """A registry diff's unchanged and removed lines are lines of the file it names."""
    lines = block.splitlines()
    source = (ROOT / lines[1].removeprefix("+++ b/")).read_text().splitlines()
    kept = [line[1:] for line in lines[2:] if line[:1] in (" ", "-")]
    assert kept and all(line in source for line in kept), [line for line in kept if line not in source]
