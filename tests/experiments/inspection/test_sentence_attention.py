"""SentenceAttention on the real MiniLM: every layer x head, each query's weights a distribution."""

import pytest
import torch

from lightning_dream.errors import ConfigError
from lightning_dream.experiments import SentenceAttention
from lightning_dream.models.loading import load_encoder
from tests.helpers import cli_error


def test_every_layer_and_head_is_a_distribution_over_the_sentence(trainer_factory):
    module = SentenceAttention(sentences=["the cat sat on the mat .", "i hate kickshaws ."])
    trainer_factory().predict(module)
    first, second = module.job_results().values()
    assert first["tokens"][0] == "[CLS]" and len(second["tokens"]) == 8
    maps = torch.tensor(first["attentions"])
    assert maps.shape == (6, 12, 9, 9) and (first["layers"], first["heads"]) == (6, 12)
    assert torch.allclose(maps.sum(-1), torch.ones(6, 12, 9), atol=1e-3)
    # the same maps as the model's own eager attention
    encoder = load_encoder("minilm-l6")
    encoder.set_attn_implementation("eager")
    ids = torch.tensor([module.input_ids[0]])
    expected = torch.stack(encoder(input_ids=ids, output_attentions=True).attentions)[:, 0]
    assert torch.allclose(maps, expected, atol=1e-4)
    # the end-of-run table: attention mass on [CLS]/[SEP] per text, first and last layer
    table = module.summary_table({"jobs": [first, second]})
    assert [row[1] for row in table.rows] == [9, 8] and table.columns[-1].endswith("layer 6")
    assert table.rows[0][3] == pytest.approx(float(maps[-1, :, :, [0, -1]].sum(-1).mean()))


def test_bad_inputs_fail_before_the_model_loads():
    with pytest.raises(ConfigError, match="sentences is empty"):
        SentenceAttention(sentences=[])
    with pytest.raises(ConfigError, match="sentence is empty"):
        SentenceAttention(sentences=["  "])
    with pytest.raises(ConfigError, match="decimals=0 is out of range"):
        SentenceAttention(decimals=0)
    with pytest.raises(ConfigError, match="is 602 tokens .* the model has 512 positions"):
        SentenceAttention(sentences=["word " * 600])


def test_bad_decimals_on_the_command_line_is_one_line():
    line = cli_error("predict", "--config", "configs/sentence_attention.yaml", "--model.decimals", "0")
    assert line == "error: model.decimals: Not of type Int1To8: 0 does not conform to restriction v>=1 and v<=8"
