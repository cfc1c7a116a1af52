"""Job sharding across processes: DDP's process group without DDP's gradient averaging.

Jobs are independent optimisations. Stock DDP would average their gradients across ranks
(mixing unrelated jobs) and requires every rank to hold the same parameters (it hangs or fails
when ranks hold unequal numbers of jobs). This strategy keeps the process group, for gathering
results, but never wraps the module, so each rank optimises only its own jobs.
"""

from __future__ import annotations

import pytorch_lightning as pl
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


def shard(num_jobs: int, rank: int, world_size: int) -> range:
    """The contiguous slice of job indices that ``rank`` owns (sizes differ by at most one)."""
    base, extra = divmod(num_jobs, world_size)
    start = rank * base + min(rank, extra)
    return range(start, start + base + (1 if rank < extra else 0))


def gather_to_rank_zero(obj: object) -> list[object]:
    """Every rank's ``obj`` in rank order (a list of one outside distributed runs)."""
    if not (dist.is_available() and dist.is_initialized()):
        return [obj]
    gathered: list[object] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, obj)
    return gathered
