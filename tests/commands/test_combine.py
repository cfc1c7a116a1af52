"""Fusing per-layer and per-magnitude result folders, and exported activation files."""

from __future__ import annotations

import json

import pytest
import torch

from lightning_dream.cli import main
from lightning_dream.commands.combine import combine_layers, combine_magnitudes
from lightning_dream.commands.export_activation import export_activation
from lightning_dream.data.activations import load_activation
from lightning_dream.errors import ConfigError
from lightning_dream.results import (
    DREAM_FORMAT,
    RECONSTRUCT_FORMAT,
    RECONSTRUCT_SHIFTED_FORMAT,
    read_results,
    write_json_atomic,
)

RECONSTRUCT = RECONSTRUCT_FORMAT
SHIFTED = RECONSTRUCT_SHIFTED_FORMAT


def run(folder, fmt: str, jobs: list[dict], experiment: str = "Reconstruct") -> None:
    """A run folder as Lightning leaves it: the result file inside lightning_logs/version_0."""
    write_json_atomic(
        folder / "lightning_logs" / "version_0" / "results.json",
        {"format": fmt, "experiment": experiment, "jobs": jobs},
    )


def test_combine_layers_groups_every_run_by_layer(tmp_path):
    for layer, recovery in ((1, 1.0), (6, 0.5)):
        run(
            tmp_path / f"layer_{layer}",
            RECONSTRUCT,
            [
                {"job": 0, "layer_id": layer, "token_recovery": recovery, "distance": 0.1},
                {"job": 1, "layer_id": layer, "token_recovery": recovery / 2, "distance": 0.3},
            ],
        )
    combined = read_results(combine_layers(str(tmp_path)), "lightning_dream.combined/1")
    assert combined["sources"] == ["layer_1", "layer_6"] and combined["result_format"] == RECONSTRUCT
    assert sorted(combined["groups"]) == ["1", "6"] and len(combined["groups"]["6"]) == 2
    assert [(r["layer_id"], r["token_recovery"], r["jobs"]) for r in combined["summary"]] == [
        (1, 0.75, 2),
        (6, 0.375, 2),
    ]


def test_a_subfolder_of_another_experiment_is_reported(tmp_path):
    run(tmp_path / "a", RECONSTRUCT, [{"job": 0, "layer_id": 1, "token_recovery": 1.0}])
    run(tmp_path / "b", DREAM_FORMAT, [{"job": 0, "layer_id": 1}], experiment="Dream")
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        ConfigError,
        match=rf"b \({DREAM_FORMAT}, not {RECONSTRUCT_FORMAT}\); empty \(no results.json\)",
    ) as err:
        combine_layers(str(tmp_path))
    assert "\n" not in str(err.value)
    combined = read_results(combine_layers(str(tmp_path), skip_invalid=True))
    assert combined["sources"] == ["a"]


def test_combine_magnitudes_per_layer_writes_one_file_per_layer(tmp_path):
    for layer in (3, 4):
        for m in (-5.0, 5.0):
            toward = "he" if m < 0 else "she"
            run(
                tmp_path / f"layer_{layer}" / f"m{m}",
                SHIFTED,
                [
                    {
                        "job": 0,
                        "layer_id": layer,
                        "magnitude": m,
                        "toward": toward,
                        "token_recovery": 0.8,
                        "changed_toward": m < 0,
                    }
                ],
                "ReconstructShifted",
            )
    paths = combine_magnitudes(str(tmp_path), per_layer=True)
    assert len(paths) == 2
    combined = read_results(paths[1])
    assert sorted(combined["groups"]) == ["-5.0", "5.0"]
    assert [(r["layer_id"], r["magnitude"], r["toward"], r["changed_toward"]) for r in combined["summary"]] == [
        (4, -5.0, "he", 1.0),
        (4, 5.0, "she", 0.0),
    ]


def test_magnitudes_of_unshifted_runs_are_refused(tmp_path):
    run(tmp_path / "a", RECONSTRUCT, [{"job": 0, "layer_id": 1}])
    with pytest.raises(ConfigError, match="no 'magnitude'"):
        combine_magnitudes(str(tmp_path))


def test_commands_are_on_the_command_line(tmp_path, capsys):
    run(tmp_path / "a", RECONSTRUCT, [{"job": 0, "layer_id": 2, "token_recovery": 1.0}])
    main(["combine-layers", str(tmp_path), "--output", str(tmp_path / "all.json")])
    assert json.loads((tmp_path / "all.json").read_text())["summary"][0]["layer_id"] == 2
    with pytest.raises(SystemExit):
        main(["combine-layers", str(tmp_path / "nowhere")])
    assert "not a folder" in capsys.readouterr().err


def test_exported_activation_is_the_word_vector_at_every_layer(tmp_path):
    path = export_activation("he was playing baseball", 1, str(tmp_path / "he.json"))
    loaded = load_activation(path)
    assert loaded["token"] == "he" and loaded["activations"].shape == (7, 384)
    assert not torch.allclose(loaded["activations"][1], loaded["activations"][4])
    with pytest.raises(ConfigError, match="word_id=9"):
        export_activation("he was playing baseball", 9, str(tmp_path / "x.json"))
