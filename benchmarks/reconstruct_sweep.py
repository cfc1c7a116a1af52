"""Reconstruction sweep: all layers x 8 sentences batched in one run vs one job at a time.

The batched run optimises all 48 (sentence, layer) jobs of the embedded MiniLM together, each
job leaving the encoder at its own layer. The baseline runs the same jobs one at a time through
the full model (as the original tool did, one process per reconstruction), through the same
code otherwise (soft input, optimizer, Lightning loop). Both use the same
steps, schedule and seeds: every job keeps its global index, so it starts from the same random
tokens and draws the same random numbers either way. Only the optimisation loop is timed
(model loading is excluded from both). Prints both token recoveries and
``speedup_vs_sequential: X``.

    HF_HUB_OFFLINE=1 python benchmarks/reconstruct_sweep.py [--steps 300] [--sentences 8]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from statistics import mean

import pytorch_lightning as pl
import torch
from loop_timer import LoopTimer  # benchmarks/ is the script's folder, first on sys.path
from torch import Tensor

from lightning_dream.experiments.soft_input.reconstruct import Reconstruct
from lightning_dream.experiments.soft_input.step_logger import StepLogger


class FullDepth(Reconstruct):
    """The baseline: every job runs through the whole encoder, whatever its layer (Reconstruct
    itself stops each job at its layer)."""

    def states(self, **inputs: Tensor) -> Tensor:
        hidden = self.readout.hidden_states(self.attention_mask, self.readout.num_layers, **inputs)
        return hidden[self.job_layers, torch.arange(hidden.shape[1])]


def run(module: Reconstruct, root: Path, steps: int) -> tuple[float, list[dict]]:
    timer = LoopTimer()
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        precision="32-true",
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(root),
        callbacks=[timer, StepLogger(log_every=steps, image_every=steps)],
    )
    trainer.fit(module)
    return timer.seconds, module.job_results()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--sentences", type=int, default=8)
    args = parser.parse_args()
    settings = dict(
        corpus="news",
        num_sentences=args.sentences,
        min_words=8,
        max_words=12,
        layers="all",
        num_iterations=args.steps,
        snapshot_every=args.steps,
        seed=0,
    )
    with tempfile.TemporaryDirectory() as tmp:
        batched = Reconstruct(**settings)
        jobs = list(batched.jobs)
        print(
            f"jobs: {len(jobs)} ({args.sentences} sentences x {len(batched.layers)} layers), steps: {args.steps}",
            flush=True,
        )
        batched_seconds, batched_results = run(batched, Path(tmp) / "batched", args.steps)
        print(f"batched: {batched_seconds:.1f} s", flush=True)
        sequential_seconds, sequential_results = 0.0, []
        for job in jobs:
            single = FullDepth(**settings)
            single.jobs[:] = [job]  # same job, same global index: same random start and noise
            seconds, results = run(single, Path(tmp) / f"job_{job.index}", args.steps)
            sequential_seconds += seconds
            sequential_results += results
        print(f"sequential: {sequential_seconds:.1f} s", flush=True)
    for name, results in (("batched", batched_results), ("sequential", sequential_results)):
        per_layer = {k: mean(r["token_recovery"] for r in results if r["layer_id"] == k) for k in batched.layers}
        curve = " ".join(f"L{k}={v:.3f}" for k, v in per_layer.items())
        print(f"token_recovery_{name}: {mean(r['token_recovery'] for r in results):.3f} ({curve})")
    same = sum(a["final_tokens"] == b["final_tokens"] for a, b in zip(batched_results, sequential_results))
    print(f"identical_reconstructions: {same}/{len(jobs)}")
    print(f"speedup_vs_sequential: {sequential_seconds / batched_seconds:.2f}")


if __name__ == "__main__":
    main()
