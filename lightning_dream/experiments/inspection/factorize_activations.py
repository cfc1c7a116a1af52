"""Activation factorisation: NMF of the feed-forward neurons' activations over a text.

The activations of the chosen blocks' feed-forward neurons (after the nonlinearity; negatives
clipped to 0, as NMF needs) form a tokens x neurons matrix ``A``; scikit-learn's NMF writes
``A ~ W H`` with a few components. ``W[token, component]`` says how strongly each token
expresses a component (the report highlights the text with it, as Ecco's explore view does);
``H`` names each component's strongest neurons.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from sklearn.decomposition import NMF

from lightning_dream.checks import PositiveInt, in_range
from lightning_dream.errors import ConfigError
from lightning_dream.experiments.inspection.base import InspectExperiment
from lightning_dream.models.readout import parse_layers
from lightning_dream.results import FACTORIZE_FORMAT, Summary

TEXT = (
    "The old lighthouse keeper climbed the stairs every evening. He lit the lamp, wrote the weather"
    " in his book and watched the ships pass. In winter the storms came from the north, and the"
    " waves broke over the rocks below. Nobody in the village remembered a night without the light."
)

#: NMF components a factorisation may have
Components = in_range(1, 64)


class FactorizeActivations(InspectExperiment):
    result_format = FACTORIZE_FORMAT

    def __init__(
        self,
        sentences: list[str] | str = TEXT,
        layers: list[int] | int | Literal["all"] = "all",
        n_components: Components = 6,
        skip_special: bool = True,
        top_neurons: PositiveInt = 5,
        seed: int = 0,
        max_iter: PositiveInt = 500,
        **kwargs: Any,
    ):
        """
        Args:
            sentences: the text(s) to factorise; each is one job.
            layers: blocks whose feed-forward neurons are read (1..N, or ``all`` concatenated).
            n_components: NMF components.
            skip_special: leave [CLS]/[SEP] out of the factorisation (their large activations
                would take a component of their own).
            top_neurons: strongest neurons recorded per component.
            seed: NMF initialisation seed.
            max_iter: NMF iterations.
        """
        super().__init__(sentences=sentences, **kwargs)
        blocks = self.config.num_hidden_layers
        self.layers = parse_layers(layers, blocks, first=1)  # layer 0 (the embeddings) has no feed-forward neurons
        shortest = min(len(ids) for ids in self.input_ids) - (2 if skip_special else 0)
        if n_components > shortest:
            raise ConfigError(f"n_components={n_components} exceeds the shortest text's {shortest} tokens")

    def ffn_modules(self) -> list[torch.nn.Module]:
        try:
            return [self.encoder.encoder.layer[k - 1].intermediate for k in self.layers]
        except AttributeError:
            raise ConfigError(
                f"model {self.model_name!r} has no BERT-style encoder.layer[k].intermediate feed-forward to read"
            ) from None

    def activations(self, ids: torch.Tensor) -> torch.Tensor:
        """(tokens, neurons of every chosen block side by side), clipped at 0."""
        captured: list[torch.Tensor] = []
        hooks = [m.register_forward_hook(lambda _m, _i, out: captured.append(out[0])) for m in self.ffn_modules()]
        try:
            self.encoder(input_ids=ids, attention_mask=torch.ones_like(ids))
        finally:
            for hook in hooks:
                hook.remove()
        return torch.cat(captured, dim=-1).clamp_min(0).float().cpu()

    def inspect(self, ids: torch.Tensor) -> dict[str, Any]:
        acts = self.activations(ids)
        rows = slice(1, -1) if self.hparams.skip_special else slice(None)
        nmf = NMF(
            self.hparams.n_components, init="nndsvda", random_state=self.hparams.seed, max_iter=self.hparams.max_iter
        )
        weights = torch.zeros(acts.shape[0], self.hparams.n_components)
        weights[rows] = torch.from_numpy(nmf.fit_transform(acts[rows].numpy())).float()
        loadings = torch.from_numpy(nmf.components_).float()
        width = acts.shape[1] // len(self.layers)
        top = loadings.topk(self.hparams.top_neurons, dim=-1)
        return {
            "layers": self.layers,
            "n_components": self.hparams.n_components,
            "token_weights": weights.round(decimals=5).tolist(),  # [token][component]
            "components": [
                {
                    "top_neurons": [
                        {"layer": self.layers[i // width], "neuron": i % width, "loading": round(v, 5)}
                        for i, v in zip(idx.tolist(), val.tolist())
                    ]
                }
                for idx, val in zip(top.indices, top.values)
            ],
            "relative_error": float(nmf.reconstruction_err_ / max(acts[rows].norm().item(), 1e-12)),
            "fixed_positions": [] if not self.hparams.skip_special else [0, acts.shape[0] - 1],
        }

    def summary_table(self, payload: dict[str, Any]) -> Summary:
        """Per text and component: the tokens it weighs most and its strongest neuron."""
        rows = []
        for job in payload["jobs"]:
            weights = torch.tensor(job["token_weights"])  # (tokens, components)
            for c, component in enumerate(job["components"]):
                top = weights[:, c].topk(min(3, len(job["tokens"]))).indices.tolist()
                neuron = component["top_neurons"][0]
                where = f"layer {neuron['layer']} #{neuron['neuron']}"
                rows.append([job["job"], c, " ".join(job["tokens"][i] for i in top), where])
        return Summary("Factors of feed-forward activations", ["text", "component", "top tokens", "top neuron"], rows)
