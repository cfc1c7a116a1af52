"""Resume is the same experiment or nothing.

``--ckpt_path`` continues a run; it must not become a different one. Before any work the
checkpoint is read (``weights_only=True``: nothing in it is unpickled as code) and its experiment
class and every setting are compared with what the command line and config give; any difference
is one line naming the settings and both values. A setting whose value is an existing file (a
targets file, a CAV or activation file) is compared by content: ``RecordExperiment`` stores each
such file's sha256 in the checkpoint.

Settings that may differ on a resume (``MAY_DIFFER``) do not change which jobs run or what they
compute: the logging cadence, and ``num_iterations`` to extend a run. Trainer settings (devices,
strategy, precision of logging, callbacks) are not experiment settings and may always differ.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any

import pytorch_lightning as pl

from lightning_dream.checks import builtin
from lightning_dream.errors import ConfigError
from lightning_dream.strategies import check_checkpoint_processes

#: experiment settings a resumed run may change (documented in the README's "Resume" section)
MAY_DIFFER: frozenset[str] = frozenset({"num_iterations", "snapshot_every"})

#: Lightning's names for a checkpoint it finds itself; refused: they are found only after the run started
LIGHTNING_SHORTHANDS: frozenset[str] = frozenset({"last", "best", "hpc", "registry"})

#: where ``RecordExperiment`` writes in the checkpoint
RECORD_KEY = "lightning_dream"

#: what LightningCLI adds to the saved hyper-parameters; not settings
_CLI_KEYS = ("_class_path", "_instantiator")


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digests(settings: dict[str, Any]) -> dict[str, str]:
    """sha256 of every setting whose value names an existing file."""
    return {
        key: sha256_of(value)
        for key, value in settings.items()
        if isinstance(value, str) and value and Path(value).is_file()
    }


class RecordExperiment(pl.Callback):
    """Stores the experiment's class path and the sha256 of its file settings in every checkpoint."""

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        klass = type(pl_module)
        for key in ("hyper_parameters", "datamodule_hyper_parameters"):  # builtins: they load with weights_only
            if key in checkpoint:
                checkpoint[key] = plain(dict(checkpoint[key]))
        checkpoint[RECORD_KEY] = {
            "experiment": f"{klass.__module__}.{klass.__qualname__}",
            "file_sha256": file_digests(dict(pl_module.hparams)),
        }


def _damaged_entry(path: Path) -> str | None:
    """Why a zip-format checkpoint fails its own CRC-32 checks (torch.load does not check them), or None."""
    if not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        return f"the archive is damaged ({err})"
    return f"{bad} fails its checksum" if bad else None


def load_checkpoint(ckpt_path: str) -> dict:
    """The checkpoint as a dict, or a one-line ConfigError saying why it cannot be one of ours."""
    if "://" in ckpt_path:
        raise ConfigError(f"ckpt_path={ckpt_path} is a URL: download the checkpoint and give its file path")
    if ckpt_path in LIGHTNING_SHORTHANDS or ckpt_path.startswith("registry:"):
        raise ConfigError(
            f"ckpt_path={ckpt_path}: give the checkpoint's file path (e.g. .../checkpoints/last.ckpt), "
            "so its experiment and settings can be checked before resuming"
        )
    path = Path(ckpt_path)
    if not path.is_file():
        raise ConfigError(f"ckpt_path={ckpt_path}: no such file (give a checkpoint written by a run, *.ckpt)")
    import torch

    damaged = _damaged_entry(path)
    if damaged:
        raise ConfigError(f"ckpt_path={ckpt_path} is corrupted: {damaged} (copy the file again or use another)")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch reports truncation, garbage and flipped bytes in many ways
        reason = str(err).strip().splitlines()[0][:120] if str(err).strip() else type(err).__name__
        raise ConfigError(f"ckpt_path={ckpt_path} is not a readable checkpoint (truncated or corrupted: {reason})")
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("hyper_parameters"), dict):
        raise ConfigError(f"ckpt_path={ckpt_path} is not a lightning_dream checkpoint: it holds no experiment settings")
    return checkpoint


