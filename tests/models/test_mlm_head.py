import pytest
import torch
from transformers import AlbertConfig, AlbertForMaskedLM, BertConfig, BertForMaskedLM

from lightning_dream.errors import ConfigError
from lightning_dream.experiments.depth.mlm_readout import load_with_head
from lightning_dream.models.mlm_head import MLMHead, hf_head_parts


def tiny_bert(**overrides) -> BertForMaskedLM:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32, **overrides
    )
    return BertForMaskedLM(config).eval()


def test_real_splade_head_copied_out_gives_the_models_own_logits():
    model, has_head = load_with_head("splade-tiny")
    assert has_head
    head = MLMHead.for_encoder(model.config)
    head.load_from_masked_lm(model)
    ids = torch.tensor([[101, 1996, 3007, 1997, 2605, 2003, 103, 1012, 102]])
    with torch.no_grad():
        hidden = model.bert(input_ids=ids).last_hidden_state
        expected = model(input_ids=ids).logits
        got = head(hidden, model.get_input_embeddings().weight)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


def test_encoder_only_checkpoint_is_reported_as_headless():
    _, has_head = load_with_head("minilm-l6")
    assert not has_head


def test_tied_head_has_no_vocabulary_matrix_and_needs_the_embeddings():
    head = MLMHead(hidden_size=16, vocab_size=50)
    assert head.decoder is None
    assert sum(p.numel() for p in head.parameters()) == 16 * 16 + 16 + 2 * 16 + 50
    with pytest.raises(ValueError):
        head(torch.zeros(3, 16))


def test_untied_head_ignores_embeddings():
    head = MLMHead(hidden_size=16, vocab_size=50, tie_decoder=False)
    x = torch.randn(3, 16)
    torch.testing.assert_close(head(x), head(x, torch.randn(50, 16)))


@pytest.mark.parametrize("tie", [True, False])
def test_head_written_into_a_model_survives_save_and_reload(tmp_path, tie):
    model = tiny_bert()
    head = MLMHead.for_encoder(model.config, tie_decoder=tie)
    with torch.no_grad():
        for p in head.parameters():
            p.normal_()
    head.write_into_masked_lm(model)
    model.save_pretrained(tmp_path)
    reloaded = BertForMaskedLM.from_pretrained(tmp_path).eval()
    ids = torch.tensor([[1, 5, 7, 9, 2]])
    with torch.no_grad():
        hidden = reloaded.bert(input_ids=ids).last_hidden_state
        expected = head(hidden, reloaded.get_input_embeddings().weight)
        torch.testing.assert_close(reloaded(input_ids=ids).logits, expected, atol=1e-5, rtol=1e-5)


def test_albert_head_maps_hidden_to_narrower_embeddings():
    config = AlbertConfig(
        vocab_size=50,
        embedding_size=8,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
    )
    model = AlbertForMaskedLM(config).eval()
    head = MLMHead.for_encoder(config)
    head.load_from_masked_lm(model)
    ids = torch.tensor([[2, 5, 7, 3]])
    with torch.no_grad():
        hidden = model.albert(input_ids=ids).last_hidden_state
        torch.testing.assert_close(
            head(hidden, model.get_input_embeddings().weight), model(input_ids=ids).logits, atol=1e-5, rtol=1e-5
        )


def test_saved_head_is_small_and_loads_back(tmp_path):
    head = MLMHead(hidden_size=16, vocab_size=50)
    head.save(tmp_path, encoder="x", depth=2)
    loaded, meta = MLMHead.load(tmp_path)
    assert meta == {"encoder": "x", "depth": 2}
    for a, b in zip(head.state_dict().values(), loaded.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_models_without_a_known_head_layout_are_refused():
    with pytest.raises(ConfigError, match="init_readout"):
        hf_head_parts(torch.nn.Linear(2, 2))


def test_unknown_activation_is_one_line():
    with pytest.raises(ConfigError) as err:
        MLMHead(hidden_size=4, vocab_size=5, activation="sparkle")
    assert "activation='sparkle'" in str(err.value) and "\n" not in str(err.value)


def test_embedded_head_materialises_once_as_an_ordinary_masked_lm(tmp_path, monkeypatch):
    from transformers import AutoModelForMaskedLM

    from lightning_dream.models import embedded_heads

    monkeypatch.setenv("LIGHTNING_DREAM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(embedded_heads, "EMBEDDED_DIR", tmp_path / "embedded")
    model, _ = load_with_head("splade-tiny")
    head = MLMHead.for_encoder(model.config)
    with torch.no_grad():
        for p in head.parameters():
            p.normal_()
    head.save(tmp_path / "embedded" / "tiny-mlm", encoder="splade-tiny", depth=1)
    folder = embedded_heads.materialise("tiny-mlm")
    assert embedded_heads.materialise("tiny-mlm") == folder  # cached: built once
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no staging left behind
    loaded = AutoModelForMaskedLM.from_pretrained(folder).eval()
    assert loaded.config.num_hidden_layers == 1
    ids = torch.tensor([[101, 2023, 103, 102]])
    with torch.no_grad():
        hidden = model.bert(input_ids=ids, output_hidden_states=True).hidden_states[1]
        expected = head(hidden, model.get_input_embeddings().weight)
        torch.testing.assert_close(loaded(input_ids=ids).logits, expected, atol=1e-4, rtol=1e-4)


def _materialise_in_process_group(rank: int, cache: str, init_file: str) -> None:
    import os

    import torch.distributed as dist

    from lightning_dream.models import embedded_heads

    os.environ["LIGHTNING_DREAM_CACHE"] = cache
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    try:
        dist.barrier()  # both build at once: the race and the rank-1 write
        folder = embedded_heads.materialise("minilm-l6-mlm")
        dist.barrier()
        written = sorted(os.listdir(folder))
        assert {"config.json", "model.safetensors"} <= set(written), written
    finally:
        dist.destroy_process_group()


def test_embedded_head_materialises_on_every_rank_of_a_process_group(tmp_path):
    # a 2-process `fit` once died here: transformers' save_pretrained writes only on rank 0, so
    # rank 1 renamed a folder holding just the tokenizer into the cache
    from transformers import AutoModelForMaskedLM

    cache = tmp_path / "cache"
    torch.multiprocessing.spawn(
        _materialise_in_process_group, args=(str(cache), str(tmp_path / "init")), nprocs=2, join=True
    )
    (folder,) = (cache / "embedded").iterdir()
    assert AutoModelForMaskedLM.from_pretrained(folder).config.num_hidden_layers > 0
