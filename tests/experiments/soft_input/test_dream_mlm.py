"""DreamMLM on the real splade-tiny masked LM: the dream raises the target token's probability."""

import pytest
import torch

from lightning_dream.errors import ConfigError
from lightning_dream.experiments.soft_input.dream_mlm import DreamMLM, mlm_head
from lightning_dream.experiments.soft_input.methods import Anneal
from lightning_dream.models.loading import load_masked_lm
from lightning_dream.results import read_results

SENTENCE = "the capital of france is [MASK] ."


def dream_mlm(**overrides) -> DreamMLM:
    settings = dict(
        sentences=[SENTENCE],
        target_tokens=["paris", "london"],
        num_iterations=30,
        method=Anneal(warmup=0, start_temp=2.0, end_temp=0.1, lr=1.0),
        confidence=0.004,  # at start_temp 2.0: the logits 0.3 at T=1 gave, a start left within 30 steps
        snapshot_every=10,
    )
    settings.update(overrides)
    module = DreamMLM(**settings)
    module.check_inputs()
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from tests.helpers import quick_trainer

    root = tmp_path_factory.mktemp("dream_mlm")
    quick_trainer(root).fit(dream_mlm())
    return read_results(root, DreamMLM.result_format)


def test_dream_raises_the_target_tokens_probability(run):
    for job in run["jobs"]:
        assert job["final_probability"] > 10 * job["start_probability"], job["target_token"]
        assert job["final_tokens"][job["mask_word"]] == "[MASK]"  # the mask itself never changes


def test_reported_probability_is_the_masked_lms_on_the_final_sentence(run):
    mlm = load_masked_lm("splade-tiny")
    from lightning_dream.models.loading import load_tokenizer

    tokenizer = load_tokenizer("splade-tiny")
    for job in run["jobs"]:
        ids = torch.tensor([tokenizer.convert_tokens_to_ids(job["final_tokens"])])
        with torch.no_grad():
            probs = mlm(input_ids=ids).logits[0, job["mask_word"]].softmax(-1)
        assert probs[tokenizer.convert_tokens_to_ids(job["target_token"])].item() == pytest.approx(
            job["final_probability"], rel=1e-3
        )


def test_default_span_is_the_words_before_the_mask():
    job = dream_mlm(target_tokens="paris").jobs[0]
    assert (job.start_change, job.end_change, job.info["mask_word"]) == (1, 5, 6)
    assert isinstance(mlm_head(load_masked_lm("splade-tiny")), torch.nn.Module)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            dict(target_tokens="kickshaws"),
            r"target token 'kickshaws' is not one vocabulary token: it tokenises as \['kicks', '##haw', '##s'\]",
        ),
        (dict(sentences="the capital of france is paris ."), "has 0 \\[MASK\\] tokens"),
        (dict(start_change=2, end_change=6), "covers the \\[MASK\\] at position 6"),
        (dict(mask_word=9), "mask_word=9 is out of range: allowed 1..7"),
    ],
)
def test_bad_inputs_fail_before_any_model_work(overrides, message):
    with pytest.raises(ConfigError, match=message):
        dream_mlm(**overrides)
