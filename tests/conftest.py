import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402

from tests.helpers import quick_trainer  # noqa: E402


@pytest.fixture
def trainer_factory(tmp_path):
    return lambda **overrides: quick_trainer(tmp_path, **overrides)
