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
from lightning_dream.combine import combine_layers, combine_magnitudes, export_activation
from lightning_dream.errors import ConfigError
from lightning_dream.tokenization import tokenize
from lightning_dream.data.lama import build_cloze_probe
from lightning_dream.experiments.mlm_readout import export_mlm_head
from lightning_dream.experiments.depth_sweep import mlm_depth_sweep
from lightning_dream.experiments.pretrain import export_pretrained
from lightning_dream.experiments.sentence_probe import sentence_probe_sweep
from lightning_dream.report import report

#: name -> typed function; other modules add their commands here.
EXTRA_COMMANDS: dict[str, Callable] = {
    "tokenize": tokenize,
    "report": report,
    "export-mlm-head": export_mlm_head,
    "build-cloze-probe": build_cloze_probe,
    "export-pretrained": export_pretrained,
    "mlm-depth-sweep": mlm_depth_sweep,
    "sentence-probe-sweep": sentence_probe_sweep,
    "combine-layers": combine_layers,
    "combine-magnitudes": combine_magnitudes,
    "export-activation": export_activation,
}
#: short spellings of the extra commands' options (``report RUN_DIR -o out.html``)
SHORT_OPTIONS: dict[str, str] = {"-o": "--output"}


def _config_error_in(err: BaseException) -> ConfigError | None:
    while err is not None and not isinstance(err, ConfigError):
        err = err.__cause__ or err.__context__
    return err


class DreamCLI(LightningCLI):
    def instantiate_classes(self) -> None:
        """jsonargparse reports a constructor's error as one of many Union attempts; surface ours alone."""
        try:
            super().instantiate_classes()
        except Exception as err:
            found = _config_error_in(err)
            if found is None:
                raise
            raise found from None


def lightning_cli(args: list[str] | None = None, run: bool = True) -> LightningCLI:
    return DreamCLI(
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
