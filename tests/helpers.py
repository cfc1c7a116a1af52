"""Helpers shared by the tests: short real-model runs through a Trainer, the command line in-process."""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from unittest import mock

import pytorch_lightning as pl


def quick_trainer(root, **overrides) -> pl.Trainer:
    """A CPU trainer for short real-model runs: one epoch, no progress bar, results under root."""
    settings = dict(
        accelerator="cpu",
        devices=1,
        max_epochs=1,
        default_root_dir=str(root),
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    settings.update(overrides)
    return pl.Trainer(**settings)


def quick_predict(module: pl.LightningModule, root, **overrides) -> pl.Trainer:
    """``trainer.predict`` of a read-only experiment (no logger, no progress bar); returns the trainer."""
    trainer = quick_trainer(root, **overrides)
    trainer.predict(module)
    return trainer


@dataclass
class CliRun:
    code: int
    out: str
    err: str


def run_cli(*args: str) -> CliRun:
    """``lightning-dream ARGS`` in this process (the console script on PATH may belong to another checkout)."""
    from lightning_dream.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), mock.patch.object(sys, "argv", ["lightning-dream"]):
        try:
            main(list(args))
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    return CliRun(code, out.getvalue(), err.getvalue())


def parse_cli(*args: str):
    """``run_cli`` that stops after every check LightningCLI makes before building anything;
    returns the run and the parsed config of the subcommand (None when it stopped earlier)."""
    from lightning_dream.trainer_cli import DreamCLI

    seen = {}

    def stop(cli):
        seen["config"] = cli.config[cli.subcommand]
        raise SystemExit(0)

    with mock.patch.object(DreamCLI, "before_instantiate_classes", stop):
        done = run_cli(*args)
    return done, seen.get("config")


def cli_error(*args: str) -> str:
    """The one line a bad command line ends with (exit 2, nothing else on stderr)."""
    done = run_cli(*args)
    assert done.code == 2, done.err[-2000:]
    (line,) = done.err.strip().splitlines()
    return line
