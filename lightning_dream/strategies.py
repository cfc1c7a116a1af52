"""Job sharding across processes: DDP's process group without DDP's gradient averaging.

Jobs are independent optimisations. Stock DDP would average their gradients across ranks
(mixing unrelated jobs) and requires every rank to hold the same parameters (it hangs or fails
when ranks hold unequal numbers of jobs). This strategy keeps the process group, for gathering
results, but never wraps the module, so each rank optimises only its own jobs.
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
import torch.distributed as dist
from pytorch_lightning.strategies import DDPStrategy, StrategyRegistry
from pytorch_lightning.trainer.states import TrainerFn


class JobShardingStrategy(DDPStrategy):
    strategy_name = "job_sharding"

    def configure_ddp(self) -> None:
        """No DistributedDataParallel wrapper: no gradient all-reduce, no lock-step parameters."""

    def setup(self, trainer: pl.Trainer) -> None:
        if trainer.state.fn == TrainerFn.FITTING:
            super().setup(trainer)
            return
        # DDPStrategy would broadcast rank 0's parameters here; ranks hold different jobs.
        assert self.accelerator is not None
        self.accelerator.setup(trainer)
        self.precision_plugin.convert_module(self.model)
        self.model_to_device()
        self.setup_precision_plugin()

    @classmethod
    def register_strategies(cls, strategy_registry: StrategyRegistry) -> None:
        for suffix, start_method in (("", "popen"), ("_spawn", "spawn"), ("_fork", "fork")):
            strategy_registry.register(
                cls.strategy_name + suffix,
                cls,
                description=f"independent jobs sharded across processes, start method {start_method!r}",
                start_method=start_method,
                override=True,
            )


JobShardingStrategy.register_strategies(StrategyRegistry)


def several_devices(devices: Any, num_nodes: int = 1) -> bool:
    """Whether a Trainer's ``devices``/``num_nodes`` ask for more than one process."""
    if num_nodes and int(num_nodes) > 1:
        return True
    if isinstance(devices, (list, tuple)):
        return len(devices) > 1
    text = str(devices).strip()
    if text == "auto":
        return torch.cuda.device_count() > 1
    if "," in text:
        return len([part for part in text.split(",") if part.strip()]) > 1
    return text == "-1" or (text.isdigit() and int(text) > 1)


def job_strategy(experiment: str, strategy: Any, devices: Any, num_nodes: int = 1) -> Any:
    """The strategy an experiment of independent jobs runs with: job sharding when the strategy is
    left to Lightning (``auto``) and several devices are asked for; another explicit strategy on
    several devices is refused (stock DDP would average unrelated jobs' gradients, or hang)."""
    from lightning_dream.errors import ConfigError

    if not several_devices(devices, num_nodes) or (isinstance(strategy, str) and strategy.startswith("job_sharding")):
        return strategy
    if strategy in ("auto", None):
        return JobShardingStrategy.strategy_name
    name = strategy if isinstance(strategy, str) else type(strategy).__name__
    raise ConfigError(
        f"trainer.strategy={name} cannot run {experiment}'s independent jobs on several devices: "
        "leave it out (auto) or give job_sharding (job_sharding_spawn/_fork in notebooks)"
    )


def shard(num_jobs: int, rank: int, world_size: int) -> range:
    """The contiguous slice of job indices that ``rank`` owns (sizes differ by at most one)."""
    base, extra = divmod(num_jobs, world_size)
    start = rank * base + min(rank, extra)
    return range(start, start + base + (1 if rank < extra else 0))


def balanced_shard(costs: list[float], rank: int, world_size: int) -> list[int]:
    """The items ``rank`` owns when each item, costliest first, goes to the least-loaded rank
    (longest-processing-time first): items of very different cost end within one item of each other,
    where contiguous slices leave the ranks with the cheap items waiting. Same answer on every rank."""
    loads, owner = [0.0] * world_size, {}
    for item in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        target = min(range(world_size), key=lambda r: (loads[r], r))
        loads[target] += costs[item]
        owner[item] = target
    return [i for i in range(len(costs)) if owner[i] == rank]


def gather_to_rank_zero(obj: object) -> list[object]:
    """Every rank's ``obj`` in rank order (a list of one outside distributed runs)."""
    if not (dist.is_available() and dist.is_initialized()):
        return [obj]
    gathered: list[object] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, obj)
    return gathered
