"""One LightningModule per experiment; LightningCLI selects them by class name."""

from lightning_dream.experiments.albert_dynamics import Lyapunov, Trajectory
from lightning_dream.experiments.attention import SentenceAttention
from lightning_dream.experiments.cav import CAV
from lightning_dream.experiments.corpus_search import CorpusSearch
from lightning_dream.experiments.dream import Dream
from lightning_dream.experiments.dream_mlm import DreamMLM
from lightning_dream.experiments.similar_embeddings import SimilarEmbeddings
from lightning_dream.experiments.token_search import TokenSearch
from lightning_dream.experiments.factorize import FactorizeActivations
from lightning_dream.experiments.fill_mask import FillMask
from lightning_dream.experiments.mlm_readout import MLMReadout
from lightning_dream.experiments.probe import KnowledgeProbe
from lightning_dream.experiments.sampling import MLMSampling
from lightning_dream.experiments.pretrain import MaskedLMPretraining
from lightning_dream.experiments.reconstruct import Reconstruct, ReconstructChanged, ReconstructShifted
from lightning_dream.experiments.sentence_probe import SentenceProbe
from lightning_dream.experiments.soft_input import SoftInputExperiment

__all__ = ["Lyapunov", "Trajectory", "SentenceAttention", "FactorizeActivations", "Dream", "FillMask", "KnowledgeProbe", "MLMReadout", "MLMSampling", "MaskedLMPretraining", "SentenceProbe", "SoftInputExperiment", "CAV", "Reconstruct", "ReconstructChanged", "ReconstructShifted", "CorpusSearch", "DreamMLM", "SimilarEmbeddings", "TokenSearch"]
