"""One command line for every experiment: ``lightning-dream`` = ``lightning`` = ``python -m lightning_dream``.

``fit``/``validate``/``test``/``predict`` go to LightningCLI (``--model Dream``, ``--config
configs/dream.yaml``); the commands in ``EXTRA_COMMANDS`` (reports, combining results, ...) are
plain typed functions turned into commands by jsonargparse.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

import pytorch_lightning as pl
from pytorch_lightning.cli import LightningCLI

from lightning_dream.errors import ConfigError

#: name -> "module:function" of a typed function; imported only when its command runs, so
#: ``tokenize`` or ``report`` start without loading every experiment.
EXTRA_COMMANDS: dict[str, str] = {
    "tokenize": "lightning_dream.commands.tokenize:tokenize",
    "report": "lightning_dream.report:report",
    "export-mlm-head": "lightning_dream.experiments.depth.mlm_readout:export_mlm_head",
    "build-cloze-probe": "lightning_dream.data.lama:build_cloze_probe",
    "export-pretrained": "lightning_dream.experiments.depth.masked_lm_pretraining:export_pretrained",
    "mlm-depth-sweep": "lightning_dream.experiments.depth.sweep:mlm_depth_sweep",
    "sentence-probe-sweep": "lightning_dream.experiments.depth.sentence_probe:sentence_probe_sweep",
    "combine-layers": "lightning_dream.commands.combine:combine_layers",
    "combine-magnitudes": "lightning_dream.commands.combine:combine_magnitudes",
    "export-activation": "lightning_dream.commands.export_activation:export_activation",
    "method-table": "lightning_dream.report.methods:method_table",
}


def extra_command(name: str) -> Callable:
    module, function = EXTRA_COMMANDS[name].split(":")
    return getattr(importlib.import_module(module), function)


#: the Trainer settings every config shares; a config writes only what differs (``default_root_dir``,
#: callbacks, a longer schedule). ``accelerator: auto`` takes a GPU where there is one; ``devices: 1``
#: keeps one process (``--trainer.devices N --trainer.strategy job_sharding`` shards jobs on purpose).
TRAINER_DEFAULTS: dict[str, object] = {
    "accelerator": "auto",
    "devices": 1,
    "max_epochs": 1,
    "log_every_n_steps": 10,
    "enable_model_summary": False,
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
    import lightning_dream.experiments  # noqa: F401  (registers the experiment classes)
    import lightning_dream.strategies  # noqa: F401  (registers the job_sharding strategy)

    return DreamCLI(
        pl.LightningModule,
        None,  # any LightningDataModule, optional: input-optimising experiments bring their own steps
        subclass_mode_model=True,
        trainer_defaults=dict(TRAINER_DEFAULTS),
        save_config_kwargs={"overwrite": True},
        args=args,
        run=run,
    )


def main(argv: list[str] | None = None) -> None:
    words = sys.argv[1:] if argv is None else argv
    try:
        if words and words[0] in EXTRA_COMMANDS:
            from jsonargparse import auto_cli

            auto_cli(extra_command(words[0]), args=[SHORT_OPTIONS.get(w, w) for w in words[1:]])
        else:
            lightning_cli(argv)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