def plain(value: Any) -> Any:
    """Namespace/tuple/str-or-list spellings reduced to one comparable form of builtins (a typed
    argument's ``PositiveInt`` is an ``int``: checkpoints load with ``weights_only``)."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return builtin(value)


def _same(key: str, saved: Any, given: Any, saved_digests: dict[str, str]) -> bool:
    if plain(saved) == plain(given):
        return key not in saved_digests or not Path(str(given)).is_file() or sha256_of(given) == saved_digests[key]
    if isinstance(given, str) and Path(given).is_file():
        if key in saved_digests:
            return sha256_of(given) == saved_digests[key]
        return isinstance(saved, str) and Path(saved).is_file() and sha256_of(saved) == sha256_of(given)
    return False


def _show(key: str, value: Any, digests: dict[str, str]) -> str:
    text = repr(plain(value))
    return f"{text} (sha256 {digests[key][:12]})" if key in digests else text


def differences(
    saved: dict[str, Any], given: dict[str, Any], saved_digests: dict[str, str], prefix: str = ""
) -> list[str]:
    """``key: value in the checkpoint -> value given`` for every setting that may not differ and does;
    a setting that is itself a class with settings (a search method) is compared setting by setting
    (``method.start_temp``)."""
    missing = "(not set)"
    found = []
    for key in sorted((set(saved) | set(given)) - MAY_DIFFER - set(_CLI_KEYS)):
        old, new = saved.get(key, missing), given.get(key, missing)
        if isinstance(old, dict) and isinstance(new, dict) and "class_path" in old and "class_path" in new:
            nested = {"class_path": old["class_path"], **(old.get("init_args") or {})}
            found += differences(nested, {"class_path": new["class_path"], **(new.get("init_args") or {})}, {}, key)
            continue
        key = f"{prefix}.{key}" if prefix else key
        if not _same(key, old, new, saved_digests):
            new_digest = {key: sha256_of(new)} if isinstance(new, str) and Path(new).is_file() else {}
            found.append(
                f"{key} {_show(key, old, saved_digests)} in the checkpoint, {_show(key, new, new_digest)} given"
            )
    return found


def check_resume(
    ckpt_path: str, experiment: type | None, given: Any, given_data: Any = None, processes: int | None = None
) -> None:
    """Refuse (one line, ConfigError) a checkpoint that is unreadable or of another experiment or settings;
    ``given``/``given_data``: the init arguments of the model and of the data module (if any) as parsed;
    ``processes``: how many the run asks for (an experiment of independent jobs resumes on as many as
    wrote the checkpoint: each holds its own jobs)."""
    checkpoint = load_checkpoint(ckpt_path)
    if processes is not None and getattr(experiment, "independent_jobs", False):
        check_checkpoint_processes(checkpoint, processes, ckpt_path)
    saved = dict(checkpoint["hyper_parameters"])
    record = checkpoint.get(RECORD_KEY, {})
    saved_class = record.get("experiment") or saved.get("_class_path")
    if experiment is not None and saved_class and saved_class.rsplit(".", 1)[-1] != experiment.__name__:
        raise ConfigError(
            f"ckpt_path={ckpt_path} is a {saved_class.rsplit('.', 1)[-1]} checkpoint, not {experiment.__name__}: "
            "resume it with the experiment and settings that wrote it"
        )
    given = plain(given) or {}
    comparable = getattr(experiment, "comparable_settings", None)
    if comparable is not None:  # settings the experiment stores in another spelling (a method with its settings)
        saved, given = comparable(saved), comparable(given)
    found = differences(saved, given, record.get("file_sha256", {}))
    saved_data = checkpoint.get("datamodule_hyper_parameters")
    if isinstance(saved_data, dict) and given_data is not None:
        found += [f"data.{line}" for line in differences(dict(saved_data), plain(given_data) or {}, {})]
    if found:
        raise ConfigError(
            f"ckpt_path={ckpt_path} was written with other settings: {'; '.join(found)} "
            f"(only {', '.join(sorted(MAY_DIFFER))} and trainer settings may differ on resume)"
        )
