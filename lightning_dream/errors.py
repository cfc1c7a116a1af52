"""The one error type users see for bad input: a single line, raised before long work starts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


class ConfigError(ValueError):
    """A value in the configuration (or a file it names) cannot be used; the message says why
    and what is allowed. The CLI prints it as one line instead of a traceback."""


def check_range(name: str, value: int, low: int, high: int) -> int:
    """Return ``value`` if ``low <= value <= high``, else raise a one-line ConfigError."""
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range: allowed {low}..{high}")
    return value


def check_positive(name: str, value: float) -> float:
    if not value > 0:
        raise ConfigError(f"{name}={value} must be positive")
    return value


def check_finite(name: str, value: float) -> float:
    """Return ``value`` if it is a finite number; NaN and ±inf are refused with one line."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{name}={value} is not a finite number: give a real value (no nan, inf, -inf)")
    return value


def check_finite_settings(settings: Any, prefix: str = "") -> None:
    """Every float anywhere in a (nested) configuration is finite: the one check of every float
    option of every experiment, run by the CLI on the parsed config before anything is built."""
    if isinstance(settings, Mapping):
        for key, value in settings.items():
            name = (
                prefix if key == "init_args" else f"{prefix}.{key}" if prefix else str(key)
            )  # model.lr, not model.init_args.lr
            check_finite_settings(value, name)
    elif isinstance(settings, (list, tuple)):
        for index, value in enumerate(settings):
            check_finite_settings(value, f"{prefix}[{index}]")
    else:
        check_finite(prefix, settings)
