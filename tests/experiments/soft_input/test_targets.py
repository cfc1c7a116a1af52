"""A targets file: one job per line, mixed layers, positions and spans in one run; written by corpus search."""

import json

import pytest

from lightning_dream.errors import ConfigError
from lightning_dream.experiments import CorpusSearch, Dream
from lightning_dream.experiments.soft_input.methods import GCG
from lightning_dream.results import read_results

LINES = [
    {
        "sentence": "i hate kickshaws .",
        "layer_id": 3,
        "neuron_id": 314,
        "word_id": 2,
        "start_change": 2,
        "end_change": 2,
    },
    {"sentence": "the cat sat on the mat .", "layer_id": 1, "neuron_id": 100, "word_id": 5, "seed": 4},
    {
        "sentence": "a dog barks",
        "layer_id": 2,
        "target": "word",
        "word_id": 2,
        "start_change": 1,
        "end_change": 2,
        "seed": 0,
    },
]


def write(path, lines):
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)


def run(tmp_path, name, lines):
    from tests.helpers import quick_trainer

    module = Dream(targets=write(tmp_path / f"{name}.jsonl", lines), method=GCG(candidates=8), num_iterations=3)
    quick_trainer(tmp_path / name).fit(module)
    return read_results(tmp_path / name)["jobs"]


def test_mixed_layers_and_positions_give_each_job_what_it_gives_alone(tmp_path):
    together = run(tmp_path, "together", LINES)
    assert [(j["layer_id"], j["word_id"], j["start_change"]) for j in together] == [(3, 2, 2), (1, 5, 1), (2, 2, 1)]
    for index, line in enumerate(LINES):
        alone = run(tmp_path, f"alone{index}", [line])[0]  # its own seed: the same random stream alone
        job = together[index]
        assert job["final_tokens"] != job["start_tokens"]
        assert job["final_tokens"] == alone["final_tokens"]
        assert job["final_activation"] == pytest.approx(alone["final_activation"], abs=1e-4)
        assert job["start_activation"] == pytest.approx(alone["start_activation"], abs=1e-4)


def test_corpus_search_writes_a_targets_file_dream_starts_from(tmp_path, trainer_factory):
    path = tmp_path / "top.jsonl"
    trainer_factory().predict(
        CorpusSearch(
            layer_id=2, neuron_ids=[314, 17], top_k=2, max_sentences=100, batch_size=50, targets_file=str(path)
        )
    )
    found = read_results(tmp_path, CorpusSearch.result_format)
    assert found["targets_written"] == 4
    module = Dream(targets=str(path))
    expected = [
        (entry["sentence"], job["neuron_id"], entry["position"]) for job in found["jobs"] for entry in job["top"]
    ]
    assert [(j.sentence, j.target.neuron, j.target.position) for j in module.jobs] == expected
    module.configure_model()
    start = module.snapped_value(module.soft.snapped_ids())
    activations = [entry["activation"] for job in found["jobs"] for entry in job["top"]]
    assert start.tolist() == pytest.approx(activations, abs=1e-4)


@pytest.mark.parametrize(
    "text, message",
    [
        ("not json\n", "jsonl:1: not JSON"),
        ('{"sentence": "a b", "layer_id": 2, "word_id": 1, "colour": 3}\n', "unknown key"),
        ('{"sentence": "a b", "layer_id": 2, "neuron_id": 4}\n', "needs a word_id"),
        ('{"sentence": "a b", "layer_id": 9, "neuron_id": 4, "word_id": 1}\n', "targets line 1: layer_id"),
        ("\n", "holds no jobs"),
    ],
)
def test_bad_targets_file_is_one_line_before_any_model_work(tmp_path, text, message):
    path = tmp_path / "t.jsonl"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        Dream(targets=str(path)).check_inputs()
