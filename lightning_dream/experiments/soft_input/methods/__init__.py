"""Search methods: how a soft-input experiment moves its input, one method per file.

Every method runs inside the same loop (``SoftInputExperiment.training_step``), reads the same
jobs and objective through the host (``base.SearchHost``), keeps its current real tokens in
``SoftTokens`` (so snapshots, logging and results need no special case) and is charged in encoder
passes. ``method:`` in any soft-input config picks one: by name (``method: gcg``) or with its own
settings (``method: {class_path: GCG, init_args: {top_k: 64}}``).

A new method is one new file (a ``SearchMethod`` subclass) and one line in ``METHODS``.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Literal

from lightning_dream.errors import ConfigError
from lightning_dream.experiments.soft_input.methods.anneal import Anneal
from lightning_dream.experiments.soft_input.methods.base import MethodStep, SearchHost, SearchMethod
from lightning_dream.experiments.soft_input.methods.epo import EPO
from lightning_dream.experiments.soft_input.methods.gcg import GCG
from lightning_dream.experiments.soft_input.methods.pez import PEZ

#: name -> class: the one registry of search methods
METHODS: dict[str, type[SearchMethod]] = {method.name: method for method in (Anneal, GCG, PEZ, EPO)}
#: the names a config may give instead of a class (``method: gcg``); a test checks it equals ``METHODS``
MethodName = Literal["anneal", "gcg", "pez", "epo"]
#: what a ``method`` argument takes: a name, or a method with its settings (in a config
#: ``{class_path: GCG, init_args: {...}}``, the class name or its import path); any other word is
#: refused by ``build_method`` in one line naming the methods
MethodChoice = MethodName | SearchMethod | str

__all__ = [
    "EPO",
    "GCG",
    "METHODS",
    "PEZ",
    "Anneal",
    "MethodChoice",
    "MethodName",
    "MethodStep",
    "SearchHost",
    "SearchMethod",
    "build_method",
    "method_class",
    "moved_settings",
    "stored_spec",
]


def build_method(choice: MethodChoice | dict[str, Any]) -> SearchMethod:
    """A method from a name (its default settings), a method object (copied: a host owns its
    method's state), or a stored spec ``{class_path, init_args}`` (registry name, class name or
    import path: what results, checkpoints and resume checks hold)."""
    if isinstance(choice, SearchMethod):
        return choice.copy()
    if isinstance(choice, dict):
        klass = method_class(str(choice.get("class_path", "")))
        try:
            return klass(**dict(choice.get("init_args") or {}))
        except TypeError as err:
            raise ConfigError(f"method {klass.name}: {err}") from None
    return method_class(choice)()


def stored_spec(choice: Any) -> dict[str, Any]:
    """A method as a run stores it (``SearchMethod.spec``), from any spelling a config parses to
    (a name, a namespace or dict ``{class_path, init_args}``, a method): what resume compares."""
    return build_method(choice.as_dict() if hasattr(choice, "as_dict") else choice).spec()


def method_class(path: str) -> type[SearchMethod]:
    """The method class of a registry name (``gcg``), a class name (``GCG``) or an import path."""
    found = METHODS.get(path) or next((m for m in METHODS.values() if m.__name__ == path), None)
    if found is None and "." in path:
        module, _, name = path.rpartition(".")
        try:
            found = getattr(importlib.import_module(module), name, None)
        except ImportError:
            found = None
    if not (isinstance(found, type) and issubclass(found, SearchMethod)):
        known = ", ".join(METHODS)
        raise ConfigError(f"method {path!r} is not known: use one of {known} or a SearchMethod's import path")
    return found


#: settings of the soft-input experiments that became a method's under another name
RENAMED = {"anneal": "schedule", "search_top_k": "top_k"}


def moved_settings() -> dict[str, str]:
    """Where each setting the soft-input experiments took before every method owned its own lives
    now (the one-line error for an old config): a method's, by name, or a callback's."""
    owners: dict[str, list[type[SearchMethod]]] = {}
    for klass in METHODS.values():
        for name in list(inspect.signature(klass.__init__).parameters)[1:]:
            owners.setdefault(name, []).append(klass)
    moved = {}
    for old in sorted(set(owners) | set(RENAMED)):
        new = RENAMED.get(old, old)
        classes = owners[new]
        example = classes[0].__name__
        names = ", ".join(c.__name__ for c in classes)
        moved[old] = (
            f"{old} is a setting of the method now ({names}): method: {{class_path: {example}, init_args: "
            f"{{{new}: ...}}}}, or --model.method {example} --model.method.{new} ..."
        )
    for cadence, how in (("log_every", "--trainer.log_every_n_steps N"), ("image_every", "StepLogger(image_every=N)")):
        moved[cadence] = f"{cadence} is a setting of the logging now: {how} (--trainer.callbacks)"
    return moved
