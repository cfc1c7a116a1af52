"""The LightningCLI behind ``fit``/``validate``/``test``/``predict``, with this project's habits:

- only the chosen experiment's module is imported (``cli.chosen_experiments``);
- an experiment under a command it has no step for is one line naming the commands it supports;
- no ``--optimizer``/``--lr_scheduler``: every experiment configures its own optimiser;
- ``--seed_everything N`` seeds the experiment (its ``seed`` argument, see ``_seed_experiment``);
- ``--ckpt_path`` resumes the same experiment or nothing (``resume.check_resume``), and never merges
  the checkpoint's settings over what the user typed;
- parser errors are one line (``parsing.OneLineErrors``); a constructor's ``ConfigError`` alone.
"""

from __future__ import annotations

import importlib
import inspect

import pytorch_lightning as pl
from pytorch_lightning.cli import LightningArgumentParser, LightningCLI

from lightning_dream.checks import builtin
from lightning_dream.errors import ConfigError, check_finite_settings
from lightning_dream.parsing import OneLineErrors
from lightning_dream.quiet import quiet_lightning
from lightning_dream.resume import RecordExperiment, check_resume
from lightning_dream.strategies import job_strategy, process_count

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

#: the step a class must define to run under each command
COMMAND_STEPS: dict[str, str] = {
    "fit": "training_step",
    "validate": "validation_step",
    "test": "test_step",
    "predict": "predict_step",
}

quiet_lightning()


def supported_commands(experiment: type) -> list[str]:
    """The commands an experiment class can run: those whose step it defines."""
    return [
        command
        for command, step in COMMAND_STEPS.items()
        if getattr(experiment, step, None) is not getattr(pl.LightningModule, step)
    ]


def _config_error_in(err: BaseException) -> ConfigError | None:
    while err is not None and not isinstance(err, ConfigError):
        err = err.__cause__ or err.__context__
    return err


def _signature_default(experiment: type, name: str) -> object:
    """The default of ``name`` in the experiment's ``__init__`` or a base's (``**kwargs`` passes it on)."""
    for klass in experiment.__mro__:
        parameter = inspect.signature(klass.__init__).parameters.get(name) if "__init__" in vars(klass) else None
        if parameter is not None and parameter.kind is not parameter.VAR_KEYWORD:
            return parameter.default
    return inspect.Parameter.empty


class DreamArgumentParser(OneLineErrors, LightningArgumentParser):
    pass


class DreamCLI(LightningCLI):
    def _parse_ckpt_path(self) -> None:
        """Replaces Lightning's merge of the checkpoint's settings: every check before any work."""
        if not self.config.get("subcommand"):
            return
        settings = self.config[self.config.subcommand]
        experiment = self._experiment_class(settings)
        if experiment is not None:
            self._check_command(experiment, self.config.subcommand)
            self._seed_experiment(experiment, settings)
        if settings.get("ckpt_path"):
            data = settings.get("data")
            data_args = data.get("init_args") if hasattr(data, "get") else None
            trainer = settings.trainer
            processes = process_count(trainer.devices, trainer.num_nodes)
            check_resume(str(settings.ckpt_path), experiment, settings.model.get("init_args"), data_args, processes)

    @staticmethod
    def _experiment_class(settings) -> type | None:
        class_path = settings.get("model", {}).get("class_path") if settings.get("model") else None
        if not class_path:
            return None
        module, name = class_path.rsplit(".", 1)
        return getattr(importlib.import_module(module), name)

    @staticmethod
    def _check_command(experiment: type, command: str) -> None:
        allowed = supported_commands(experiment)
        if command not in allowed:
            raise ConfigError(
                f"{experiment.__name__} does not run under '{command}': it supports {', '.join(allowed) or 'none'}"
            )

    @staticmethod
    def _seed_experiment(experiment: type, settings) -> None:
        """One seed: an experiment with a ``seed`` argument draws every random number from it, so
        ``--seed_everything N`` becomes that seed when it is left at its default, and a seed set on the
        experiment becomes ``seed_everything`` (the experiment's own setting wins)."""
        seed = settings.get("seed_everything")
        init_args = settings.model.get("init_args")
        if isinstance(seed, bool) or not isinstance(seed, int) or init_args is None or "seed" not in init_args:
            return
        if init_args.seed == _signature_default(experiment, "seed"):
            init_args.seed = seed
        else:
            settings.seed_everything = init_args.seed

    def before_instantiate_classes(self) -> None:
        """Every float of the parsed config is finite (NaN/inf refused) before anything is built, every
        number a builtin (``checks.builtin``: what the run keeps loads with ``weights_only``), and an
        experiment of independent jobs gets job sharding on several devices (``strategies.job_strategy``)."""
        settings = self.config[self.subcommand] if self.subcommand else self.config
        check_finite_settings(settings.as_dict())
        builtin(settings)
        experiment = self._experiment_class(settings)
        if getattr(experiment, "independent_jobs", False):
            trainer = settings.trainer
            trainer.strategy = job_strategy(experiment.__name__, trainer.strategy, trainer.devices, trainer.num_nodes)

    def instantiate_trainer(self, **kwargs) -> pl.Trainer:
        trainer = super().instantiate_trainer(**kwargs)
        trainer.callbacks.append(RecordExperiment())
        return trainer

    def instantiate_classes(self) -> None:
        """jsonargparse reports a constructor's error as one of many Union attempts; surface ours alone.
        An experiment that builds its inputs on first use (``check_inputs``: jobs, targets files) builds
        them here, so bad input is one line before the Trainer starts any process or work."""
        try:
            super().instantiate_classes()
        except Exception as err:
            found = _config_error_in(err)
            if found is None:
                raise
            raise found from None
        check_inputs = getattr(self.model, "check_inputs", None)
        if check_inputs is not None:
            check_inputs()


def build_cli(args: list[str] | None, run: bool, experiments: set[str] | None, prog: str) -> LightningCLI:
    """Register ``experiments`` (all when None) and the job_sharding strategy, then run LightningCLI."""
    import lightning_dream.experiments as registry
    import lightning_dream.strategies  # noqa: F401  (registers the job_sharding strategy)

    for name in sorted(experiments or registry.EXPERIMENTS):
        getattr(registry, name)  # imports the class's module: jsonargparse then knows ``--model NAME``
    return DreamCLI(
        pl.LightningModule,
        None,  # any LightningDataModule, optional: input-optimising experiments bring their own steps
        subclass_mode_model=True,
        parser_class=DreamArgumentParser,
        trainer_defaults=dict(TRAINER_DEFAULTS),
        save_config_kwargs={"overwrite": True},
        auto_configure_optimizers=False,
        parser_kwargs={"prog": prog},
        args=args,
        run=run,
    )
