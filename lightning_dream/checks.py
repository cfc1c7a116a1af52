"""Range checks declared once, as the argument's annotation.

An experiment or data module annotates a size, count or rate with a restricted number type
(``batch_size: PositiveInt``, ``warmup_fraction: Fraction``, ``decimals: in_range(1, 8)``). The
command line checks it while parsing (jsonargparse validates the annotation: one line, exit 2);
Python construction checks it with ``check_arguments(type(self), self.hparams)``, which raises the
one-line ``ConfigError`` ``"<name>=<value> <what is allowed>"``, e.g. ``batch_size=0 must be
positive`` or ``decimals=0 is out of range: allowed 1..8``.

Kept out of ``errors`` so that commands which build no experiment never import jsonargparse for it.
"""

from __future__ import annotations

import operator
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from jsonargparse.typing import (
    ClosedUnitInterval,
    NonNegativeFloat,
    NonNegativeInt,
    OpenUnitInterval,
    PositiveFloat,
    PositiveInt,
    restricted_number_type,
)

from lightning_dream.errors import ConfigError

__all__ = [
    "AtLeastOne",
    "ClosedUnitInterval",
    "DecayFactor",
    "Fraction",
    "NonNegativeFloat",
    "NonNegativeInt",
    "OpenUnitInterval",
    "PositiveFloat",
    "PositiveInt",
    "allowed",
    "at_least",
    "check_arguments",
    "in_range",
]

#: a share of something that may be nothing but not everything: 0 <= v < 1 (a warm-up fraction)
Fraction = restricted_number_type("Fraction", float, [(">=", 0.0), ("<", 1.0)])
#: a factor that shrinks or keeps: 0 < v <= 1 (a temperature decay)
DecayFactor = restricted_number_type("DecayFactor", float, [(">", 0.0), ("<=", 1.0)])


def at_least(low: int) -> type:
    """The integers ``>= low``, e.g. a number of steps, ``at_least(1)``, which says "must be at least 1"."""
    return restricted_number_type(f"IntAtLeast{low}", int, (">=", low))


def in_range(low: int, high: int) -> type:
    """The integers ``low..high``, both included."""
    return restricted_number_type(f"Int{low}To{high}", int, [(">=", low), ("<=", high)])


#: a count or number of steps: "must be at least 1"
AtLeastOne = at_least(1)


def _is_restricted(kind: Any) -> bool:
    return isinstance(kind, type) and hasattr(kind, "_restrictions") and hasattr(kind, "_validation_fn")


_LOWER = {operator.gt: "(", operator.ge: "["}
_UPPER = {operator.lt: ")", operator.le: "]"}


def allowed(kind: type) -> str:
    """What ``kind`` allows, as the end of an error message: ``must be positive``, ``must be at least 8``,
    ``must be in [0, 1)``, ``is out of range: allowed 1..8``."""
    bounds = dict(kind._restrictions)
    low = next((op for op in bounds if op in _LOWER), None)
    high = next((op for op in bounds if op in _UPPER), None)
    if low is not None and high is not None:
        if kind._type is int and low is operator.ge and high is operator.le:
            return f"is out of range: allowed {bounds[low]}..{bounds[high]}"
        return f"must be in {_LOWER[low]}{bounds[low]:g}, {bounds[high]:g}{_UPPER[high]}"
    if bounds == {operator.gt: 0}:
        return "must be positive"
    words = {operator.gt: "greater than", operator.ge: "at least", operator.lt: "less than", operator.le: "at most"}
    return " and ".join(f"must be {words[op]} {ref:g}" for op, ref in bounds.items())


def _restricted_kind(annotation: Any) -> tuple[type | None, bool]:
    """The restricted number type in ``annotation`` (itself or a member of its Union) and whether None is allowed."""
    if _is_restricted(annotation):
        return annotation, False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = typing.get_args(annotation)
        kind = next((member for member in members if _is_restricted(member)), None)
        return kind, type(None) in members
    return None, False


def _hints(function: Callable | type) -> dict[str, Any]:
    """The annotations of ``function``'s arguments; for a class, of every ``__init__`` of this project in its MRO."""
    if not isinstance(function, type):
        return typing.get_type_hints(function)
    hints: dict[str, Any] = {}
    for klass in reversed(function.__mro__):
        if "__init__" in vars(klass) and klass.__module__.startswith("lightning_dream."):
            hints.update(typing.get_type_hints(klass.__init__))
    return hints


def check_arguments(function: Callable | type, values: Mapping[str, Any]) -> None:
    """Check every value in ``values`` whose argument ``function`` annotates with a restricted number type
    (or ``X | None``, which also allows None); a class stands for its ``__init__`` and those of its bases.
    Raises a one-line ``ConfigError`` naming the argument, the value and what is allowed."""
    for name, annotation in _hints(function).items():
        kind, none_allowed = _restricted_kind(annotation)
        if kind is None or name not in values:
            continue
        value = values[name]
        if value is None and none_allowed:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if value is None or len(typing.get_args(annotation)) <= 1 + none_allowed:
                expected = "an integer" if kind._type is int else "a number"
                raise ConfigError(f"{name}={value!r} is not {expected}: it {allowed(kind)}")
            continue  # another member of the Union (a word, a list) takes it
        try:
            kind(value)
        except ValueError:
            if kind._type is int and isinstance(value, float) and not value.is_integer():
                raise ConfigError(f"{name}={value!r} is not an integer") from None
            raise ConfigError(f"{name}={value!r} {allowed(kind)}") from None


def builtin(value: Any) -> Any:
    """``value`` with every restricted number (a ``PositiveInt`` is an ``int`` subclass) as the plain
    ``int``/``float`` it holds, in lists, dicts and jsonargparse namespaces (changed in place), so
    what a run keeps (hyper-parameters, optimiser states, checkpoints read with ``weights_only``)
    holds builtins only."""
    if isinstance(value, bool) or type(value) in (int, float):
        return value
    if isinstance(value, (int, float)):
        return int(value) if isinstance(value, int) else float(value)
    if isinstance(value, list):
        return [builtin(item) for item in value]
    if isinstance(value, dict):
        return {key: builtin(item) for key, item in value.items()}
    if hasattr(value, "items") and hasattr(value, "__setitem__"):  # a Namespace: its leaves, in place
        for key, item in list(value.items()):
            value[key] = builtin(item)
    return value
