"""Coordinate gradient search (HotFlip / AutoPrompt / GCG): gradient-ranked single-token swaps,
evaluated exactly, the best kept.

Per step and job: the gradient of the objective w.r.t. the one-hot input (a forward and a
backward, 2 passes) ranks the vocabulary at every changeable position; ``candidates`` single-token
swaps (a random changeable position, a random token among its ``top_k`` best ranked) are
then run exactly, truncated at the target layer (1 pass each), and the best replaces the current
tokens if it is higher. The current score never falls, so the last tokens are the best seen
(score: the activation, + λ x fluency when ``fluency_weight`` is set). Published GCG: top-k 256,
512 candidates per step on a GPU; the CPU defaults are smaller (``docs/search_methods.md``).

No swap of the current tokens is evaluated twice (GCG implementations keep the set of tried
candidates): while a job's tokens stay the same its gradient ranking is the same, so it is kept
(no new forward and backward) and each step draws from the swaps not yet tried; once the top-k
are all tried the window widens by ``top_k`` ranks. At one changeable position this walks
down the ranking: a local optimum among the top ``top_k`` no longer stops the search.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from lightning_dream.checks import PositiveInt, check_arguments
from lightning_dream.experiments.soft_input.methods.base import MethodStep, SearchHost, SearchMethod, token_gradient


class GCG(SearchMethod):
    name = "gcg"

    def __init__(self, top_k: PositiveInt = 256, candidates: PositiveInt = 64):
        """
        Args:
            top_k: tokens ranked by the gradient per changeable position, the window swaps are
                drawn from (GCG's 256).
            candidates: single-token swaps evaluated exactly per step and job (GCG: 512 on a GPU;
                64 suits a CPU, ``docs/search_methods.md``).
        """
        super().__init__()
        check_arguments(GCG, locals())
        self.top_k, self.candidates = top_k, candidates

    def settings(self) -> dict[str, Any]:
        return {"top_k": self.top_k, "candidates": self.candidates}

    def step_cost(self) -> int:
        return 2 + self.candidates  # a ranking (forward and backward), then the swaps

    def fewest_passes(self) -> int:
        return self.candidates  # the swaps alone, while the ranking is kept

    def setup(self, host: SearchHost, steps: int) -> None:
        ids = host.soft.snapped_ids()
        host.soft.set_ids(ids)
        rows, vocab = len(host.soft.row_job), host.word_embeddings.shape[0]
        self.banned = host.special_ids.to(ids.device)
        # per changeable row: the vocabulary by gradient rank, and which swaps of the current tokens were tried
        self.order = torch.empty(rows, vocab, dtype=torch.long, device=ids.device)
        self.tried = torch.zeros(rows, vocab, dtype=torch.bool, device=ids.device)
        self.window = torch.full((len(ids),), self.top_k, dtype=torch.long)
        self.current: Tensor | None = None  # (jobs, L) the tokens the ranking was taken at
        self.value: Tensor | None = None  # their objective
        self.score: Tensor | None = None  # their objective + λ x fluency

    def step(self, host: SearchHost, step: int) -> MethodStep:
        ids = host.soft.snapped_ids()
        if self.current is None or self.value is None or not torch.equal(ids, self.current):
            self.rank(host, ids)
        swaps = self.swaps(host, ids, step)
        values = host.candidate_values(swaps)
        value, scores = self.value, values
        weight = host.fluency_weight
        if weight:  # activation + λ x fluency; the MLM passes count in the budget
            scores = values + weight * host.fluency_of(swaps.flatten(0, 1)).fluency.view_as(values)
        best_score, best = scores.max(0)
        better = best_score > self.score
        rows = torch.arange(len(ids), device=ids.device)
        new_ids = torch.where(better[:, None], swaps[best, rows], ids)
        host.soft.set_ids(new_ids)
        host.remember_snapped(new_ids, torch.where(better, values[best, rows], value))
        # like every method, the step reports the tokens it evaluated (so step 0 is the start); the
        # swapped-in tokens are reported by the next step, or by the final evaluation
        return MethodStep(None, value, value, ids, 1.0)

    def rank(self, host: SearchHost, ids: Tensor) -> None:
        """Value, score and gradient ranking of new current tokens (a forward and a backward);
        a job whose tokens changed narrows its window again and forgets its tried swaps, except at
        the one position that changed: a swap there gives a sequence already evaluated."""
        value, gain = token_gradient(host, ids)  # first-order gain of each swap
        gain[:, self.banned] = float("-inf")
        self.order = gain.argsort(dim=-1, descending=True)
        moved = torch.ones_like(ids, dtype=torch.bool) if self.current is None else ids != self.current
        moved &= host.soft.change_mask
        changed, moved_one = moved.any(1), moved.sum(1) == 1
        row_job = host.soft.row_job
        forget = changed[row_job] & ~(moved_one[row_job] & moved[host.soft.change_mask])
        self.tried[forget] = False
        changed = changed.cpu()
        self.tried[torch.arange(len(self.tried), device=ids.device), ids[host.soft.change_mask]] = True  # no-op swaps
        self.window[changed] = self.top_k
        self.value = value
        self.score = self.value
        if host.fluency_weight:
            self.score = self.value + host.fluency_weight * host.fluency_of(ids).fluency
        self.current = ids.clone()

    def swaps(self, host: SearchHost, ids: Tensor, step: int) -> Tensor:
        """(candidates, jobs, L): each a copy of ``ids`` with one changeable position swapped for
        one of its ``window`` best-ranked tokens, drawn from the job's own random stream among the
        swaps not tried yet (marked tried); the window widens while fewer than ``candidates`` are
        left. Only a job that has tried its whole vocabulary repeats swaps (or its current tokens)."""
        count, vocab = self.candidates, self.order.shape[1] - len(self.banned)
        out = ids.repeat(count, 1, 1)
        for job_row in range(len(ids)):
            rows = (host.soft.row_job == job_row).nonzero()[:, 0]
            positions = host.soft.change_mask[job_row].nonzero()[:, 0]
            while True:
                k = min(int(self.window[job_row]), vocab)
                ranked = self.order[rows, :k]  # (positions, k)
                fresh = (~self.tried[rows[:, None], ranked]).flatten().nonzero()[:, 0]
                if len(fresh) >= count or k == vocab:
                    break
                self.window[job_row] += self.top_k
            if len(fresh) == 0:  # every swap tried: the current tokens are the optimum of one swap
                continue
            generator = host.job_generator(job_row, step)
            pick = fresh[torch.randperm(len(fresh), generator=generator)[:count].to(fresh.device)]
            pick = pick.repeat((count + len(pick) - 1) // len(pick))[:count]
            which, token = pick // k, ranked.flatten()[pick]
            self.tried[rows[which], token] = True
            out[torch.arange(count), job_row, positions[which]] = token
        return out

    # the tried swaps and the windows ride in the checkpoint (the tried pairs as indices: a few
    # hundred per job, not rows x vocabulary), so a resumed run draws no swap it already evaluated;
    # the ranking is taken again at the restored tokens (a forward and a backward, 2 passes)
    def get_extra_state(self) -> dict[str, Any]:
        if self.current is None:
            return {}
        return {"tried": self.tried.nonzero().cpu(), "window": self.window, "current": self.current.cpu()}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        if not state:
            return
        self.tried.zero_()
        tried = state["tried"].to(self.tried.device)
        self.tried[tried[:, 0], tried[:, 1]] = True
        self.window = state["window"]
        self.current, self.value = state["current"].to(self.tried.device), None
