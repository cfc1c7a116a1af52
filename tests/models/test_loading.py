import pytest

from lightning_dream.errors import ConfigError
from lightning_dream.models.loading import load_config, load_encoder, resolve_model


def test_embedded_minilm_is_a_real_bert_with_the_bert_base_vocabulary():
    config = load_config("minilm-l6")
    assert (config.model_type, config.num_hidden_layers, config.hidden_size, config.vocab_size) == (
        "bert",
        6,
        384,
        30522,
    )
    model = load_encoder("minilm-l6")
    assert not any(p.requires_grad for p in model.parameters())
    assert not model.training


def test_local_folder_loads_like_a_name():
    assert load_config(resolve_model("minilm-l6")).hidden_size == 384


def test_unknown_model_is_one_clear_line():
    with pytest.raises(ConfigError) as err:
        load_config("no-such-model-xyz")
    assert "unknown model 'no-such-model-xyz'" in str(err.value) and "minilm-l6" in str(err.value)
    assert "\n" not in str(err.value)
