"""ALBERT as a dynamical system: record trajectories, measure Lyapunov exponents (``predict``).

Both experiments run the shared layer in chunks of steps (one predict batch per chunk), so a
run of 10,000 steps holds one chunk at a time. Per step (or per Benettin window) they log the
synchronisation and dimension curves to TensorBoard; ``ResultWriter`` writes them to
``results.json`` and ``FigureLogger`` draws the report's views of them as TensorBoard images.

    lightning-dream predict --config configs/trajectory.yaml
    lightning-dream predict --config configs/lyapunov.yaml
"""

from __future__ import annotations

import math
from typing import Any, Literal

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback
from torch import Tensor
from torch.utils.data import DataLoader

from lightning_dream.checks import AtLeastOne, check_arguments
from lightning_dream.data.corpus import load_sentences
from lightning_dream.data.masked_lm import pack_blocks
from lightning_dream.data.steps import step_loader
from lightning_dream.errors import ConfigError
from lightning_dream.models import dynamics
from lightning_dream.models.albert_iteration import AlbertIteration, check_albert
from lightning_dream.models.loading import load_tokenizer
from lightning_dream.results import ResultSource, Summary


class IteratedSystemRun(pl.LightningModule, ResultSource):
    """What both experiments share: the model, the inputs, the chunked loop, the curves."""

    result_rows = None  # the results describe the whole run: curves over steps, no jobs

    def __init__(
        self,
        model: str = "albert-news-tiny",
        sentences: list[str] | None = None,
        block_size: int = 16,
        num_inputs: int = 4,
        num_steps: AtLeastOne = 100,
        chunk_size: AtLeastOne = 50,
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
        check_arguments(type(self), self.hparams)
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
        self.apply_layer = self.system.step_function(self.mask)  # the one-step map: state -> next state
        self.state = self.system.initial_state(self.input_ids).detach()
        self.current_step = 0  # applications of the layer so far

    def predict_dataloader(self) -> DataLoader:
        return step_loader(math.ceil(self.hparams.num_steps / self.hparams.chunk_size))

    def chunk_steps(self) -> int:
        return min(self.hparams.chunk_size, self.hparams.num_steps - self.current_step)

    def record(self, step: int, state: Tensor) -> None:
        """Synchronisation and dimension of ``state`` at ``step``: kept for the results, logged."""
        spread = dynamics.token_spread(state, self.mask)
        dimension = dynamics.participation_ratio(state, self.mask)
        distance = dynamics.mean_off_diagonal(dynamics.sentence_distances(state, self.mask))
        row = {
            "step": step,
            "token_spread": spread.tolist(),
            "participation_ratio": dimension.tolist(),
            "sentence_distance": None if math.isnan(distance) else distance,
        }
        if row["sentence_distance"] is None:
            row["sentence_distance_undefined"] = "one input: no pair of inputs to measure"
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

    def configure_callbacks(self) -> list[Callback]:
        from lightning_dream.callbacks import FigureLogger, ResultWriter, default_callbacks

        return default_callbacks(self._trainer, ResultWriter(), FigureLogger())

    def result_fields(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        tok = load_tokenizer(self.hparams.model)
        return {
            "fingerprint": self.system.fingerprint(),
            "inputs": [tok.decode(ids[m.bool()]) for ids, m in zip(self.input_ids, self.mask)],
            "tokens_per_input": self.mask.sum(dim=1).tolist(),
            **self.summary(),
            **self.curves,
        }

    def summary(self) -> dict[str, Any]:
        """Run-level numbers of the experiment, written before the curves."""
        return {}

    def summary_table(self, payload: dict[str, Any]) -> Summary:
        """Per input, where it ended: token spread (0 = synchronised) and participation ratio."""
        last = payload["sync"][-1]
        columns = ["input", "tokens", f"token spread @ {last['step']}", f"participation ratio @ {last['step']}"]
        rows = [
            [text[:48], tokens, spread, ratio]
            for text, tokens, spread, ratio in zip(
                payload["inputs"], payload["tokens_per_input"], last["token_spread"], last["participation_ratio"]
            )
        ]
        return Summary(f"{type(self).__name__} of {self.hparams.model}", columns, rows)
