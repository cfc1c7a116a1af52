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

    module = Dream(
        sentences=["i hate kickshaws ."],
        layer_id=2,
        neuron_ids=[314],
        word_id=2,
        num_iterations=30,
        warmup=0,
        start_temp=1.0,
        end_temp=0.05,
        confidence=0.5,
        lr=0.3,
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
