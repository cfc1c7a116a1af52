"""ALBERT as a dynamical system: record trajectories, measure Lyapunov exponents (``predict``).

Both experiments run the shared layer in chunks of steps (one predict batch per chunk), so a
run of 10,000 steps holds one chunk at a time. Per step (or per Benettin window) they log the
synchronisation and dimension curves to TensorBoard and write them to ``results.json``.

    lightning-dream predict --config configs/trajectory.yaml
    lightning-dream predict --config configs/lyapunov.yaml
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
from lightning_dream.errors import ConfigError
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
        axes[0, 0].semilogy(
            [row["step"] for row in sync],
            spread[:, column].clamp(min=1e-20),
            lw=1,
            label=f"input {column} ({tokens} tok)",
        )
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
            raise ConfigError(
                f"block_size={block_size} (>= 3) and num_inputs={num_inputs} (>= 1) needed for corpus inputs"
            )
        self.dtype_ = torch.float64 if precision == "float64" else torch.float32
        self.curves: dict[str, list[Any]] = {}

    def inputs(self) -> tuple[Tensor, Tensor]:
        tok = load_tokenizer(self.hparams.model)
        if self.hparams.sentences:
            batch = tok(list(self.hparams.sentences), padding=True, return_tensors="pt")
            return batch["input_ids"], batch["attention_mask"]
        sentences, needed = load_sentences("news"), self.hparams.num_inputs * self.hparams.block_size
        ids = tok(list(sentences[: needed // 4 + 16]), add_special_tokens=False)[
            "input_ids"
        ]  # news sentences: > 4 pieces
        blocks = pack_blocks(ids, self.hparams.block_size, tok.cls_token_id, tok.sep_token_id)[
            : self.hparams.num_inputs
        ]
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
        row = {
            "step": step,
            "token_spread": spread.tolist(),
            "participation_ratio": dimension.tolist(),
            "sentence_distance": distance,
        }
        self.curves.setdefault("sync", []).append(row)
        self.log_scalars(
            step,
            {
                "token_spread": float(spread.mean()),
                "participation_ratio": float(dimension.mean()),
                "sentence_distance": distance,
            },
        )

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
