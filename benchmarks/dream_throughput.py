"""Dream throughput on the embedded MiniLM: job-iterations per second of three ways to dream.

(a) sequential: one job at a time, the full model every step (as the seed's code does),
    including the snapped (argmax) evaluation it logs;
(b) this project's Dream through the Trainer: 32 jobs batched, encoder truncated at the target
    layer, StepLogger and TensorBoard logging on, its optimisation loop timed (model loading
    before it and the result files and figures after it are not per-step costs);
(c) bare: the math of (b) as plain tensor code (soft input, truncated forward and backward,
    Adam step, snapped forward), no framework.

Prints the three rates and ``speedup_vs_sequential: b/a`` and ``overhead_vs_bare: c/b``.
Run: ``python benchmarks/dream_throughput.py [--steps 30] [--precision 32-true|bf16-mixed]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytorch_lightning as pl  # noqa: E402
import torch  # noqa: E402
from loop_timer import LoopTimer  # noqa: E402  (benchmarks/ is the script's folder)
from pytorch_lightning.loggers import TensorBoardLogger  # noqa: E402

from lightning_dream.experiments import Dream  # noqa: E402
from lightning_dream.experiments.soft_input.jobs import batch_jobs  # noqa: E402
from lightning_dream.experiments.soft_input.methods import Anneal  # noqa: E402
from lightning_dream.experiments.soft_input.step_logger import StepLogger  # noqa: E402
from lightning_dream.models.loading import load_encoder  # noqa: E402
from lightning_dream.models.readout import EncoderReadout  # noqa: E402
from lightning_dream.models.soft_tokens import SoftTokens  # noqa: E402

SENTENCE = "the quick brown fox jumps over the lazy dog ."
LAYER, WORD = 2, 3


def make_dream(jobs: int, steps: int) -> Dream:
    return Dream(
        sentences=[SENTENCE],
        layer_id=LAYER,
        neuron_ids=list(range(jobs)),
        word_id=WORD,
        num_iterations=steps,
        method=Anneal(warmup=0),
        snapshot_every=10,
    )


def soft_for(module: Dream, readout: EncoderReadout, jobs) -> tuple[SoftTokens, torch.Tensor]:
    ids, mask, change = batch_jobs(jobs, 0)
    return SoftTokens(ids, change, readout.word_embeddings.shape[0], [j.index for j in jobs], init="sentence"), mask


def sequential(module: Dream, steps: int, jobs: int) -> float:
    """Job-iterations/s of one job at a time through the full model."""
    readout = EncoderReadout(load_encoder("minilm-l6"))
    full = readout.num_layers
    start = time.perf_counter()
    for job in module.jobs[:jobs]:
        soft, mask = soft_for(module, readout, [job])
        opt = torch.optim.Adam(soft.parameters(), lr=0.1)
        for step in range(steps):
            embeds = soft.embeds(readout.word_embeddings, module.method.temperature(step, steps))
            value = readout.hidden_states(mask, full, inputs_embeds=embeds)[LAYER, 0, WORD, job.target.neuron]
            opt.zero_grad()
            (-value).backward()
            opt.step()
            with torch.no_grad():
                readout.hidden_states(mask, full, input_ids=soft.snapped_ids())
    return jobs * steps / (time.perf_counter() - start)


def framework(jobs: int, steps: int, precision: str) -> float:
    module = make_dream(jobs, steps)
    with tempfile.TemporaryDirectory() as root:
        timer = LoopTimer()
        trainer = pl.Trainer(
            accelerator="cpu",
            devices=1,
            max_epochs=1,
            precision=precision,
            default_root_dir=root,
            logger=TensorBoardLogger(root),
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            callbacks=[timer, StepLogger(log_every=10, image_every=10_000)],
        )
        trainer.fit(module)
        return jobs * steps / timer.seconds


def bare(module: Dream, steps: int) -> float:
    readout = EncoderReadout(load_encoder("minilm-l6"))
    soft, mask = soft_for(module, readout, module.jobs)
    neurons = torch.tensor([j.target.neuron for j in module.jobs])
    rows = torch.arange(len(neurons))
    opt = torch.optim.Adam(soft.parameters(), lr=0.1)
    start = time.perf_counter()
    for step in range(steps):
        embeds = soft.embeds(readout.word_embeddings, module.method.temperature(step, steps))
        values = readout.hidden_states(mask, LAYER, inputs_embeds=embeds)[LAYER, rows, WORD, neurons]
        opt.zero_grad()
        (-values.sum()).backward()
        opt.step()
        with torch.no_grad():
            readout.hidden_states(mask, LAYER, input_ids=soft.snapped_ids())
    return len(neurons) * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=32)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument(
        "--sequential-jobs", type=int, default=4, help="jobs timed in (a); its rate is per job-iteration"
    )
    parser.add_argument("--precision", default="32-true")
    args = parser.parse_args()
    torch.manual_seed(0)
    module = make_dream(args.jobs, args.steps)
    print(
        f"minilm-l6, layer {LAYER}, {args.jobs} jobs x {args.steps} steps, {torch.get_num_threads()} threads, "
        f"precision {args.precision}"
    )
    framework(args.jobs, 3, args.precision)  # warm-up: first-call costs out of the measurement
    rate_a = sequential(module, args.steps, args.sequential_jobs)
    rate_b = framework(args.jobs, args.steps, args.precision)
    rate_c = bare(module, args.steps)
    print(f"(a) sequential full model: {rate_a:8.1f} job-iterations/s ({args.sequential_jobs} jobs timed)")
    print(f"(b) Dream via Trainer:     {rate_b:8.1f} job-iterations/s")
    print(f"(c) bare tensor code:      {rate_c:8.1f} job-iterations/s")
    print(f"speedup_vs_sequential: {rate_b / rate_a:.2f}")
    print(f"overhead_vs_bare: {rate_c / rate_b:.2f}")


if __name__ == "__main__":
    main()
