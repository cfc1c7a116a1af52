"""Trajectory recording: peak memory and time for 1,000 steps vs 100 steps (memory must stay flat).

Each run is a fresh process (peak RSS, ``ru_maxrss``, only grows within a process) recording the
embedded ALBERT's trajectory for 4 news blocks of 32 tokens through the Trainer, chunks of 50
steps written to disk. A recorder keeping every state in memory would need 10x the state memory
for 10x the steps; the chunked writer holds one chunk.

Prints per run: steps, seconds, peak RSS (MB), stored MB; then ``memory_ratio_1000_vs_100`` (flat:
about 1) and ``time_ratio_1000_vs_100`` (linear: about 10).
Run: ``python benchmarks/trajectory.py [--steps 100 1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, os, resource, sys, time
os.environ["HF_HUB_OFFLINE"] = "1"
import pytorch_lightning as pl
from lightning_dream.experiments.dynamics.trajectory import Trajectory
steps, folder = int(sys.argv[1]), sys.argv[2]
module = Trajectory(num_steps=steps, chunk_size=50, block_size=32, num_inputs=4, precision="float32", output_dir=folder)
trainer = pl.Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False, default_root_dir=folder)
start = time.perf_counter()
trainer.predict(module)
seconds = time.perf_counter() - start
stored = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"steps": steps, "seconds": seconds, "peak_rss_mb": peak_rss_mb, "stored_mb": stored / 2**20}))
"""


def run(steps: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(steps), folder], capture_output=True, text=True, check=True
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs=2, default=[100, 1000])
    args = parser.parse_args()
    short, long = (run(n) for n in args.steps)
    for row in (short, long):
        print(
            f"steps={row['steps']:5d}  time={row['seconds']:7.2f} s  peak_rss={row['peak_rss_mb']:7.1f} MB  "
            f"stored={row['stored_mb']:7.1f} MB"
        )
    print(f"memory_ratio_{long['steps']}_vs_{short['steps']}: {long['peak_rss_mb'] / short['peak_rss_mb']:.3f}")
    print(f"time_ratio_{long['steps']}_vs_{short['steps']}: {long['seconds'] / short['seconds']:.2f}")
    print(f"stored_ratio_{long['steps']}_vs_{short['steps']}: {long['stored_mb'] / short['stored_mb']:.2f}")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
