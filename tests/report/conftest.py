"""Real small runs on the embedded MiniLM, made once per session, for the report tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import quick_trainer
from tests.report.browser import Browser


def run(root: Path, module, predict: bool = False) -> Path:
    trainer = quick_trainer(root)
    (trainer.predict if predict else trainer.fit)(module)
    return root


@pytest.fixture(scope="session")
def dream_run(tmp_path_factory) -> Path:
    from lightning_dream.experiments import Dream
    from lightning_dream.experiments.soft_input.methods import Anneal

    module = Dream(
        sentences=["i hate kickshaws ."],
        layer_id=2,
        neuron_ids=[314],
        word_id=2,
        num_iterations=30,
        method=Anneal(warmup=0, start_temp=1.0, end_temp=0.05, lr=0.3),
        confidence=0.5,
        snapshot_every=2,
    )
    return run(tmp_path_factory.mktemp("dream"), module)


@pytest.fixture(scope="session")
def attention_run(tmp_path_factory) -> Path:
    from lightning_dream.experiments import SentenceAttention

    return run(
        tmp_path_factory.mktemp("attention"), SentenceAttention(sentences=["the cat sat on the mat ."]), predict=True
    )


@pytest.fixture(scope="session")
def factorize_run(tmp_path_factory) -> Path:
    from lightning_dream.experiments import FactorizeActivations

    return run(tmp_path_factory.mktemp("factorize"), FactorizeActivations(n_components=4), predict=True)


@pytest.fixture(scope="session")
def browser():
    chrome = Browser()
    yield chrome
    chrome.close()


@pytest.fixture
def screenshot_dir(tmp_path) -> Path:
    """Where screenshots go: ``REPORT_SCREENSHOTS`` (e.g. docs/img) or the test's tmp folder."""
    return Path(os.environ.get("REPORT_SCREENSHOTS") or tmp_path)


@pytest.fixture(scope="session")
def fill_mask_run(tmp_path_factory) -> Path:
    from lightning_dream.experiments import FillMask

    module = FillMask(
        sentences=["the capital of france is [MASK] .", "[MASK] is a [MASK] ."], top_k=5, model="splade-tiny"
    )
    return run(tmp_path_factory.mktemp("fill_mask"), module, predict=True)


@pytest.fixture(scope="session")
def knowledge_probe_run(tmp_path_factory) -> Path:
    import json

    from lightning_dream.experiments import KnowledgeProbe

    root = tmp_path_factory.mktemp("knowledge_probe")
    facts = [
        {"masked_sentences": ["the capital of france is [MASK] ."], "obj_label": "paris", "predicate_id": "capital"},
        {"masked_sentences": ["the cat sat on the [MASK] ."], "obj_label": "mat", "predicate_id": "place"},
        {"masked_sentences": ["he is a [MASK] ."], "obj_label": "doctor", "predicate_id": "place"},
    ]
    (root / "facts.jsonl").write_text("".join(json.dumps(f) + "\n" for f in facts))
    module = KnowledgeProbe(probe_file=str(root / "facts.jsonl"), top_k=5, model="splade-tiny")
    return run(root / "run", module, predict=True)


@pytest.fixture(scope="session")
def mlm_sampling_run(tmp_path_factory) -> Path:
    from lightning_dream.experiments import MLMSampling

    module = MLMSampling(model="splade-tiny", num_samples=3, max_len=6, max_iter=6)
    return run(tmp_path_factory.mktemp("mlm_sampling"), module, predict=True)


@pytest.fixture(scope="session")
def corpus_search_run(tmp_path_factory) -> Path:
    from lightning_dream.experiments import CorpusSearch

    module = CorpusSearch(layer_id=1, neuron_ids=[314], top_k=4, max_sentences=100, batch_size=32)
    return run(tmp_path_factory.mktemp("corpus_search"), module, predict=True)


@pytest.fixture(scope="session")
def cav_run(tmp_path_factory) -> Path:
    from lightning_dream.data.concepts import ConceptData
    from lightning_dream.experiments import CAV

    root = tmp_path_factory.mktemp("cav")
    data = ConceptData(concepts=["he", "she"], max_per_concept=20)
    copy = tmp_path_factory.mktemp("cav_copy") / "cav.json"  # outside the run folder: one run in the report
    quick_trainer(root, max_epochs=2).fit(CAV(layers=[1, 2], cav_file=str(copy)), datamodule=data)
    return root
