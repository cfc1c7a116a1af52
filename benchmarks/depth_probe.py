"""DepthProbe: all 26 depths of the study in one run vs one run per depth, and memory vs data size.

On the embedded ALBERT (``albert-news-tiny``), fixed encoder, rotten-tomatoes, 1 epoch, the 26
depths of ``configs/depth_probe.yaml``; only the training and validation loops are timed
(``LoopTimer``: model loading excluded on both sides, no sanity validation).

- ``speedup_vs_per_depth``: 26 ``DepthProbe`` runs with a single depth each (as the original study
  ran them) over one ``DepthProbe`` run over all 26, ``--train`` examples. The limit is
  760 / 100 = 7.6 (the 26 depths cost 760 layer applications per example one by one, 100 in one pass).
- ``rss_growth_ratio``: (peak resident memory - resident memory after loading) with ``--large``
  examples (the corpus repeated) over the same with ``--train``; each in a fresh process. An
  in-memory cache of every example x depth grows ~10x; the disk cache, and the heap's freed pages
  returned after every batch (``callbacks/memory.py``), keep it flat.

Run: ``HF_HUB_OFFLINE=1 python benchmarks/depth_probe.py`` (defaults 2,000 / 20,000 examples;
``--only speed`` or ``--only rss`` for one of the two).
Check at tiny size: ``--train 40 --large 400 --validation 16``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20, 25, 30, 35, 40, 45, 50, 60, 70, 80, 90, 100]


def data(train: int, validation: int):
    """rotten-tomatoes with ``train`` training examples (the training split repeated when larger)."""
    from lightning_dream.data.sentence_tasks import SentenceTaskData

    task = SentenceTaskData(max_validation=validation)
    task.setup()
    repeats = -(-train // len(task.train_set))
    task.train_set = (task.train_set * repeats)[:train]
    return task


def timed_fit(depths: list[int], task) -> float:
    """Seconds of the training and validation loops of one epoch (the probe is built before)."""
    import pytorch_lightning as pl

    from benchmarks.loop_timer import LoopTimer
    from lightning_dream.experiments import DepthProbe

    probe, timer = DepthProbe(depths=depths), LoopTimer()
    trainer = pl.Trainer(
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=[timer],
        default_root_dir=tempfile.mkdtemp(prefix="depth-probe-benchmark-"),  # results.json, depth_curve.csv
    )
    trainer.fit(probe, datamodule=task)
    return timer.seconds


def resident_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_resident_mb() -> float:
    """This process's peak resident memory since it started (``VmHWM``). Not ``ru_maxrss``: Linux keeps
    that across fork and exec, so a child forked from this script after the speed runs reported the
    parent's resident memory at the fork (860.3 MB for both sizes, 2026-12-03)."""
    with open("/proc/self/status") as handle:
        line = next(line for line in handle if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def rss_child(train: int, validation: int, depths: list[int]) -> None:
    """One fresh process: resident memory after loading, then the peak over one epoch."""
    from lightning_dream.models.loading import load_encoder

    task = data(train, validation)
    load_encoder("albert-news-tiny")  # weights read once, as the probe will
    loaded = resident_mb()
    seconds = timed_fit(depths, task)
    peak = peak_resident_mb()
    print(json.dumps({"train": train, "loaded_mb": loaded, "peak_mb": peak, "seconds": seconds}))


def rss_run(train: int, validation: int, depths: list[int]) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--rss-child", str(train), "--validation", str(validation), "--depths"]
        + [str(d) for d in depths],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--large", type=int, default=20000)
    parser.add_argument("--validation", type=int, default=200)
    parser.add_argument("--only", choices=["speed", "rss"], default=None, help="run one of the two measurements")
    parser.add_argument("--depths", type=int, nargs="+", default=DEPTHS, help="only to check the script quickly")
    parser.add_argument("--rss-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child is not None:
        return rss_child(args.rss_child, args.validation, args.depths)
    sys.path.insert(0, ROOT)

    if args.only != "rss":
        speed(args)
    if args.only != "speed":
        rss(args)


def speed(args: argparse.Namespace) -> None:
    task = data(args.train, args.validation)
    together = timed_fit(args.depths, task)
    print(f"one DepthProbe run over {len(args.depths)} depths: {together:.1f} s")
    alone = 0.0
    for depth in args.depths:
        alone += timed_fit([depth], task)
    print(f"{len(args.depths)} DepthProbe runs of one depth each: {alone:.1f} s")
    print(f"speedup_vs_per_depth: {alone / together:.2f}")


def rss(args: argparse.Namespace) -> None:
    small, large = (rss_run(n, args.validation, args.depths) for n in (args.train, args.large))
    for row in (small, large):
        print(
            f"train={row['train']:6d}  after loading {row['loaded_mb']:7.1f} MB  peak {row['peak_mb']:7.1f} MB  "
            f"epoch {row['seconds']:.1f} s"
        )
    growth = (large["peak_mb"] - large["loaded_mb"]) / max(small["peak_mb"] - small["loaded_mb"], 1e-9)
    print(f"rss_growth_ratio: {growth:.2f}")


if __name__ == "__main__":
    main()
