"""One LightningModule per experiment, grouped by family; each family's ``base`` holds what its
experiments share. LightningCLI selects them by class name (``--model Dream``) or by
``class_path: lightning_dream.experiments.Dream``.

- ``soft_input``: optimise a softmax-relaxed input (Dream, DreamMLM, Reconstruct and variants)
- ``masked_lm``: read a masked LM's predictions (FillMask, KnowledgeProbe, MLMSampling)
- ``substitution``: put other tokens or sentences in and read a target (TokenSearch,
  SimilarEmbeddings, CorpusSearch)
- ``inspection``: read a frozen encoder over given texts (SentenceAttention,
  FactorizeActivations) or train a linear readout on it (CAV)
- ``depth``: readouts, probes and pretraining across encoder depth (MLMReadout, SentenceProbe,
  MaskedLMPretraining)
- ``dynamics``: ALBERT's shared layer as an iterated map (Trajectory, Lyapunov)
"""

from lightning_dream.experiments.depth.masked_lm_pretraining import MaskedLMPretraining
from lightning_dream.experiments.depth.mlm_readout import MLMReadout
from lightning_dream.experiments.depth.sentence_probe import SentenceProbe
from lightning_dream.experiments.dynamics.lyapunov import Lyapunov
from lightning_dream.experiments.dynamics.trajectory import Trajectory
from lightning_dream.experiments.inspection.cav import CAV
from lightning_dream.experiments.inspection.factorize_activations import FactorizeActivations
from lightning_dream.experiments.inspection.sentence_attention import SentenceAttention
from lightning_dream.experiments.masked_lm.fill_mask import FillMask
from lightning_dream.experiments.masked_lm.knowledge_probe import KnowledgeProbe
from lightning_dream.experiments.masked_lm.mlm_sampling import MLMSampling
from lightning_dream.experiments.soft_input.base import SoftInputExperiment
from lightning_dream.experiments.soft_input.dream import Dream
from lightning_dream.experiments.soft_input.dream_mlm import DreamMLM
from lightning_dream.experiments.soft_input.reconstruct import Reconstruct, ReconstructChanged, ReconstructShifted
from lightning_dream.experiments.substitution.corpus_search import CorpusSearch
from lightning_dream.experiments.substitution.similar_embeddings import SimilarEmbeddings
from lightning_dream.experiments.substitution.token_search import TokenSearch
from lightning_dream.quiet import quiet_lightning

quiet_lightning()

__all__ = [
    "CAV",
    "CorpusSearch",
    "Dream",
    "DreamMLM",
    "FactorizeActivations",
    "FillMask",
    "KnowledgeProbe",
    "Lyapunov",
    "MLMReadout",
    "MLMSampling",
    "MaskedLMPretraining",
    "Reconstruct",
    "ReconstructChanged",
    "ReconstructShifted",
    "SentenceAttention",
    "SentenceProbe",
    "SimilarEmbeddings",
    "SoftInputExperiment",
    "TokenSearch",
    "Trajectory",
]
