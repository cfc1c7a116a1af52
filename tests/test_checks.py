"""Restricted number types: the annotation is the check, from Python (``check_arguments``) and the CLI."""

from __future__ import annotations

import pytest

from lightning_dream.checks import (
    AtLeastOne,
    DecayFactor,
    Fraction,
    PositiveFloat,
    PositiveInt,
    check_arguments,
    in_range,
)
from lightning_dream.errors import ConfigError

Decimals = in_range(1, 8)


def build(
    batch_size: PositiveInt = 8,
    lr: PositiveFloat | None = None,
    warmup_fraction: Fraction = 0.1,
    decimals: Decimals = 4,
    num_steps: AtLeastOne = 1,
    decay: DecayFactor = 1.0,
    name: str = "x",
    layers: PositiveInt | str = "all",
) -> None:
    """An experiment's constructor, as far as the checks see it."""


def test_allowed_values_and_none_pass():
    check_arguments(build, dict(batch_size=1, lr=None, warmup_fraction=0.0, decimals=8, num_steps=1, decay=1.0))
    check_arguments(build, dict(lr=1e-9, name=0, layers="all"))  # unannotated and non-number Union members: unchecked


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (dict(batch_size=0), "batch_size=0 must be positive"),
        (dict(lr=0.0), "lr=0.0 must be positive"),
        (dict(lr=-1e-3), "lr=-0.001 must be positive"),
        (dict(warmup_fraction=1.0), "warmup_fraction=1.0 must be in [0, 1)"),
        (dict(decimals=9), "decimals=9 is out of range: allowed 1..8"),
        (dict(num_steps=0), "num_steps=0 must be at least 1"),
        (dict(decay=0.0), "decay=0.0 must be in (0, 1]"),
        (dict(batch_size=2.5), "batch_size=2.5 is not an integer"),
        (dict(batch_size=None), "batch_size=None is not an integer: it must be positive"),
        (dict(layers=0), "layers=0 must be positive"),
    ],
)
def test_a_bad_value_is_one_line_naming_argument_value_and_what_is_allowed(values, message):
    with pytest.raises(ConfigError) as caught:
        check_arguments(build, values)
    assert str(caught.value) == message


class Base:
    def __init__(self, batch_size: PositiveInt = 8):
        pass


class Child(Base):
    def __init__(self, decimals: Decimals = 4, **kwargs):
        super().__init__(**kwargs)


Base.__module__ = Child.__module__ = "lightning_dream.tests_stand_in"  # the project's own classes are walked


def test_a_class_checks_the_arguments_of_every_init_in_its_bases():
    check_arguments(Child, dict(decimals=4, batch_size=8))
    with pytest.raises(ConfigError, match="batch_size=0 must be positive"):
        check_arguments(Child, dict(decimals=4, batch_size=0))
    with pytest.raises(ConfigError, match="decimals=0 is out of range: allowed 1..8"):
        check_arguments(Child, dict(decimals=0, batch_size=8))


def test_restricted_numbers_become_builtins_everywhere_a_run_keeps_them():
    from jsonargparse import Namespace

    from lightning_dream.checks import builtin

    parsed = Namespace(steps=PositiveInt(3), method=Namespace(init_args=Namespace(lr=PositiveFloat(0.5))))
    parsed.weights = [PositiveFloat(1.0)]
    builtin(parsed)
    assert type(parsed.steps) is int and type(parsed.method.init_args.lr) is float and type(parsed.weights[0]) is float
    assert builtin({"a": [PositiveInt(2)], "b": True}) == {"a": [2], "b": True}
    assert type(builtin({"a": [PositiveInt(2)]})["a"][0]) is int
