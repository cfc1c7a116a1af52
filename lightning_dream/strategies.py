"""Job sharding across processes: DDP's process group without DDP's gradient averaging.

Jobs are independent optimisations. Stock DDP would average their gradients across ranks
(mixing unrelated jobs) and requires every rank to hold the same parameters (it hangs or fails
when ranks hold unequal numbers of jobs). This strategy keeps the process group, for gathering
results, but never wraps the module, so each rank optimises only its own jobs.

Its checkpoints hold every rank's state: DDP writes rank 0's alone (its ranks are copies of one
another), so a resumed rank 1 would have continued rank 0's jobs.
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
import torch.distributed as dist
from pytorch_lightning.strategies import DDPStrategy, StrategyRegistry
from pytorch_lightning.trainer.states import TrainerFn, TrainerStatus
from pytorch_lightning.utilities import move_data_to_device

#: in a job-sharded checkpoint, the states of ranks 1, 2, ... (rank 0's is the checkpoint itself)
SHARDS_KEY = "job_shards"


def checkpoint_processes(checkpoint: dict[str, Any]) -> int:
    """How many processes wrote a checkpoint (one unless job sharding wrote it)."""
    return 1 + len(checkpoint.get(SHARDS_KEY) or [])


def check_checkpoint_processes(checkpoint: dict[str, Any], processes: int, path: Any) -> None:
    """A checkpoint of independent jobs resumes on as many processes as wrote it (each owns its jobs)."""
    from lightning_dream.errors import ConfigError

    written = checkpoint_processes(checkpoint)
    if written != processes:
        raise ConfigError(
            f"ckpt_path={path} holds the jobs of {written} process(es), each its own share: resume it on "
            f"{written} (--trainer.devices {written}), not {processes}"
        )


def check_whole_checkpoint(checkpoint: dict[str, Any], path: Any) -> None:
    """A checkpoint loaded without job sharding (one process) must be one process's: job sharding
    hands each rank its own state, without the others'."""
    if checkpoint.get(SHARDS_KEY):
        check_checkpoint_processes(checkpoint, 1, path)


class JobShardingStrategy(DDPStrategy):
    strategy_name = "job_sharding"

    def configure_ddp(self) -> None:
        """No DistributedDataParallel wrapper: no gradient all-reduce, no lock-step parameters."""

    def save_checkpoint(self, checkpoint: dict[str, Any], filepath: Any, storage_options: Any = None) -> None:
        """One file with every rank's own state (called on every rank, like DDP's)."""
        states = gather_to_rank_zero(move_data_to_device(checkpoint, "cpu"))
        super().save_checkpoint({**checkpoint, SHARDS_KEY: states[1:]}, filepath, storage_options)

    def load_checkpoint(self, checkpoint_path: Any, weights_only: bool | None = None) -> dict[str, Any]:
        """This rank's own state; a checkpoint written by another number of processes is refused."""
        checkpoint = super().load_checkpoint(checkpoint_path, weights_only)
        check_checkpoint_processes(checkpoint, self.world_size, checkpoint_path)
        others = checkpoint.pop(SHARDS_KEY, [])
        return checkpoint if self.global_rank == 0 else others[self.global_rank - 1]

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

    def teardown(self) -> None:
        """Every rank leaves the process group together. Left to the exit handlers, a rank that ends
        after the others tore down its peers' connections can abort (gloo, "terminate called without
        an active exception", exit code -6; how often: docs/performance.md)."""
        module = self.lightning_module
        trainer = None if module is None else module._trainer
        ended = trainer is not None and trainer.state.status != TrainerStatus.INTERRUPTED
        super().teardown()
        # after an exception the other ranks may be inside another collective: no barrier to hang in
        if ended and dist.is_available() and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()

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


def process_count(devices: Any, num_nodes: int = 1) -> int | None:
    """How many processes a Trainer's ``devices``/``num_nodes`` ask for (None: every device, ``-1``)."""
    nodes = int(num_nodes or 1)
    if isinstance(devices, (list, tuple)):
        return len(devices) * nodes
    text = str(devices).strip()
    if text == "auto":
        return max(1, torch.cuda.device_count()) * nodes
    if "," in text:
        return len([part for part in text.split(",") if part.strip()]) * nodes
    if text == "-1":
        return None
    return int(text) * nodes if text.isdigit() else 1


def several_devices(devices: Any, num_nodes: int = 1) -> bool:
    """Whether a Trainer's ``devices``/``num_nodes`` ask for more than one process."""
    count = process_count(devices, num_nodes)
    return count is None or count > 1


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


def require_job_sharding(module: pl.LightningModule) -> None:
    """An experiment of independent jobs on several processes runs under job sharding: a Trainer
    built by hand with another strategy is refused in one line (the CLI already chose it)."""
    trainer = module.trainer
    if trainer.world_size > 1 and not isinstance(trainer.strategy, JobShardingStrategy):
        job_strategy(type(module).__name__, trainer.strategy, trainer.world_size)


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
