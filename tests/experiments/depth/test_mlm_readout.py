import pytest
import torch

from lightning_dream.data.masked_lm import MaskedTextData
from lightning_dream.errors import ConfigError
from lightning_dream.experiments.depth.mlm_readout import MLMReadout, export_mlm_head, load_with_head
from lightning_dream.models.mlm_head import MLMHead


def small_news(tokenizer: str) -> MaskedTextData:
    return MaskedTextData(tokenizer=tokenizer, block_size=64, batch_size=8, max_sentences=600, heldout_fraction=0.1)


def val_loss(trainer, readout, data) -> float:
    return trainer.validate(readout, datamodule=data, verbose=False)[0]["val/loss"]


def test_head_training_on_real_news_lowers_held_out_loss_and_leaves_the_encoder(trainer_factory):
    data = small_news("splade-tiny")
    readout = MLMReadout(model="splade-tiny", init_readout=True, lr=1e-2, warmup_fraction=0.0)
    encoder_before = {k: v.clone() for k, v in readout.encoder.state_dict().items()}
    trainer = trainer_factory(max_steps=20, limit_val_batches=2, num_sanity_val_steps=0)
    before = val_loss(trainer, readout, data)
    trainer.fit(readout, datamodule=data)
    after = val_loss(trainer, readout, data)
    assert after < before - 1.0, (before, after)
    for key, value in readout.encoder.state_dict().items():
        assert torch.equal(value, encoder_before[key]), key


def test_checkpoint_head_is_kept_unless_init_readout():
    model, _ = load_with_head("splade-tiny")
    kept = MLMReadout(model="splade-tiny")
    fresh = MLMReadout(model="splade-tiny", init_readout=True)
    assert kept.head_from_checkpoint and not fresh.head_from_checkpoint
    ids = torch.tensor([[101, 1996, 3007, 1997, 2605, 2003, 103, 1012, 102]])
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": torch.where(ids == 103, 3000, -100)}
    with torch.no_grad():
        logits, _ = kept.masked_logits(batch)
        torch.testing.assert_close(logits[0], model(input_ids=ids).logits[0, 6], atol=1e-4, rtol=1e-4)
        assert not torch.allclose(fresh.masked_logits(batch)[0], logits)


def test_readout_at_a_shallower_depth_reads_that_layer():
    readout = MLMReadout(model="splade-tiny", depth=1, init_readout=True)
    ids = torch.tensor([[101, 2023, 103, 102]])
    batch = {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "labels": torch.tensor([[-100, -100, 2003, -100]]),
    }
    with torch.no_grad():
        hidden = readout.encoder(input_ids=ids, output_hidden_states=True).hidden_states[1]
        expected = readout.head(hidden[0, 2], readout.encoder.get_input_embeddings().weight)
        torch.testing.assert_close(readout.masked_logits(batch)[0][0], expected, atol=1e-5, rtol=1e-5)


def test_frozen_checkpoint_holds_only_the_head_and_exports(tmp_path, trainer_factory):
    data = small_news("splade-tiny")
    readout = MLMReadout(model="splade-tiny", init_readout=True)
    trainer = trainer_factory(max_steps=2, limit_val_batches=0, enable_checkpointing=True)
    trainer.fit(readout, datamodule=data)
    path = tmp_path / "head.ckpt"
    trainer.save_checkpoint(path)
    state = torch.load(path, map_location="cpu", weights_only=False)["state_dict"]
    assert state and not any(k.startswith("encoder.") for k in state)
    export_mlm_head(str(path), str(tmp_path / "exported"))
    head, meta = MLMHead.load(tmp_path / "exported")
    assert meta["encoder"] == "splade-tiny" and meta["depth"] == 2
    torch.testing.assert_close(head.dense.weight, readout.head.dense.weight)


def test_depth_beyond_the_encoder_is_refused_before_training():
    with pytest.raises(ConfigError, match=r"depth=7 is out of range: allowed 0..6"):
        MLMReadout(model="minilm-l6", depth=7)


@pytest.mark.slow
def test_head_training_on_minilm_lowers_held_out_loss(trainer_factory):
    data = small_news("minilm-l6")
    readout = MLMReadout(model="minilm-l6", lr=1e-2, warmup_fraction=0.0)
    trainer = trainer_factory(max_steps=30, limit_val_batches=4, num_sanity_val_steps=0)
    before = val_loss(trainer, readout, data)
    trainer.fit(readout, datamodule=data)
    assert val_loss(trainer, readout, data) < before - 1.0


def test_tuned_top_block_trains_ships_and_materialises_with_the_head(tmp_path, trainer_factory, monkeypatch):
    from lightning_dream.models import embedded_heads

    data = small_news("splade-tiny")
    readout = MLMReadout(model="splade-tiny", train_top_blocks=1, encoder_lr=1e-3, warmup_fraction=0.0)
    before = {k: v.clone() for k, v in readout.encoder.state_dict().items()}
    trainer = trainer_factory(max_steps=3, limit_val_batches=0, enable_checkpointing=True)
    trainer.fit(readout, datamodule=data)
    changed = {k for k, v in readout.encoder.state_dict().items() if not torch.equal(v, before[k])}
    assert changed and all(k.startswith("encoder.layer.1.") for k in changed), changed
    path = tmp_path / "tuned.ckpt"
    trainer.save_checkpoint(path)
    state = torch.load(path, map_location="cpu", weights_only=False)["state_dict"]
    assert {k for k in state if k.startswith("encoder.")} == {f"encoder.{k}" for k in changed}
    resumed = MLMReadout.load_from_checkpoint(path, map_location="cpu")
    torch.testing.assert_close(resumed.encoder.state_dict(), readout.encoder.state_dict())

    monkeypatch.setenv("LIGHTNING_DREAM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(embedded_heads, "EMBEDDED_DIR", tmp_path / "embedded")
    export_mlm_head(str(path), str(tmp_path / "embedded" / "tuned-mlm"))
    from transformers import AutoModelForMaskedLM

    shipped = AutoModelForMaskedLM.from_pretrained(embedded_heads.materialise("tuned-mlm")).eval()
    ids = torch.tensor([[101, 1996, 3007, 1997, 2605, 2003, 103, 1012, 102]])
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": torch.where(ids == 103, 3000, -100)}
    with torch.no_grad():
        expected, _ = readout.eval().masked_logits(batch)
        torch.testing.assert_close(shipped(input_ids=ids).logits[0, 6], expected[0], atol=2e-2, rtol=1e-2)


def test_tuned_blocks_are_refused_beyond_the_depth_and_for_albert():
    with pytest.raises(ConfigError, match=r"train_top_blocks=3 is out of range: allowed 0..2"):
        MLMReadout(model="splade-tiny", train_top_blocks=3)
    with pytest.raises(ConfigError, match="ALBERT shares one layer"):
        MLMReadout(model="albert-news-tiny", train_top_blocks=1)
