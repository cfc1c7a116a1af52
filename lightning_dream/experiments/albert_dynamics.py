"""ALBERT as a dynamical system: record trajectories, measure Lyapunov exponents (``predict``).

Both experiments run the shared layer in chunks of steps (one predict batch per chunk), so a
run of 10,000 steps holds one chunk at a time. Per step (or per Benettin window) they log the
synchronisation and dimension curves to TensorBoard and write them to ``results.json``.

    lightning-dream predict --config configs/albert_trajectory.yaml
    lightning-dream predict --config configs/albert_lyapunov.yaml
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from lightning_dream.callbacks.results import run_dir
from lightning_dream.data.corpus import load_sentences
from lightning_dream.data.masked_lm import pack_blocks
from lightning_dream.data.steps import step_loader
from lightning_dream.data.trajectories import TrajectoryReader, TrajectoryWriter
from lightning_dream.errors import ConfigError, check_positive
from lightning_dream.models import dynamics
from lightning_dream.models.albert_iteration import AlbertIteration, check_albert, check_steps
from lightning_dream.models.loading import load_tokenizer
from lightning_dream.results import write_json_atomic


def dynamics_figure(payload: dict[str, Any], path: Path) -> None:
    """Token spread (synchronisation) and, for Lyapunov runs, the local and running-mean exponent per step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 2 if "local_exponents" in payload else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 3.4), squeeze=False)
    sync = payload["sync"]
    spread = torch.tensor([row["token_spread"] for row in sync])
    for column, tokens in enumerate(payload["tokens_per_input"]):
        axes[0, 0].semilogy([row["step"] for row in sync], spread[:, column].clamp(min=1e-20), lw=1, label=f"input {column} ({tokens} tok)")
    axes[0, 0].set(xlabel="step", ylabel="token spread (std over positions)", title="synchronisation")
    axes[0, 0].legend(fontsize=7)
    if panels == 2:
        local = payload["local_exponents"]
        steps = [row["step"] for row in local]
        per_step = torch.tensor([row["per_input"] for row in local]).mean(dim=1)
        running = per_step.cumsum(0) / torch.arange(1, len(per_step) + 1)
        axes[0, 1].plot(steps, per_step, lw=0.8, alpha=0.6, label="local (window)")
        axes[0, 1].plot(steps, running, lw=1.5, label="running mean")
        axes[0, 1].axhline(0, color="k", lw=0.5)
        axes[0, 1].set(xlabel="step", ylabel="Lyapunov exponent (per step)", title="maximal exponent (Benettin)")
        axes[0, 1].legend(fontsize=7)
    fig.suptitle(f"{payload['config']['model']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


class IteratedSystemRun(pl.LightningModule):
    """What both experiments share: the model, the inputs, the chunked loop, the curves."""

    result_format: ClassVar[str]

    def __init__(
        self,
        model: str = "albert-news-tiny",
        sentences: list[str] | None = None,
        block_size: int = 16,
        num_inputs: int = 4,
        num_steps: int = 100,
        chunk_size: int = 50,
        precision: Literal["float32", "float64"] = "float64",
    ):
        """
        Args:
            model: an ALBERT checkpoint (embedded ``albert-news-tiny``, a folder, a hub name).
            sentences: the inputs; default ``num_inputs`` news-corpus blocks of ``block_size`` tokens
                (fixed-length inputs, as in the transient-chaos study: 16 vs 128 tokens).
            block_size: tokens per corpus block, [CLS] and [SEP] included.
            num_inputs: number of corpus blocks when ``sentences`` is not given.
            num_steps: applications of the shared layer (any number, beyond the trained depth).
            chunk_size: steps per predict batch (and per trajectory file).
            precision: float64 keeps tiny perturbations (1e-6) above rounding noise.
        """
        super().__init__()
        self.save_hyperparameters()
        check_albert(model)
        check_steps("num_steps", num_steps)
        check_steps("chunk_size", chunk_size)
        if sentences is None and (block_size < 3 or num_inputs < 1):
            raise ConfigError(f"block_size={block_size} (>= 3) and num_inputs={num_inputs} (>= 1) needed for corpus inputs")
        self.dtype_ = torch.float64 if precision == "float64" else torch.float32
        self.curves: dict[str, list[Any]] = {}

    def inputs(self) -> tuple[Tensor, Tensor]:
        tok = load_tokenizer(self.hparams.model)
        if self.hparams.sentences:
            batch = tok(list(self.hparams.sentences), padding=True, return_tensors="pt")
            return batch["input_ids"], batch["attention_mask"]
        sentences, needed = load_sentences("news"), self.hparams.num_inputs * self.hparams.block_size
        ids = tok(list(sentences[: needed // 4 + 16]), add_special_tokens=False)["input_ids"]  # news sentences: > 4 pieces
        blocks = pack_blocks(ids, self.hparams.block_size, tok.cls_token_id, tok.sep_token_id)[: self.hparams.num_inputs]
        return blocks, torch.ones_like(blocks)

    def configure_model(self) -> None:
        if hasattr(self, "system"):
            return
        eager = self.hparams.get("attentions", False) or self.hparams.get("num_exponents", 0) > 0
        self.system = AlbertIteration.load(self.hparams.model, self.dtype_, eager=eager)
        self.input_ids, self.mask = self.inputs()
        self.step = self.system.step_function(self.mask)
        self.state = self.system.initial_state(self.input_ids).detach()
        self.t = 0

    def predict_dataloader(self) -> DataLoader:
        return step_loader(math.ceil(self.hparams.num_steps / self.hparams.chunk_size))

    def chunk_steps(self) -> int:
        return min(self.hparams.chunk_size, self.hparams.num_steps - self.t)

    def record(self, step: int, state: Tensor) -> None:
        """Synchronisation and dimension of ``state`` at ``step``: kept for the results, logged."""
        spread = dynamics.token_spread(state, self.mask)
        dimension = dynamics.participation_ratio(state, self.mask)
        distance = dynamics.mean_off_diagonal(dynamics.sentence_distances(state, self.mask))
        row = {"step": step, "token_spread": spread.tolist(), "participation_ratio": dimension.tolist(), "sentence_distance": distance}
        self.curves.setdefault("sync", []).append(row)
        self.log_scalars(step, {"token_spread": float(spread.mean()), "participation_ratio": float(dimension.mean()), "sentence_distance": distance})

    def log_scalars(self, step: int, values: dict[str, float]) -> None:
        if self.logger is not None:
            self.logger.log_metrics({f"dynamics/{k}": v for k, v in values.items() if not math.isnan(v)}, step=step)

    def on_predict_epoch_end(self) -> None:
        tok = load_tokenizer(self.hparams.model)
        payload = {
            "format": self.result_format,
            "experiment": type(self).__name__,
            "config": dict(self.hparams),
            "fingerprint": self.system.fingerprint(),
            "inputs": [tok.decode(ids[m.bool()]) for ids, m in zip(self.input_ids, self.mask)],
            "tokens_per_input": self.mask.sum(dim=1).tolist(),
            **self.summary(),
            **self.curves,
        }
        path = write_json_atomic(run_dir(self.trainer) / "results.json", payload)
        dynamics_figure(payload, path.with_name("dynamics.png"))
        self.print(f"results: {path}")

    def summary(self) -> dict[str, Any]:
        return {}


class Trajectory(IteratedSystemRun):
    result_format = "lightning_dream.albert_trajectory/1"

    def __init__(self, output_dir: str | None = None, attentions: bool = False, continue_from: str | None = None, **kwargs):
        """
        Args:
            output_dir: trajectory folder (default: ``trajectory`` in the run folder).
            attentions: also store every step's attention weights (eager attention, slower).
            continue_from: a trajectory folder; start from its last state (same model and inputs).
            **kwargs: see ``IteratedSystemRun``.
        """
        super().__init__(**kwargs)
        self.save_hyperparameters()

    def configure_model(self) -> None:
        if hasattr(self, "system"):
            return
        super().configure_model()
        meta = {"model": self.hparams.model, "fingerprint": self.system.fingerprint(),
                "input_ids": self.input_ids.tolist(), "attention_mask": self.mask.tolist()}
        if self.hparams.continue_from:
            previous = TrajectoryReader(self.hparams.continue_from)
            previous.check_model(self.hparams.model, meta["fingerprint"])
            if previous.meta["input_ids"] != meta["input_ids"]:
                raise ConfigError(f"trajectory {self.hparams.continue_from} was recorded from other inputs")
            self.state = previous.states(previous.num_steps - 1)[0].to(self.dtype_)
            self.t = previous.num_steps - 1
        folder = self.hparams.output_dir or Path(run_dir(self.trainer)) / "trajectory"
        self.writer = TrajectoryWriter(folder, meta, self.hparams.chunk_size, first_step=self.t + bool(self.t))
        self.steps_done = 0
        if not self.t:
            self.writer.append(self.state, self.no_attentions())
            self.record(0, self.state)

    def chunk_steps(self) -> int:
        """Steps ``num_steps`` counts from where this run starts (0, or the continued trajectory's end)."""
        steps = min(self.hparams.chunk_size, self.hparams.num_steps - self.steps_done)
        self.steps_done += steps
        return steps

    def predict_step(self, batch: int, batch_idx: int) -> None:
        with self.system.recorded_attentions() as attentions:
            for state in self.system.iterate(self.state, self.mask, self.chunk_steps()):
                self.t += 1
                self.writer.append(state, attentions[-1] if self.hparams.attentions else None)
                self.record(self.t, state)
                attentions.clear()
                self.state = state

    def no_attentions(self) -> Tensor | None:
        """Step 0 (the embeddings) has no attention: zeros keep the stored steps aligned."""
        if not self.hparams.attentions:
            return None
        heads, length = self.system.config.num_attention_heads, self.mask.shape[1]
        return torch.zeros(self.mask.shape[0], heads, length, length, dtype=self.dtype_)

    def on_predict_epoch_end(self) -> None:
        self.writer.flush()
        super().on_predict_epoch_end()

    def summary(self) -> dict[str, Any]:
        return {"trajectory": str(self.writer.folder), "num_steps": self.t}


class Lyapunov(IteratedSystemRun):
    result_format = "lightning_dream.albert_lyapunov/1"

    def __init__(self, epsilon: float = 1e-6, tau: int = 1, num_directions: int = 4, num_exponents: int = 0, seed: int = 0, **kwargs):
        """
        Args:
            epsilon: size of the perturbation, renormalised back to it after every window.
            tau: steps per window (the distance is measured and renormalised every ``tau`` steps).
            num_directions: independent random perturbation directions (averaged).
            num_exponents: also estimate the leading k exponents by QR re-orthonormalisation of
                k tangent vectors pushed through Jacobian-vector products (0: skip, costs k JVPs per step).
            seed: seed of the directions.
            **kwargs: see ``IteratedSystemRun``.
        """
        super().__init__(**kwargs)
        self.save_hyperparameters()
        check_positive("epsilon", epsilon)
        check_positive("tau", tau)
        if self.hparams.chunk_size % tau:
            raise ConfigError(f"chunk_size={self.hparams.chunk_size} must be a multiple of tau={tau}")
        if num_directions < 1 or num_exponents < 0:
            raise ConfigError(f"num_directions={num_directions} must be >= 1 and num_exponents={num_exponents} >= 0")

    def configure_model(self) -> None:
        if hasattr(self, "system"):
            return
        super().configure_model()
        generator = torch.Generator().manual_seed(self.hparams.seed)
        self.benettin = dynamics.benettin_start(self.state, self.mask, self.hparams.epsilon, self.hparams.num_directions, generator)
        if self.hparams.num_exponents:
            self.tangent_state = self.state
            self.tangents = dynamics.random_directions(self.state, self.mask, self.hparams.num_exponents, generator)
            self.log_growth = torch.zeros(self.hparams.num_exponents, self.mask.shape[0], dtype=self.dtype_)
        self.exponent_sum = torch.zeros(self.mask.shape[0], dtype=self.dtype_)  # per input, over windows
        self.windows = 0
        self.record(0, self.state)

    @torch.no_grad()
    def predict_step(self, batch: int, batch_idx: int) -> None:
        tau, eps, steps = self.hparams.tau, self.hparams.epsilon, self.chunk_steps()
        for _ in range(steps // tau):
            self.benettin, local = dynamics.benettin_window(self.step, self.benettin, self.mask, eps, tau)
            self.t += tau
            self.exponent_sum += local.mean(dim=0)
            self.windows += 1
            self.curves.setdefault("local_exponents", []).append({"step": self.t, "per_input": local.mean(dim=0).tolist()})
            self.record(self.t, self.benettin.state)
            self.log_scalars(self.t, {"local_lyapunov": float(local.mean()), "lyapunov_running_mean": self.maximal()})
        if self.hparams.num_exponents:
            with torch.enable_grad():
                for _ in range(steps):
                    self.tangent_state, self.tangents, growth = dynamics.lyapunov_spectrum_step(self.step, self.tangent_state, self.tangents, self.mask)
                    self.log_growth += growth

    def maximal(self) -> float:
        """Running mean over windows, directions and inputs (kept as a sum: O(1) per window)."""
        return float(self.exponent_sum.mean() / self.windows)

    def summary(self) -> dict[str, Any]:
        per_input = self.exponent_sum / self.windows
        out: dict[str, Any] = {"maximal_exponent": self.maximal(), "maximal_exponent_per_input": per_input.tolist()}
        if self.hparams.num_exponents:
            out["spectrum"] = (self.log_growth / self.t).sort(dim=0, descending=True).values.T.tolist()
        return out
