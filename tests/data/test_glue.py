"""Every GLUE layout read as GLUE's download script writes it (small TSVs in tests/data/glue with the
real files' quirks), with the right labels and metrics; bad rows stop with one line naming file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lightning_dream.data.glue import TASKS, get_task, load_task
from lightning_dream.data.sentence_tasks import SentenceTaskData
from lightning_dream.errors import ConfigError

GLUE = Path(__file__).parent / "glue"

#: task -> (train size, dev sizes, texts per example, train labels, metrics)
EXPECTED = {
    "cola": (4, [3], 1, [1, 0, 1, 0], ("matthews",)),  # no header: the first row is an example
    "sst2": (4, [2], 1, [0, 0, 1, 0], ("accuracy",)),
    "mrpc": (3, [2], 2, [1, 0, 1], ("f1", "accuracy")),  # BOM, unbalanced quotes
    "stsb": (4, [4], 2, [5.0, 3.8, 3.8, 2.6], ("pearson", "spearman")),
    "qqp": (3, [2], 2, [0, 1, 1], ("f1", "accuracy")),  # the short row is skipped
    "mnli": (4, [2, 3], 2, [1, 0, 0, 2], ("accuracy",)),  # gold_label last; dev has label1..5 too
    "qnli": (2, [2], 2, [1, 0], ("accuracy",)),
    "rte": (2, [2], 2, [1, 0], ("accuracy",)),
    "wnli": (3, [2], 2, [1, 1, 0], ("accuracy",)),
}


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_glue_layout_reads_with_its_labels(name):
    size, dev_sizes, texts, labels, metrics = EXPECTED[name]
    task = get_task(name)
    with pytest.warns(UserWarning, match="short row") if name == "qqp" else _nothing():
        train, devs = load_task(task, str(GLUE))  # the GLUE root: the task's own subfolder is found
    assert len(train) == size and [len(d) for d in devs] == dev_sizes
    assert {len(t) for t, _ in train} == {texts}
    assert [label for _, label in train] == labels
    assert task.metrics == metrics
    assert task.num_labels == (1 if name == "stsb" else 3 if name == "mnli" else 2)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_mrpc_keeps_quotes_and_mnli_reads_both_dev_sets():
    train, _ = load_task(get_task("mrpc"), str(GLUE / "MRPC"))  # the task folder itself
    assert train[0][0][0].startswith('Amrozi accused his brother , whom he called " the witness "')
    task = get_task("mnli")
    _, (matched, mismatched) = load_task(task, str(GLUE / "MNLI"))
    assert task.dev_names == ("matched", "mismatched")
    assert [label for _, label in mismatched] == [2, 0, 1]
    assert matched[1][0][1].startswith("The Government Executive articles")


def test_pairs_carry_segment_ids():
    data = SentenceTaskData(task="rte", data_dir=str(GLUE), batch_size=2)
    data.setup()
    batch = next(iter(data.val_dataloader()[0]))
    segments, mask = batch["token_type_ids"], batch["attention_mask"]
    assert segments.shape == batch["input_ids"].shape
    assert (segments[mask.bool()] == 1).any() and (segments[:, :3] == 0).all()


def _copy(tmp_path: Path, folder: str) -> Path:
    target = tmp_path / folder
    shutil.copytree(GLUE / folder, target)
    return target


@pytest.mark.parametrize(
    ("folder", "file", "line", "text", "message"),
    [
        ("STS-B", "dev.tsv", 3, "0\tg\tf\ty\to\ts\ts\tA.\tB.\tfive\n", r"dev.tsv:3: label 'five' is not a number"),
        ("RTE", "train.tsv", 2, "0\tA.\tB.\tmaybe\n", r"train.tsv:2: label 'maybe' is not one of rte's labels"),
        ("SST-2", "train.tsv", 3, "only one column\n", r"train.tsv:3: 1 tab-separated column\(s\), SST-2 rows have 2"),
        (
            "CoLA",
            "dev.tsv",
            1,
            "gj04\t1\tThe wagon rumbled.\n",
            r"dev.tsv:1: 3 tab-separated column\(s\), CoLA rows have at",
        ),
    ],
)
def test_a_bad_row_names_file_line_and_what_is_allowed(tmp_path, folder, file, line, text, message):
    target = _copy(tmp_path, folder)
    lines = (target / file).read_text().splitlines(keepends=True)
    lines[line - 1] = text
    (target / file).write_text("".join(lines))
    task = next(t for t in TASKS.values() if t.folder == folder)
    with pytest.raises(ConfigError, match=message):
        load_task(task, str(target))


def test_missing_split_and_unknown_task_are_one_line(tmp_path):
    target = _copy(tmp_path, "MNLI")
    (target / "dev_mismatched.tsv").unlink()
    with pytest.raises(ConfigError, match="has no dev_mismatched.tsv: a MNLI folder holds train.tsv and dev_matched"):
        load_task(get_task("mnli"), str(target))
    with pytest.raises(ConfigError, match="task 'sst3' is unknown: allowed rotten-tomatoes, cola"):
        SentenceTaskData(task="sst3")


def test_hub_name_offline_is_one_line_and_a_local_glue_folder_does_not_shadow_it(tmp_path, monkeypatch):
    shutil.copytree(GLUE, tmp_path / "glue")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "no-cache"))
    with pytest.raises(ConfigError, match="task 'sst2' without data_dir needs the Hugging Face hub .*give data_dir"):
        load_task(get_task("sst2"), None)
