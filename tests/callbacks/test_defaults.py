"""An experiment's callbacks are defaults: a user's callback of the same type (or a subclass), given
to the Trainer or as ``--trainer.callbacks``, is the one that runs, and no second copy is added."""

from __future__ import annotations

import json

import pytest
import pytorch_lightning as pl
from pytorch_lightning.callbacks import TQDMProgressBar
from pytorch_lightning.loggers import TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lightning_dream.callbacks import FigureLogger, ResultWriter, default_callbacks
from lightning_dream.callbacks.progress import RunTQDMProgressBar
from lightning_dream.experiments import SentenceAttention
from lightning_dream.results import RESULTS_FILE
from tests.helpers import quick_trainer, run_cli

#: two sentences: the attention view draws one figure per sentence
SENTENCES = ["the cat sat .", "i hate kickshaws ."]


class CountingWriter(ResultWriter):
    """A user's ResultWriter subclass that counts its writes."""

    def __init__(self, filename: str = RESULTS_FILE):
        super().__init__(filename)
        self.writes = 0

    def write(self, trainer, pl_module):
        self.writes += 1
        return super().write(trainer, pl_module)


class OwnBar(TQDMProgressBar):
    """A user's own progress bar class."""


def report_images(log_dir) -> list[str]:
    events = EventAccumulator(str(log_dir), size_guidance={"images": 0})
    events.Reload()
    return [tag for tag in events.Tags()["images"] if tag.startswith("report/")]


def of_type(trainer: pl.Trainer, kind: type) -> list:
    return [callback for callback in trainer.callbacks if isinstance(callback, kind)]


def test_a_default_is_left_out_when_the_trainer_holds_its_class_or_a_subclass(tmp_path):
    held = quick_trainer(tmp_path, callbacks=[FigureLogger(max_figures=5), CountingWriter()])
    assert default_callbacks(held, ResultWriter(), FigureLogger()) == []
    [writer] = default_callbacks(quick_trainer(tmp_path, callbacks=[FigureLogger()]), ResultWriter(), FigureLogger())
    assert type(writer) is ResultWriter
    # the class decides, not the default's settings (a CAV's writer names another file)
    assert default_callbacks(quick_trainer(tmp_path, callbacks=[ResultWriter()]), ResultWriter("cav.json")) == []
    defaults = ResultWriter(), FigureLogger()
    assert default_callbacks(None, *defaults) == list(defaults)


def test_the_stock_bar_becomes_ours_with_its_settings_and_a_user_bar_class_stays(tmp_path):
    stock = quick_trainer(tmp_path, enable_progress_bar=True, callbacks=[TQDMProgressBar(refresh_rate=7)])
    [bar] = default_callbacks(stock)
    assert type(bar) is RunTQDMProgressBar and bar.refresh_rate == 7
    assert default_callbacks(quick_trainer(tmp_path, enable_progress_bar=True, callbacks=[OwnBar()])) == []
    assert default_callbacks(quick_trainer(tmp_path)) == []  # no bar at all
    # the replacement in a run: one bar, ours, with the user's rate
    trainer = quick_trainer(tmp_path, enable_progress_bar=True, callbacks=[TQDMProgressBar(refresh_rate=7)])
    trainer.predict(SentenceAttention(sentences=SENTENCES[:1]))
    [bar] = of_type(trainer, TQDMProgressBar)
    assert type(bar) is RunTQDMProgressBar and bar.refresh_rate == 7


def test_the_users_figure_logger_runs_instead_of_the_default_and_after_the_experiments_writer(tmp_path):
    """Alone in ``trainer.callbacks`` it comes before the experiment's ResultWriter, and still draws its results."""
    logger = TensorBoardLogger(tmp_path, name="", version=0)
    figures = FigureLogger(max_figures=1)
    trainer = quick_trainer(tmp_path, logger=logger, callbacks=[figures])
    trainer.predict(SentenceAttention(sentences=SENTENCES))
    [writer] = of_type(trainer, ResultWriter)
    assert of_type(trainer, FigureLogger) == [figures] and trainer.callbacks.index(figures) < trainer.callbacks.index(
        writer
    )
    assert len(report_images(tmp_path / "version_0")) == 1  # max_figures=1, not the default's one per sentence


def test_a_users_result_writer_subclass_is_the_only_writer(tmp_path):
    writer = CountingWriter("mine.json")
    trainer = quick_trainer(tmp_path, callbacks=[writer])
    trainer.predict(SentenceAttention(sentences=SENTENCES[:1]))
    assert of_type(trainer, ResultWriter) == [writer] and writer.writes == 1
    assert [path.name for path in tmp_path.glob("*.json")] == ["mine.json"]


def test_without_user_callbacks_the_experiment_defaults_run(tmp_path):
    logger = TensorBoardLogger(tmp_path, name="", version=0)
    trainer = quick_trainer(tmp_path, logger=logger)
    trainer.predict(SentenceAttention(sentences=SENTENCES))
    [figures], [writer] = of_type(trainer, FigureLogger), of_type(trainer, ResultWriter)
    assert figures.max_figures == 40 and writer.filename == RESULTS_FILE
    assert (tmp_path / "version_0" / RESULTS_FILE).is_file()
    assert len(report_images(tmp_path / "version_0")) == len(SENTENCES)


@pytest.mark.parametrize(
    "given, written",
    [
        ([], RESULTS_FILE),
        (
            ["--trainer.callbacks+=lightning_dream.callbacks.ResultWriter", "--trainer.callbacks.filename=mine.json"],
            "mine.json",
        ),
    ],
)
def test_trainer_callbacks_on_the_command_line_replace_the_default(tmp_path, given, written):
    """``--trainer.callbacks`` with a ResultWriter of another file name: that file alone, not results.json."""
    done = run_cli(
        "predict",
        "--model",
        "SentenceAttention",
        "--model.sentences",
        json.dumps(SENTENCES[:1]),
        "--trainer.accelerator",
        "cpu",
        "--trainer.default_root_dir",
        str(tmp_path),
        "--trainer.enable_progress_bar",
        "false",
        *given,
    )
    assert done.code == 0, done.err[-2000:]
    run = tmp_path / "lightning_logs" / "version_0"
    assert [p.name for p in run.glob("*.json")] == [written]
