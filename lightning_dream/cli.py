"""One command line for every experiment: ``lightning-dream`` = ``lightning`` = ``python -m lightning_dream``.

``fit``/``validate``/``test``/``predict`` go to LightningCLI (``--model Dream``, ``--config
configs/dream.yaml``); the commands in ``EXTRA_COMMANDS`` (reports, combining results, ...) are
plain typed functions turned into commands by jsonargparse.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytorch_lightning as pl
from jsonargparse import auto_cli
from pytorch_lightning.cli import LightningCLI

import lightning_dream.experiments  # noqa: F401  (registers the experiment classes)
import lightning_dream.strategies  # noqa: F401  (registers the job_sharding strategy)
from lightning_dream.errors import ConfigError
from lightning_dream.tokenization import tokenize
from lightning_dream.report import report

#: name -> typed function; other modules add their commands here.
EXTRA_COMMANDS: dict[str, Callable] = {
    "tokenize": tokenize,
    "report": report,
}
#: short spellings of the extra commands' options (``report RUN_DIR -o out.html``)
SHORT_OPTIONS: dict[str, str] = {"-o": "--output"}


def lightning_cli(args: list[str] | None = None, run: bool = True) -> LightningCLI:
    return LightningCLI(
        pl.LightningModule,
        None,  # any LightningDataModule, optional: input-optimising experiments bring their own steps
        subclass_mode_model=True,
        save_config_kwargs={"overwrite": True},
        args=args,
        run=run,
    )


def main(argv: list[str] | None = None) -> None:
    words = sys.argv[1:] if argv is None else argv
    try:
        if words and words[0] in EXTRA_COMMANDS:
            auto_cli(EXTRA_COMMANDS[words[0]], args=[SHORT_OPTIONS.get(w, w) for w in words[1:]])
        else:
            lightning_cli(argv)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
