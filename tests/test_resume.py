"""Resume is the same experiment or nothing: ``--ckpt_path`` is checked before any work."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lightning_dream.resume import RECORD_KEY, differences, load_checkpoint, plain, sha256_of
from tests.helpers import parse_cli, run_cli

ROOT = Path(__file__).resolve().parents[1]
DREAM = str(ROOT / "configs/dream.yaml")


def write_checkpoint(path: Path, experiment: str, settings: dict, digests: dict | None = None) -> str:
    """A checkpoint as a CLI run writes it (settings, LightningCLI's keys, our record), without weights."""
    hyper_parameters = {"_class_path": f"lightning_dream.experiments.{experiment}", **plain(settings)}
    hyper_parameters["_instantiator"] = "pytorch_lightning.cli.instantiate_module"
    record = {"experiment": f"lightning_dream.experiments.{experiment}", "file_sha256": digests or {}}
    torch.save({"state_dict": {}, "hyper_parameters": hyper_parameters, RECORD_KEY: record}, path)
    return str(path)


@pytest.fixture(scope="module")
def dream_settings() -> dict:
    done, config = parse_cli("fit", "--config", DREAM)
    assert done.code == 0, done.err
    return config.model.init_args.as_dict()


@pytest.fixture
def dream_checkpoint(tmp_path, dream_settings) -> str:
    return write_checkpoint(tmp_path / "last.ckpt", "Dream", dream_settings)


def test_same_settings_resume(dream_checkpoint):
    done, config = parse_cli("fit", "--config", DREAM, "--ckpt_path", dream_checkpoint)
    assert done.code == 0, done.err
    assert config is not None


def test_extending_the_run_and_logging_cadence_may_differ(dream_checkpoint):
    done, _ = parse_cli(
        "fit", "--config", DREAM, "--model.num_iterations", "6000",
        "--trainer.log_every_n_steps", "1", "--ckpt_path", dream_checkpoint,
    )  # fmt: skip
    assert done.code == 0, done.err


#: every setting that shapes Dream's jobs, with a value the config does not have
JOB_SHAPING = [
    ("model", "splade-tiny"),
    ("sentences", '["a dog ran ."]'),
    ("layer_id", "3"),
    ("neuron_ids", "[314]"),
    ("word_id", "1"),
    ("target", "word"),
    ("reduction", "norm"),
    ("normalize", "true"),
    ("start_change", "2"),
    ("end_change", "2"),
    ("seed", "7"),
    ("method.start_temp", "3.0"),
    ("method.end_temp", "0.5"),
    ("method.schedule", "linear"),
    ("method.warmup", "10"),
    ("method.lr", "0.5"),
    ("method.optimizer", "sgd"),
    ("init", "uniform"),
    ("confidence", "0.5"),
    ("method.gumbel", "true"),
]


def setting(settings: dict, key: str):
    """A setting by its dotted name: ``method.lr`` is the method's own."""
    head, _, rest = key.partition(".")
    return settings[head]["init_args"][rest] if rest else settings[head]


@pytest.mark.parametrize(("key", "value"), JOB_SHAPING, ids=[k for k, _ in JOB_SHAPING])
def test_resume_with_another_job_setting_is_refused(dream_checkpoint, dream_settings, key, value):
    done = run_cli("fit", "--config", DREAM, f"--model.{key}", value, "--ckpt_path", dream_checkpoint)
    assert done.code == 2, done.err[-2000:]
    line = done.err.strip().splitlines()[-1]
    assert line.startswith(f"error: ckpt_path={dream_checkpoint} was written with other settings: {key} ")
    assert f"{key} {setting(dream_settings, key)!r} in the checkpoint" in line
    assert "Traceback" not in done.err


def test_checkpoint_of_another_experiment_is_refused(tmp_path, dream_settings):
    other = write_checkpoint(tmp_path / "reconstruct.ckpt", "Reconstruct", dream_settings)
    done = run_cli("fit", "--config", DREAM, "--ckpt_path", other)
    assert done.code == 2
    assert done.err.strip().splitlines()[-1] == (
        f"error: ckpt_path={other} is a Reconstruct checkpoint, not Dream: "
        "resume it with the experiment and settings that wrote it"
    )


def corrupt(kind: str, good: Path, tmp_path: Path) -> str:
    data = good.read_bytes()
    bad = tmp_path / f"{kind}.ckpt"
    if kind == "missing":
        return str(tmp_path / "nowhere.ckpt")
    if kind == "url":
        return "https://example.org/last.ckpt"
    if kind == "last":
        return "last"
    if kind == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif kind == "garbage":
        bad.write_bytes(b"not a checkpoint\n" * 100)
    elif kind == "flipped":
        flipped = bytearray(data)
        flipped[len(data) // 3] ^= 0xFF
        bad.write_bytes(bytes(flipped))
    elif kind == "foreign":
        torch.save({"weights": torch.zeros(3)}, bad)
    return str(bad)


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("missing", "no such file"),
        ("last", "give the checkpoint's file path"),
        ("url", "is a URL: download the checkpoint and give its file path"),
        ("truncated", "is "),
        ("garbage", "is not a readable checkpoint"),
        ("flipped", "is corrupted: "),
        ("foreign", "is not a lightning_dream checkpoint"),
    ],
)
def test_unusable_checkpoint_is_one_line(tmp_path, kind, says):
    good = tmp_path / "good.ckpt"
    torch.save({"state_dict": {"w": torch.arange(4096.0)}, "hyper_parameters": {"seed": 0}}, good)
    path = corrupt(kind, good, tmp_path)
    done = run_cli("fit", "--config", DREAM, "--ckpt_path", path)
    assert done.code == 2, done.err[-2000:]
    line = done.err.strip().splitlines()[-1]
    assert line.startswith(f"error: ckpt_path={path}") and says in line
    assert "Traceback" not in done.err


