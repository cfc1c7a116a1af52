"""The registries agree with each other and with the code: a new experiment, format, view or command
that is missing from one of them (or names something that does not exist) fails here.

- ``experiments.EXPERIMENTS``: class name -> the module that defines it;
- ``results.FORMATS``: every result format, its newest version, whether it is whole-run;
- ``report.views.VIEWS``: format kind -> the report's views of it;
- ``configs/*.yaml``: one shipped config at least per concrete experiment;
- ``cli.LIGHTNING_COMMANDS`` / ``cli.EXTRA_COMMANDS``: every command with its ``--help`` line.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

import lightning_dream
from lightning_dream.cli import EXTRA_COMMANDS, LIGHTNING_COMMANDS
from lightning_dream.experiments import EXPERIMENTS
from lightning_dream.report.views import VIEWS
from lightning_dream.results import FORMATS, parse_format
from lightning_dream.trainer_cli import COMMAND_STEPS
from tests.test_configs import CONFIGS, config_experiment


def experiment(name: str) -> type:
    return getattr(importlib.import_module(EXPERIMENTS[name]), name)


def is_abstract(name: str) -> bool:
    """An experiment base (``SoftInputExperiment``): defined in its family's ``base`` module, which
    holds what the family's experiments share (``lightning_dream.experiments``)."""
    return EXPERIMENTS[name].rsplit(".", 1)[-1] == "base"


def written_formats() -> dict[str, str]:
    """Experiment name -> the ``format`` of its results.json, for every experiment that writes one."""
    return {name: fmt for name in EXPERIMENTS if (fmt := getattr(experiment(name), "result_format", ""))}


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_experiment_is_defined_in_the_module_it_names(name):
    klass = getattr(importlib.import_module(EXPERIMENTS[name]), name, None)
    assert inspect.isclass(klass), f"{EXPERIMENTS[name]} has no class {name}"
    assert (klass.__module__, klass.__name__) == (EXPERIMENTS[name], name), f"{name} is defined in {klass.__module__}"


def test_abstract_bases_are_subclassed_by_an_experiment():
    bases = {name for name in EXPERIMENTS if is_abstract(name)}
    assert "SoftInputExperiment" in bases
    for name in bases:
        assert any(issubclass(experiment(other), experiment(name)) for other in set(EXPERIMENTS) - {name}), name


def test_every_concrete_experiment_has_a_shipped_config_and_every_config_names_one():
    configured = {config_experiment(config) for config in CONFIGS}  # fails on a config naming no experiment
    concrete = {name for name in EXPERIMENTS if not is_abstract(name)}
    assert concrete - configured == set(), "experiments without a config in configs/"
    assert configured <= concrete, "configs naming an abstract experiment"


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_result_format_is_registered_at_its_newest_version_and_has_a_view(name):
    fmt = written_formats().get(name)
    if fmt is None:
        pytest.skip(f"{name} writes no results.json")
    kind, _ = parse_format(fmt)
    assert kind in FORMATS and FORMATS[kind].tag == fmt, f"{name}: {fmt!r} is not a format of results.FORMATS"
    assert kind in VIEWS, f"{name}: the report has no view of {kind}"
    if experiment(name).result_rows is None:  # no rows at all: the report must not call it empty
        assert FORMATS[kind].whole_run, f"{name} writes no rows but {kind} is not whole_run"


def test_every_view_is_of_a_format_an_experiment_writes():
    written = {parse_format(fmt)[0] for fmt in written_formats().values()}
    assert set(VIEWS) - written == set(), "views of formats nothing writes"


def test_every_command_has_a_one_line_summary_and_its_target_imports():
    assert set(LIGHTNING_COMMANDS) == set(COMMAND_STEPS), "cli and trainer_cli disagree on the Lightning commands"
    summaries = {**LIGHTNING_COMMANDS, **{name: command.summary for name, command in EXTRA_COMMANDS.items()}}
    assert not set(LIGHTNING_COMMANDS) & set(EXTRA_COMMANDS)
    for name, summary in summaries.items():
        assert summary.strip() and "\n" not in summary, f"{name} has no one-line summary"
    for name, command in EXTRA_COMMANDS.items():
        module, _, function = command.target.partition(":")
        assert callable(getattr(importlib.import_module(module), function, None)), f"{name}: {command.target}"


def test_every_lazy_public_name_imports():
    for name in lightning_dream.__all__:
        assert getattr(lightning_dream, name) is not None, name
