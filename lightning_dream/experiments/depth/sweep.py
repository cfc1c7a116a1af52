"""Depth sweeps: one independent training per depth, sharded across processes, one table.

A sweep trains a fresh readout at every depth of a list (MLM head, sentence probe). Depths are
independent jobs, so ``devices`` worker processes each take their ``shard`` of the list (like
Dream's jobs). Every finished depth writes its row at once (``rows/depth_XXXX.json``, atomic), so
a stopped sweep resumes where it was; the rows end as ``sweep.json``, ``sweep.csv`` and
``sweep.png`` (the report's plot of the sweep's main metric, drawn by ``report/mpl.py``).

    lightning-dream mlm-depth-sweep --config configs/mlm_depth_sweep.yaml
"""

from __future__ import annotations

import csv
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from lightning_dream.data.masked_lm import MaskedTextData
from lightning_dream.errors import ConfigError
from lightning_dream.results import DEPTH_SWEEP_FORMAT, DEPTH_SWEEP_ROW_FORMAT, read_results, write_json_atomic
from lightning_dream.strategies import shard

TrainOne = Callable[[int, Path], dict[str, Any]]


def check_depths(depths: list[int]) -> list[int]:
    """Depths must be distinct and at least 1 (depth 0 has no layer to train a readout on)."""
    if not depths:
        raise ConfigError("depths is empty: give a list of depths >= 1, e.g. [1, 2, 4, 8]")
    bad = [d for d in depths if d < 1]
    if bad:
        raise ConfigError(f"depths {bad} are not allowed: every depth must be >= 1")
    repeated = sorted({d for d in depths if depths.count(d) > 1})
    if repeated:
        raise ConfigError(f"depths {repeated} appear more than once: each depth is one job")
    return depths


def trainer_for_depth(folder: Path, max_epochs: int) -> pl.Trainer:
    """One depth's trainer: CPU, TensorBoard curves in its folder, no checkpoints (rows are the result)."""
    return pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=max_epochs,
        default_root_dir=str(folder),
        logger=pl.loggers.TensorBoardLogger(str(folder), name="", version=""),
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )


def final_metrics(trainer: pl.Trainer) -> dict[str, float]:
    return {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}


def _run_shard(rank: int, depths: list[int], train_one: TrainOne, output: Path, world: int) -> None:
    if world > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    for index in shard(len(depths), rank, world):
        depth = depths[index]
        row_path = output / "rows" / f"depth_{depth:04d}.json"
        if row_path.is_file():
            continue  # finished in an earlier, interrupted run
        pl.seed_everything(0, verbose=False)
        row = {"depth": depth, **train_one(depth, output / f"depth_{depth:04d}")}
        write_json_atomic(row_path, {"format": DEPTH_SWEEP_ROW_FORMAT, **row})


def run_depth_sweep(
    depths: list[int], train_one: TrainOne, output: str, devices: int, config: dict[str, Any], plot_metric: str
) -> list[dict[str, Any]]:
    """Train ``train_one(depth, folder)`` for every depth and write the table; returns its rows."""
    check_depths(depths)
    if devices < 1:
        raise ConfigError(f"devices={devices} must be at least 1")
    out = Path(output)
    world = min(devices, len(depths))
    if world == 1:
        _run_shard(0, depths, train_one, out, 1)
    else:
        torch.multiprocessing.start_processes(
            _run_shard, args=(depths, train_one, out, world), nprocs=world, start_method="spawn"
        )
    rows = []
    for d in sorted(depths):
        row = read_results(out / "rows" / f"depth_{d:04d}.json", DEPTH_SWEEP_ROW_FORMAT)
        rows.append({k: v for k, v in row.items() if k != "format"})
    sweep = {"format": DEPTH_SWEEP_FORMAT, "config": config, "rows": rows}
    write_json_atomic(out / "sweep.json", sweep)
    _write_csv(out / "sweep.csv", rows)
    _plot(out / "sweep.png", sweep, plot_metric)
    print(f"sweep: {out / 'sweep.csv'}")
    return rows


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    columns = sorted({k for row in rows for k in row}, key=lambda k: (k != "depth", k))
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def _plot(path: Path, sweep: dict[str, Any], metric: str) -> None:
    """The report's plot of ``metric`` vs depth (``report.dynamics.depth_sweep``), as a PNG."""
    from lightning_dream.report.dynamics import depth_sweep
    from lightning_dream.report.mpl import figure, pyplot

    blocks = [block for section in depth_sweep(sweep) for block in section.blocks]
    chosen = [block for block in blocks if getattr(block, "title", "") == f"{metric} vs depth"]
    fig = figure(chosen[0] if chosen else blocks[0])
    if fig is None:  # no row has a validation metric: the report has only a note to show
        return
    fig.savefig(path, dpi=120)
    pyplot().close(fig)


def _train_mlm_readout(
    depth: int,
    folder: Path,
    model: str,
    init_readout: bool,
    freeze_encoder: bool,
    lr: float,
    epochs: int,
    data: MaskedTextData,
) -> dict[str, Any]:
    from lightning_dream.experiments.depth.mlm_readout import MLMReadout

    readout = MLMReadout(model=model, depth=depth, freeze_encoder=freeze_encoder, init_readout=init_readout, lr=lr)
    trainer = trainer_for_depth(folder, epochs)
    trainer.fit(readout, datamodule=data)
    return final_metrics(trainer)


def mlm_depth_sweep(
    depths: list[int] = list(range(1, 25)),
    model: str = "albert-news-tiny",
    init_readout: bool = True,
    freeze_encoder: bool = True,
    lr: float = 2e-3,
    epochs: int = 3,
    block_size: int = 128,
    batch_size: int = 32,
    max_sentences: int | None = None,
    devices: int = 1,
    output: str = "runs/mlm_depth_sweep",
) -> list[dict[str, Any]]:
    """Masked-token accuracy on held-out text of an MLM readout trained at every depth.

    Args:
        depths: depths to train at (ALBERT: applications of its shared layer, any number).
        model: encoder (embedded name, folder or hub name).
        init_readout: start every head from scratch (the checkpoint's own head is trained at its depth only).
        freeze_encoder: train the head only.
        lr: peak learning rate of the head.
        epochs: epochs per depth.
        block_size: tokens per block.
        batch_size: blocks per batch.
        max_sentences: use only the first N corpus sentences (quick runs).
        devices: worker processes; depths are sharded across them.
        output: folder of the table (sweep.json, sweep.csv, sweep.png) and the per-depth runs.
    """
    config = dict(locals())
    check_depths(depths)
    data = MaskedTextData(tokenizer=model, block_size=block_size, batch_size=batch_size, max_sentences=max_sentences)
    data.setup()  # tokenised once, shared by every depth
    train_one = functools.partial(
        _train_mlm_readout,
        model=model,
        init_readout=init_readout,
        freeze_encoder=freeze_encoder,
        lr=lr,
        epochs=epochs,
        data=data,
    )
    return run_depth_sweep(depths, train_one, output, devices, config, "val/accuracy")