def test_flipped_byte_in_weights_is_caught(tmp_path):
    """torch.load does not check the archive's CRC-32s: a flipped weight would load silently."""
    path = tmp_path / "weights.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(100_000)}, "hyper_parameters": {"seed": 0}}, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # inside the tensor's bytes
    path.write_bytes(bytes(data))
    with pytest.raises(Exception, match="fails its checksum"):
        load_checkpoint(str(path))


def test_file_settings_compare_by_content(tmp_path):
    first, moved = tmp_path / "targets.pt", tmp_path / "moved" / "targets.pt"
    first.write_bytes(b"activations v1")
    moved.parent.mkdir()
    moved.write_bytes(b"activations v1")
    saved = {"change_activation_file": str(first)}
    digests = {"change_activation_file": sha256_of(first)}
    assert differences(saved, {"change_activation_file": str(moved)}, digests) == []  # same content, new path
    first.write_bytes(b"activations v2")  # same path, changed content
    (found,) = differences(saved, {"change_activation_file": str(first)}, digests)
    assert found.startswith("change_activation_file ") and digests["change_activation_file"][:12] in found


@pytest.mark.slow
def test_real_run_resumes_with_its_own_settings_and_refuses_others(tmp_path):
    common = [
        "fit", "--config", DREAM, "--model.num_iterations", "2", "--model.method.warmup", "0",
        "--trainer.default_root_dir", str(tmp_path), "--trainer.enable_progress_bar", "false",
    ]  # fmt: skip
    assert run_cli(*common).code == 0
    checkpoint = str(tmp_path / "lightning_logs/version_0/checkpoints/last.ckpt")
    refused = run_cli(*common, "--model.layer_id", "3", "--ckpt_path", checkpoint)
    assert refused.code == 2 and "layer_id 5 in the checkpoint, 3 given" in refused.err
    done, _ = parse_cli(*common, "--ckpt_path", checkpoint)
    assert done.code == 0, done.err[-2000:]


def test_resume_with_other_data_settings_is_refused(tmp_path):
    cav = str(ROOT / "configs/cav.yaml")
    done, config = parse_cli("fit", "--config", cav)
    assert done.code == 0, done.err[-2000:]
    checkpoint = write_checkpoint(tmp_path / "cav.ckpt", "CAV", config.model.init_args.as_dict())
    saved = torch.load(checkpoint, weights_only=True)
    saved["datamodule_hyper_parameters"] = plain(config.data.init_args.as_dict())
    torch.save(saved, checkpoint)
    assert parse_cli("fit", "--config", cav, "--ckpt_path", checkpoint)[0].code == 0
    done = run_cli("fit", "--config", cav, "--data.max_per_concept", "100", "--ckpt_path", checkpoint)
    assert done.code == 2
    assert "data.max_per_concept 400 in the checkpoint, 100 given" in done.err.strip().splitlines()[-1]


@pytest.mark.parametrize("devices, allowed", [("2", True), ("1", False), ("3", False)])
def test_a_job_sharded_checkpoint_resumes_on_as_many_processes_as_wrote_it(dream_checkpoint, devices, allowed):
    from lightning_dream.strategies import SHARDS_KEY

    saved = torch.load(dream_checkpoint, weights_only=True)
    torch.save({**saved, SHARDS_KEY: [{"state_dict": {}}]}, dream_checkpoint)  # rank 1's state beside rank 0's
    args = ["fit", "--config", DREAM, "--trainer.devices", devices, "--ckpt_path", dream_checkpoint]
    if allowed:
        done, _ = parse_cli(*args)
        assert done.code == 0, done.err
        return
    done = run_cli(*args)
    assert done.code == 2
    assert done.err.strip() == (
        f"error: ckpt_path={dream_checkpoint} holds the jobs of 2 process(es), each its own share: "
        f"resume it on 2 (--trainer.devices 2), not {devices}"
    )
