"""DreamMLM: the soft input of Dream, optimised so a masked LM predicts a target token at [MASK]."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from transformers import PreTrainedModel

from lightning_dream.errors import ConfigError, check_range
from lightning_dream.experiments.soft_input.base import SoftInputExperiment
from lightning_dream.experiments.soft_input.jobs import Job, JobResult, change_span
from lightning_dream.models.loading import load_masked_lm
from lightning_dream.models.readout import ActivationTarget
from lightning_dream.results import DREAM_MLM_FORMAT
from lightning_dream.tokenization import tokenize_sentence


def mlm_head(model: PreTrainedModel) -> nn.Module:
    """The module that turns a masked LM's last hidden states into vocabulary logits."""
    for name in ("cls", "predictions", "lm_head"):  # BERT, ALBERT, RoBERTa layouts
        if isinstance(getattr(model, name, None), nn.Module):
            return getattr(model, name)
    raise ConfigError(
        f"{type(model).__name__} has no masked-LM head (cls, predictions or lm_head): use a *ForMaskedLM model"
    )


class DreamMLM(SoftInputExperiment):
    result_format = DREAM_MLM_FORMAT

    def __init__(
        self,
        sentences: list[str] | str = "the capital of france is [MASK] .",
        target_tokens: list[str] | str = "paris",
        mask_word: int | None = None,
        start_change: int | None = None,
        end_change: int | None = None,
        model: str = "splade-tiny",
        **kwargs,
    ):
        """
        Args:
            sentences: one sentence or a list, each with one ``[MASK]`` (or give ``mask_word``);
                every sentence x target token is one job.
            target_tokens: the token(s) whose log-probability at the mask is maximised; each must
                be a single vocabulary token.
            mask_word: position to mask instead of a written ``[MASK]`` ([CLS] = 0).
            start_change: first position that may change (default: the words before the mask,
                or after it when the mask is the first word).
            end_change: last position that may change, inclusive; the span may not cover the mask.
            model: a masked LM: embedded name (``splade-tiny``, ``minilm-l6-mlm``), folder or hub name.
        """
        super().__init__(model=model, **kwargs)
        self.sentences = [sentences] if isinstance(sentences, str) else list(sentences)
        targets = [target_tokens] if isinstance(target_tokens, str) else list(target_tokens)
        if not targets:
            raise ConfigError("target_tokens is empty: give at least one token")
        self.target_ids = {token: self.single_token_id(token) for token in targets}
        self.span = (start_change, end_change)

    def single_token_id(self, token: str) -> int:
        pieces = self.tokenizer.tokenize(token)
        if len(pieces) != 1:
            raise ConfigError(f"target token {token!r} is not one vocabulary token: it tokenises as {pieces}")
        return self.tokenizer.convert_tokens_to_ids(pieces[0])

    def masked_ids(self, sentence: str) -> tuple[list[int], int]:
        """Token ids with exactly one [MASK], and its position."""
        ids = tokenize_sentence(self.tokenizer, sentence, self.config.max_position_embeddings)
        mask_id = self.tokenizer.mask_token_id
        if self.hparams.mask_word is not None:
            check_range("mask_word", self.hparams.mask_word, 1, len(ids) - 2)
            ids[self.hparams.mask_word] = mask_id
        masks = [i for i, t in enumerate(ids) if t == mask_id]
        if len(masks) != 1:
            raise ConfigError(
                f"sentence {sentence!r} has {len(masks)} [MASK] tokens: write exactly one, or give mask_word"
            )
        return ids, masks[0]

    def default_span(self, ids: list[int], mask: int) -> tuple[int, int]:
        start, end = self.span
        if start is None and end is None:
            if mask == 1 and len(ids) == 3:
                raise ConfigError("the sentence is only the [MASK]: add words the dream may change")
            start, end = (1, mask - 1) if mask > 1 else (mask + 1, len(ids) - 2)
        start, end = change_span(ids, start, end)
        if start <= mask <= end:
            raise ConfigError(
                f"start_change..end_change = {start}..{end} covers the [MASK] at position {mask}:"
                " change only other words"
            )
        return start, end

    def build_jobs(self) -> list[Job]:
        if not self.sentences:
            raise ConfigError("sentences is empty: give at least one sentence with a [MASK]")
        jobs = []
        for sentence in self.sentences:
            ids, mask = self.masked_ids(sentence)
            start, end = self.default_span(ids, mask)
            for token, token_id in self.target_ids.items():
                target = ActivationTarget(self.config.num_hidden_layers, mask)
                info = {"target_token": token, "target_id": token_id, "mask_word": mask}
                jobs.append(Job(len(jobs), sentence, ids, start, end, target, info))
        return jobs

    def load_model(self) -> PreTrainedModel:
        return load_masked_lm(self.model_name)

    @property
    def depth(self) -> int:
        return self.readout.num_layers

    def objective(self, hidden: Tensor, mask: Tensor) -> Tensor:
        """log p(target token) at each job's [MASK], from the last layer through the MLM head."""
        rows = torch.arange(len(self.local_jobs), device=hidden.device)
        positions = torch.tensor([job.info["mask_word"] for job in self.local_jobs], device=hidden.device)
        targets = torch.tensor([job.info["target_id"] for job in self.local_jobs], device=hidden.device)
        logits = mlm_head(self.readout.model)(hidden[-1, rows, positions])
        return logits.log_softmax(-1)[rows, targets]

    def job_result(self, row: int, job: Job, last: Tensor, last_value: Tensor) -> JobResult:
        result = super().job_result(row, job, last, last_value)
        for stage in ("start", "final", "last"):  # the objective is log p: its exp is the probability
            result.extra[f"{stage}_probability"] = float(torch.tensor(getattr(result, f"{stage}_activation")).exp())
        return result
