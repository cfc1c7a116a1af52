"""StepLogger's cadences are its own settings (the Trainer's ``log_every_n_steps`` by default), and it
logs the host's step values as they are, under the host's ``value_name``."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from pytorch_lightning.loggers import TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lightning_dream.errors import ConfigError
from lightning_dream.experiments.soft_input.base import StepRecord
from lightning_dream.experiments.soft_input.step_logger import StepLogger

STEPS = 7  # steps 0..6; the last one is always logged


def host(step: int) -> SimpleNamespace:
    """What StepLogger reads of a soft-input host (no ``hparams``: reading a setting there fails):
    two jobs at layer 2 whose reported distances are positive."""
    record = StepRecord(
        step, 0.5, [0, 1], torch.zeros(2, 4).long(), torch.tensor([0.25, 1.5]), torch.tensor([2.0, 3.0])
    )
    jobs = [SimpleNamespace(target=SimpleNamespace(layer=2))] * 2
    return SimpleNamespace(last_step=record, value_name="distance", num_iterations=STEPS, jobs=jobs)


def run(logger: StepLogger, tmp_path, log_every_n_steps: int = 3) -> tuple[dict[str, list], list[int]]:
    """Every step through the callback; returns the TensorBoard scalars by tag (step, value) and the
    steps whose views (text, softmax images) were drawn."""
    tensorboard = TensorBoardLogger(tmp_path, name="", version=0)
    trainer = SimpleNamespace(log_every_n_steps=log_every_n_steps, logger=tensorboard, is_global_zero=True)
    viewed = []
    logger.log_views = lambda trainer, pl_module, record: viewed.append(record.step)
    for step in range(STEPS):
        logger.on_train_batch_end(trainer, host(step), None, None, step)
    tensorboard.experiment.flush()
    events = EventAccumulator(tensorboard.log_dir).Reload()
    scalars = {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}
    return scalars, viewed


def test_scalars_follow_the_trainers_cadence_by_default_and_keep_their_sign(tmp_path):
    scalars, viewed = run(StepLogger(image_every=4), tmp_path)
    assert [step for step, _ in scalars["temperature"]] == [0, 3, 6]  # log_every_n_steps=3, and the last step
    assert scalars["job_000_layer_2/soft_distance"][0] == (0, 0.25)  # as reported: no sign flipped
    assert scalars["job_001_layer_2/snapped_distance"][-1] == (6, 3.0)
    assert viewed == [0, 4, 6]


def test_its_own_cadence_wins_over_the_trainers(tmp_path):
    scalars, viewed = run(StepLogger(log_every=2, image_every=5), tmp_path, log_every_n_steps=50)
    assert [step for step, _ in scalars["job_000_layer_2/soft_distance"]] == [0, 2, 4, 6]
    assert viewed == [0, 5, 6]


@pytest.mark.parametrize(
    "settings, message",
    [({"log_every": 0}, "log_every=0 must be positive"), ({"image_every": -1}, "image_every=-1 must be positive")],
)
def test_cadences_are_positive(settings, message):
    with pytest.raises(ConfigError, match=f"^{message}$"):
        StepLogger(**settings)
