"""One command line for every experiment: ``lightning-dream`` = ``lightning`` = ``python -m lightning_dream``.

``fit``/``validate``/``test``/``predict`` go to LightningCLI (``--model Dream``, ``--config
configs/dream.yaml``; built in ``trainer_cli``); the commands in ``EXTRA_COMMANDS`` (reports,
combining results, ...) are plain typed functions turned into commands by jsonargparse.

This module imports neither Lightning nor any experiment: ``--help``, ``--version``, ``report`` and
``tokenize`` start in a fraction of ``import torch``, and a Lightning command imports only the
experiment it runs (``chosen_experiments``).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from lightning_dream.errors import ConfigError


class ExtraCommand(NamedTuple):
    """A command that is a plain typed function: where it lives and its line in ``--help``."""

    #: "module:function", imported only when the command runs (``tokenize`` or ``report`` start
    #: without loading every experiment)
    target: str
    summary: str


#: the Lightning commands, each with its line in ``--help`` (LightningCLI builds them: ``trainer_cli``)
LIGHTNING_COMMANDS: dict[str, str] = {
    "fit": "optimise: soft-input experiments (Dream, Reconstruct, ...), probes, readouts, pretraining",
    "validate": "evaluate a trained probe or readout (CAV, MLMReadout, DepthProbe, ...)",
    "test": "run an experiment's test step",
    "predict": "read-only experiments: fill-mask, knowledge probe, token/corpus search, attention, ...",
}

#: every other command: name -> its function and its line in ``--help`` (so the help imports no command)
EXTRA_COMMANDS: dict[str, ExtraCommand] = {
    "tokenize": ExtraCommand(
        "lightning_dream.commands.tokenize:tokenize",
        "print the tokens, ids and word-piece boundaries of a sentence",
    ),
    "report": ExtraCommand(
        "lightning_dream.report:report",
        "write one HTML page with every view the results under a run folder support",
    ),
    "export-mlm-head": ExtraCommand(
        "lightning_dream.experiments.depth.mlm_readout:export_mlm_head",
        "store the head of an MLMReadout checkpoint alone (safetensors + config.json)",
    ),
    "build-cloze-probe": ExtraCommand(
        "lightning_dream.data.lama:build_cloze_probe",
        "write a LAMA-format cloze probe from held-out corpus sentences",
    ),
    "export-pretrained": ExtraCommand(
        "lightning_dream.experiments.depth.masked_lm_pretraining:export_pretrained",
        "write a pretraining checkpoint as a Hugging Face folder",
    ),
    "combine-layers": ExtraCommand(
        "lightning_dream.commands.combine:combine_layers",
        "fuse the result subfolders of a folder into one file grouped by layer",
    ),
    "combine-magnitudes": ExtraCommand(
        "lightning_dream.commands.combine:combine_magnitudes",
        "fuse shifted-reconstruction runs into one file grouped by magnitude",
    ),
    "export-activation": ExtraCommand(
        "lightning_dream.commands.export_activation:export_activation",
        "write a word's vector at every layer of a sentence (for ReconstructChanged)",
    ),
    "method-table": ExtraCommand(
        "lightning_dream.report.methods:method_table",
        "compare search-method runs on the same targets: a table and activation-vs-passes figure",
    ),
}


def extra_command(name: str) -> Callable:
    """The function behind the extra command ``name`` (imports its module)."""
    module, function = EXTRA_COMMANDS[name].target.split(":")
    return getattr(importlib.import_module(module), function)


#: short spellings of the extra commands' options (``report RUN_DIR -o out.html``)
SHORT_OPTIONS: dict[str, str] = {"-o": "--output"}


def program_name() -> str:
    """How the user started us: ``lightning-dream``, ``lightning`` or ``python -m lightning_dream``."""
    launched = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    if launched in ("", "__main__.py", "-c", "-m") or launched.endswith(".py"):
        return "python -m lightning_dream"
    return launched


def version() -> str:
    from lightning_dream import __version__

    return __version__


def top_level_help(prog: str) -> str:
    """The top-level ``--help``: every command on one line with its summary."""
    width = max(map(len, (*LIGHTNING_COMMANDS, *EXTRA_COMMANDS))) + 2
    lines = [
        f"usage: {prog} COMMAND [options]    ({prog} COMMAND --help for a command's options)",
        "",
        "Look inside BERT-style language models by optimising their inputs.",
        "",
        "Lightning commands (--model NAME or --config FILE picks the experiment):",
        *(f"  {name:<{width}}{summary}" for name, summary in LIGHTNING_COMMANDS.items()),
        "",
        "Other commands:",
        *(f"  {name:<{width}}{command.summary}" for name, command in EXTRA_COMMANDS.items()),
        "",
        "Options:",
        f"  {'-h, --help':<{width}}show this help and exit",
        f"  {'--version':<{width}}print the version and exit",
    ]
    return "\n".join(lines)


def _model_names(value: object) -> set[str]:
    """Experiment names in a ``model`` value: ``Dream``, a class path, or ``{class_path: ...}``."""
    if isinstance(value, str):
        return {value.rsplit(".", 1)[-1]}
    if isinstance(value, dict) and isinstance(value.get("class_path"), str):
        return {value["class_path"].rsplit(".", 1)[-1]}
    return set()


def _models_in_config(text_or_path: str) -> set[str]:
    import yaml

    try:
        path = Path(text_or_path)
        data = yaml.safe_load(path.read_text() if path.is_file() else text_or_path)
    except (OSError, ValueError, yaml.YAMLError):
        return set()
    if not isinstance(data, dict):
        return set()
    found = _model_names(data.get("model"))
    for command in LIGHTNING_COMMANDS:  # a config may nest under its subcommand
        if isinstance(data.get(command), dict):
            found |= _model_names(data[command].get("model"))
    return found


def chosen_experiments(words: list[str]) -> set[str] | None:
    """The experiment classes a Lightning command names (``--model``, ``--model.class_path``, ``--config``),
    or None when it names none we know (``fit --help``, a user's own class): then all are registered."""
    from lightning_dream.experiments import EXPERIMENTS

    found: set[str] = set()
    for i, word in enumerate(words):
        key, equals, value = word.partition("=")
        if not equals:
            value = words[i + 1] if i + 1 < len(words) else ""
        if key in ("--model", "--model.class_path"):
            config_like = Path(value).is_file() or value.lstrip().startswith("{")
            found |= _models_in_config(value) if config_like else _model_names(value)
        elif key in ("-c", "--config"):
            found |= _models_in_config(value)
    found = {name for name in found if name}
    return found if found and found <= set(EXPERIMENTS) else None


def lightning_cli(args: list[str] | None = None, run: bool = True):
    """The LightningCLI of the experiment(s) ``args`` names (see ``trainer_cli``)."""
    from lightning_dream.trainer_cli import build_cli

    words = sys.argv[1:] if args is None else args
    return build_cli(args, run=run, experiments=chosen_experiments(words), prog=program_name())


def run_extra_command(name: str, words: list[str], prog: str) -> None:
    from jsonargparse import auto_cli

    from lightning_dream.parsing import CommandParser, with_short_options

    auto_cli(
        extra_command(name),
        args=words,
        parser_class=with_short_options(CommandParser, SHORT_OPTIONS),
        prog=f"{prog} {name}",
    )


def main(argv: list[str] | None = None) -> None:
    words = sys.argv[1:] if argv is None else argv
    prog = program_name()
    try:
        if not words or words[0] in ("-h", "--help"):
            print(top_level_help(prog))
            if not words:
                raise SystemExit(2)
        elif words[0] == "--version":
            print(f"lightning_dream {version()}")
        elif words[0] in EXTRA_COMMANDS:
            run_extra_command(words[0], words[1:], prog)
        elif words[0] in LIGHTNING_COMMANDS or words[0].startswith("-"):
            lightning_cli(argv)
        else:
            raise ConfigError(
                f"unknown command {words[0]!r}: allowed {', '.join((*LIGHTNING_COMMANDS, *EXTRA_COMMANDS))}"
            )
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
