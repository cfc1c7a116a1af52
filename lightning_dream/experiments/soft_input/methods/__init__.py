"""Search methods: how a soft-input experiment moves its input, one strategy per file.

Every method runs inside the same loop (``SoftInputExperiment.training_step``), reads the same
jobs and objective through the same readout, keeps its current real tokens in ``SoftTokens`` (so
snapshots, logging and results need no special case) and is charged in encoder passes
(``EncoderReadout.passes``). ``method:`` in any soft-input config picks one.
"""

from __future__ import annotations

from typing import Literal

from lightning_dream.experiments.soft_input.methods.anneal import Anneal
from lightning_dream.experiments.soft_input.methods.base import MethodStep, SearchMethod
from lightning_dream.experiments.soft_input.methods.epo import FluentPopulation
from lightning_dream.experiments.soft_input.methods.gcg import CoordinateSearch
from lightning_dream.experiments.soft_input.methods.pez import ProjectedEmbeddings

MethodName = Literal["anneal", "gcg", "pez", "epo"]
METHODS: dict[str, type[SearchMethod]] = {
    "anneal": Anneal,
    "gcg": CoordinateSearch,
    "pez": ProjectedEmbeddings,
    "epo": FluentPopulation,
}

__all__ = ["METHODS", "MethodName", "MethodStep", "SearchMethod", "build_method"]


def build_method(name: str) -> SearchMethod:
    return METHODS[name]()
