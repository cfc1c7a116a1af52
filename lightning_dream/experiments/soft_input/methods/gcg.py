"""Coordinate gradient search (HotFlip / AutoPrompt / GCG): gradient-ranked single-token swaps,
evaluated exactly, the best kept.

Per step and job: the gradient of the objective w.r.t. the one-hot input (a forward and a
backward, 2 passes) ranks the ``search_top_k`` most promising tokens at every changeable
position; ``candidates`` single-token swaps (a random changeable position, a random token of its
top-k) are then run exactly, truncated at the target layer (1 pass each), and the best replaces
the current tokens if it is higher. The current score never falls, so the last tokens are the
best seen (score: the activation, + λ x fluency when ``fluency_weight`` is set). Published GCG:
top-k 256, 512 candidates per step on a GPU; the CPU defaults are smaller (see the experiment's
``search_top_k`` / ``candidates``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from lightning_dream.experiments.soft_input.methods.base import (
    MethodStep,
    SearchMethod,
    swap_candidates,
    token_gradient,
)

if TYPE_CHECKING:
    from lightning_dream.experiments.soft_input.base import SoftInputExperiment


class CoordinateSearch(SearchMethod):
    def setup(self, exp: SoftInputExperiment) -> None:
        exp.soft.set_ids(exp.soft.snapped_ids())

    def step(self, exp: SoftInputExperiment, step: int) -> MethodStep:
        ids = exp.soft.snapped_ids()
        value, gains = token_gradient(exp, ids)
        candidates = self.candidates(exp, ids, gains, step)
        values = exp.candidate_values(candidates)
        scores, current = values, value
        weight = exp.hparams.fluency_weight
        if weight:  # activation + λ x fluency; the MLM passes count in the budget
            scores = values + weight * exp.fluency_of(candidates.flatten(0, 1)).fluency.view_as(values)
            current = value + weight * exp.fluency_of(ids).fluency
        best_score, best = scores.max(0)
        better = best_score > current
        rows = torch.arange(len(ids), device=ids.device)
        new_ids = torch.where(better[:, None], candidates[best, rows], ids)
        new_value = torch.where(better, values[best, rows], value)
        exp.soft.set_ids(new_ids)
        exp.remember_snapped(new_ids, new_value)
        # like every method, the step reports the tokens it evaluated (so step 0 is the start); the
        # swapped-in tokens are reported by the next step, or by the final evaluation
        return MethodStep(None, value, value, ids, 1.0)

    def candidates(self, exp: SoftInputExperiment, ids: torch.Tensor, scores: torch.Tensor, step: int) -> torch.Tensor:
        """(candidates, jobs, L): each a copy of ``ids`` with one changeable position swapped for
        one of its top-k tokens by the first-order gain ``scores`` (changeable rows, vocab); the
        (position, token) pairs of a job are drawn without repeats from its own random stream."""
        return swap_candidates(exp, ids, scores, exp.hparams.candidates, step)
