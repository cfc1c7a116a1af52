"""What the depth studies share: a readout per depth in one module, one encoder pass to the deepest
depth per batch, per-depth metrics named ``val/depth_010/<metric>``, the table of the last
validation as result rows (``lightning_dream.depth_probe/1``), and the curve's callbacks.

The readouts are independent parameters whose losses add up, so each gets exactly the gradient it
would get alone: one run over all depths equals one run per depth with the same data order.
They are shared by every process, so stock DDP (data parallel) is the strategy for many devices.
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from torch import Tensor
from transformers import PretrainedConfig

from lightning_dream.callbacks.depth_curve import DepthCurveLogger
from lightning_dream.callbacks.memory import FreedMemoryRelease
from lightning_dream.callbacks.results import ResultWriter
from lightning_dream.errors import ConfigError
from lightning_dream.models.depth import check_depth
from lightning_dream.results import DEPTH_PROBE_FORMAT, ResultSource


def check_depths(depths: list[int], config: PretrainedConfig) -> list[int]:
    """Distinct depths the model has (>= 1: depth 0 has no layer to read), sorted."""
    if not depths:
        raise ConfigError("depths is empty: give at least one depth >= 1")
    repeated = sorted({d for d in depths if depths.count(d) > 1})
    if repeated:
        raise ConfigError(f"depths repeats {repeated}: give each depth once")
    return sorted(check_depth(d, config, name="depths") for d in depths)


def depth_key(depth: int) -> str:
    return f"depth_{depth:03d}"


class DepthStudy(ResultSource, pl.LightningModule):
    """Base of ``DepthProbe`` and ``MLMDepthProbe``: ``self.depths`` sorted, ``self.table`` the last
    validation's metrics per depth (one row per depth), and a fixed encoder kept in eval mode."""

    result_format = DEPTH_PROBE_FORMAT
    result_rows = "rows"
    depths: list[int]
    fixed_encoder: bool = True

    def __init__(self) -> None:
        super().__init__()
        self.table: list[dict[str, Any]] = []

    def train(self, mode: bool = True) -> DepthStudy:
        """A fixed encoder stays in eval mode (no dropout): it is a feature extractor."""
        super().train(mode)
        if self.fixed_encoder:
            for module in self.encoders():
                module.eval()
        return self

    def encoders(self) -> list[pl.LightningModule]:
        return []

    def record(self, values: dict[str, Tensor | float]) -> None:
        """Log ``val/<depth_key>/<metric>`` values and keep them as the table (one row per depth)."""
        self.log_dict(values)
        if self.trainer.sanity_checking:
            return
        rows = {d: {"depth": d} for d in self.depths}
        for name, value in values.items():
            _, key, metric = name.split("/", 2)
            rows[int(key.removeprefix("depth_"))][f"val/{metric}"] = float(value)
        self.table = [rows[d] for d in self.depths]

    # -- results -----------------------------------------------------------------------------
    def job_results(self) -> dict[int, dict[str, Any]]:
        """The table is the same on every rank (metrics are synced): rank 0 gives it."""
        return dict(enumerate(self.table)) if self.global_rank == 0 else {}

    def result_fields(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        metrics = sorted({k for row in rows for k in row if k.startswith("val/")})
        best = {}
        for metric in metrics:
            scored = [r for r in rows if isinstance(r.get(metric), float) and r[metric] == r[metric]]
            if scored:
                top = max(scored, key=lambda r: r[metric])
                best[metric] = {"depth": top["depth"], "value": top[metric]}
        return {"depths": self.depths, "epochs": self.current_epoch, "best": best, **self.run_fields()}

    def run_fields(self) -> dict[str, Any]:
        """Run-level fields of the study (the task, its size)."""
        return {}

    def result_lines(self, payload: dict[str, Any]) -> list[str]:
        return [f"best {metric}: {b['value']:.4f} at depth {b['depth']}" for metric, b in payload["best"].items()]

    def headline(self, payload: dict[str, Any]) -> float | None:
        """``hp_metric``: the best depth's value of the task's first metric."""
        best = payload.get("best", {})
        return next(iter(best.values()))["value"] if best else None

    def configure_callbacks(self) -> list[Callback]:
        from lightning_dream.callbacks.defaults import default_callbacks

        return default_callbacks(self._trainer, ResultWriter(), DepthCurveLogger(), FreedMemoryRelease())
