"""The report's figures reach TensorBoard at the end of a run (images, no browser needed)."""

from __future__ import annotations

from pytorch_lightning.loggers import TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lightning_dream.experiments import Dream, SentenceAttention
from lightning_dream.experiments.soft_input.methods import Anneal
from lightning_dream.experiments.soft_input.step_logger import StepLogger
from tests.helpers import quick_trainer


def image_tags(log_dir) -> list[str]:
    events = EventAccumulator(str(log_dir), size_guidance={"images": 0})
    events.Reload()
    return events.Tags()["images"]


def test_dream_run_ends_with_its_report_figures_in_tensorboard(tmp_path):
    logger = TensorBoardLogger(tmp_path, name="", version=0)
    module = Dream(
        sentences=["i hate kickshaws ."],
        layer_id=2,
        neuron_ids=[314],
        word_id=2,
        num_iterations=6,
        method=Anneal(warmup=0),
        snapshot_every=2,
    )
    quick_trainer(tmp_path, logger=logger, callbacks=[StepLogger(image_every=5)]).fit(module)
    tags = image_tags(logger.log_dir)
    assert any(t.startswith("job_000_layer_2/softmax_top_tokens") for t in tags)  # during the run (StepLogger)
    for view in ("dream-process", "annealing"):
        assert any(t.startswith(f"report/{view}/") for t in tags), (view, tags)
    # snapped sentences, curves, start vs final + one annealing image per shown step (4 snapshots)
    assert sum(t.startswith("report/") for t in tags) == 3 + 4


def test_attention_run_logs_its_model_view(tmp_path):
    logger = TensorBoardLogger(tmp_path, name="", version=0)
    quick_trainer(tmp_path, logger=logger).predict(SentenceAttention(sentences=["the cat sat ."]))
    assert [t for t in image_tags(logger.log_dir) if t.startswith("report/")] == [
        "report/attention/00_attention_the_cat_sat_all_layers_x_heads"
    ]
