"""One LightningModule per experiment, grouped by family; each family's ``base`` holds what its
experiments share. LightningCLI selects them by class name (``--model Dream``) or by
``class_path: lightning_dream.experiments.Dream``.

- ``soft_input``: optimise a softmax-relaxed input (Dream, DreamMLM, Reconstruct and variants; CompareMethods)
- ``masked_lm``: read a masked LM's predictions (FillMask, KnowledgeProbe, MLMSampling)
- ``substitution``: put other tokens or sentences in and read a target (TokenSearch,
  SimilarEmbeddings, CorpusSearch)
- ``inspection``: read a frozen encoder over given texts (SentenceAttention,
  FactorizeActivations) or train a linear readout on it (CAV)
- ``depth``: readouts, probes and pretraining across encoder depth (MLMReadout, DepthProbe,
  MLMDepthProbe, MaskedLMPretraining)
- ``dynamics``: ALBERT's shared layer as an iterated map (Trajectory, Lyapunov)


Importing this package loads no experiment: ``lightning_dream.experiments.Dream`` imports the module
of Dream alone when first asked for (module ``__getattr__``), so the CLI, ``report`` and ``import
lightning_dream`` start without Lightning or transformers loading every family.
"""

from __future__ import annotations

import importlib
from typing import Any

#: class name -> module that defines it; the one map from an experiment's name to its code
EXPERIMENTS: dict[str, str] = {
    "CAV": "lightning_dream.experiments.inspection.cav",
    "CompareMethods": "lightning_dream.experiments.soft_input.compare",
    "CorpusSearch": "lightning_dream.experiments.substitution.corpus_search",
    "DepthProbe": "lightning_dream.experiments.depth.depth_probe",
    "Dream": "lightning_dream.experiments.soft_input.dream",
    "DreamMLM": "lightning_dream.experiments.soft_input.dream_mlm",
    "FactorizeActivations": "lightning_dream.experiments.inspection.factorize_activations",
    "FillMask": "lightning_dream.experiments.masked_lm.fill_mask",
    "KnowledgeProbe": "lightning_dream.experiments.masked_lm.knowledge_probe",
    "Lyapunov": "lightning_dream.experiments.dynamics.lyapunov",
    "MLMDepthProbe": "lightning_dream.experiments.depth.mlm_depth_probe",
    "MLMReadout": "lightning_dream.experiments.depth.mlm_readout",
    "MLMSampling": "lightning_dream.experiments.masked_lm.mlm_sampling",
    "MaskedLMPretraining": "lightning_dream.experiments.depth.masked_lm_pretraining",
    "Reconstruct": "lightning_dream.experiments.soft_input.reconstruct",
    "ReconstructChanged": "lightning_dream.experiments.soft_input.reconstruct",
    "ReconstructShifted": "lightning_dream.experiments.soft_input.reconstruct",
    "SentenceAttention": "lightning_dream.experiments.inspection.sentence_attention",
    "SimilarEmbeddings": "lightning_dream.experiments.substitution.similar_embeddings",
    "SoftInputExperiment": "lightning_dream.experiments.soft_input.base",
    "TokenSearch": "lightning_dream.experiments.substitution.token_search",
    "Trajectory": "lightning_dream.experiments.dynamics.trajectory",
}

__all__ = sorted(EXPERIMENTS)


def __getattr__(name: str) -> Any:
    if name not in EXPERIMENTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from lightning_dream.quiet import quiet_lightning

    quiet_lightning()  # Lightning is imported with the experiment: filter its tips from here on
    value = getattr(importlib.import_module(EXPERIMENTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(EXPERIMENTS))
