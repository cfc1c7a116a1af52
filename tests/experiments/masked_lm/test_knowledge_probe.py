import json

import pytest
import torch
from pytorch_lightning.loggers import TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lightning_dream.data.corpus import load_sentences, train_heldout_split
from lightning_dream.data.lama import EMBEDDED_PROBES, LAMA_MASK, read_lama
from lightning_dream.errors import ConfigError
from lightning_dream.experiments.masked_lm.knowledge_probe import KnowledgeProbe
from lightning_dream.models.loading import load_masked_lm, load_tokenizer
from lightning_dream.results import read_results

SENTENCE = "the capital of france is [MASK] ."


def write_jsonl(path, records) -> str:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")
    return str(path)


def ranked_tokens(sentence: str) -> list[str]:
    tok, model = load_tokenizer("splade-tiny"), load_masked_lm("splade-tiny")
    ids = tok(sentence, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, ids[0].tolist().index(tok.mask_token_id)]
    return tok.convert_ids_to_tokens(logits.argsort(descending=True)[:50].tolist())


def test_precision_at_1_and_k_on_a_hand_checkable_set(tmp_path, trainer_factory):
    ranked = ranked_tokens(SENTENCE)
    facts = [  # gold at rank 1 (hit@1, hit@3), rank 3 (hit@3 only), rank 40 (miss)
        {"masked_sentences": [SENTENCE], "obj_label": ranked[0], "predicate_id": "capital"},
        {"masked_sentences": [SENTENCE], "obj_label": ranked[2], "predicate_id": "capital"},
        {"masked_sentences": [SENTENCE], "obj_label": ranked[39], "predicate_id": "other"},
    ]
    probe = KnowledgeProbe(
        probe_file=write_jsonl(tmp_path / "facts.jsonl", facts), top_k=3, model="splade-tiny", batch_size=2
    )
    trainer = trainer_factory()
    trainer.predict(probe)
    results = read_results(trainer.default_root_dir, "lightning_dream.knowledge_probe/1")
    assert results["overall"] == pytest.approx({"facts": 3, "P@1": 1 / 3, "P@3": 2 / 3})
    assert results["relations"]["capital"] == pytest.approx({"facts": 2, "P@1": 0.5, "P@3": 1.0})
    assert results["relations"]["other"] == pytest.approx({"facts": 1, "P@1": 0.0, "P@3": 0.0})
    assert [row["rank"] for row in results["rows"]] == [1, 3, 40]


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"obj_label": "paris"}', "facts.jsonl has 1 bad line(s): line 2: missing masked_sentences"),
        ('{"masked_sentences": ["a [MASK] ."]}', "line 2: missing obj_label"),
        ('{"masked_sentences": ["no mask"], "obj_label": "x"}', "line 2: masked_sentences hold 0 [MASK]"),
        (
            '{"masked_sentences": ["a [MASK] ."], "obj_label": "kickshaws"}',
            "line 2: obj_label 'kickshaws' is not one vocabulary token (it tokenises as ['kicks', '##haw', '##s'])",
        ),
        ("not json", "facts.jsonl has 1 bad line(s): line 2: not JSON"),
    ],
)
def test_bad_probe_lines_name_their_line(tmp_path, line, message):
    good = {"masked_sentences": [SENTENCE], "obj_label": "paris"}
    path = write_jsonl(tmp_path / "facts.jsonl", [good, line])
    with pytest.raises(ConfigError) as err:
        read_lama(path, load_tokenizer("splade-tiny"))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_empty_probe_file_is_refused(tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(ConfigError, match="holds no facts"):
        KnowledgeProbe(probe_file=str(tmp_path / "empty.jsonl"), model="splade-tiny")


def test_top_k_beyond_the_vocabulary_is_refused():
    with pytest.raises(ConfigError, match=r"top_k=99999 is out of range: allowed 1..30522"):
        KnowledgeProbe(top_k=99999, model="splade-tiny")


@pytest.mark.parametrize("probe", ["news-cloze", "news-words"])
def test_shipped_news_probes_are_held_out_from_the_mlm_head_training(probe):
    facts = read_lama(probe, load_tokenizer("minilm-l6"))
    assert len(facts) == 1000 and {f.relation for f in facts} == {"news_word", "news_name"}
    train, heldout = train_heldout_split(load_sentences("news"), 0.05, 0)  # configs/mlm_readout.yaml's split
    heldout, train = set(heldout), set(train)
    for line in EMBEDDED_PROBES[probe].read_text().splitlines():
        record = json.loads(line)
        original = record["masked_sentences"][0]
        candidates = [s for s in heldout if len(s) == len(original) - len(LAMA_MASK) + len(record["obj_label"])]
        restored = [s for s in candidates if s.lower() == original.replace(LAMA_MASK, record["obj_label"]).lower()]
        assert restored and restored[0] not in train, original


@pytest.mark.slow
def test_minilm_mlm_on_the_news_probe(trainer_factory):
    trainer = trainer_factory()
    trainer.predict(KnowledgeProbe(model="minilm-l6-mlm", top_k=10, batch_size=32))
    overall = read_results(trainer.default_root_dir)["overall"]
    print(f"news-cloze on minilm-l6-mlm: {overall}")
    assert overall["P@10"] > overall["P@1"] > 0.05


def test_every_bad_line_is_named_in_one_line(tmp_path):
    good = {"masked_sentences": [SENTENCE], "obj_label": "paris"}
    path = write_jsonl(
        tmp_path / "facts.jsonl",
        ["not json", good, '{"obj_label": "x"}', good, '{"masked_sentences": ["a [MASK] [MASK]"], "obj_label": "x"}'],
    )
    with pytest.raises(ConfigError) as err:
        read_lama(path, load_tokenizer("splade-tiny"))
    message = str(err.value)
    assert message.startswith("facts.jsonl has 3 bad line(s): line 1: not JSON") and "\n" not in message
    assert "line 3: missing masked_sentences" in message and "line 5: masked_sentences hold 2 [MASK]" in message


def test_google_re_evidence_sentences_are_one_query_ranked_at_the_first_mask(tmp_path, trainer_factory):
    evidence = ["the capital of france is [MASK] .", "[MASK] is a city on the seine ."]
    record = {
        "masked_sentences": evidence,
        "obj_label": "paris",
        "pred": "capital",
        "uuid": "g-1",
        "sub_label": "france",
    }
    tok = load_tokenizer("splade-tiny")
    (fact,) = read_lama(write_jsonl(tmp_path / "re.jsonl", [record]), tok)
    tokens = tok.convert_ids_to_tokens(list(fact.input_ids))
    assert tokens[0] == "[CLS]" and tokens.count("[SEP]") == 2 and tokens.count("[MASK]") == 2
    assert fact.mask_position == tokens.index("[MASK]") == 6
    (short,) = read_lama(write_jsonl(tmp_path / "short.jsonl", [record]), tok, max_length=len(tokens) - 1)
    assert tok.convert_ids_to_tokens(list(short.input_ids)).count("[SEP]") == 1  # only whole sentences that fit
    trainer = trainer_factory(logger=TensorBoardLogger(tmp_path / "tb"))
    trainer.predict(KnowledgeProbe(probe_file=str(tmp_path / "re.jsonl"), top_k=3, model="splade-tiny"))
    (row,) = read_results(trainer.log_dir)["rows"]
    events = EventAccumulator(trainer.log_dir).Reload()
    assert {"overall/P@1", "overall/P@3", "relation/capital/P@3"} <= set(events.Tags()["scalars"])
    assert (row["id"], row["sub_label"], row["relation"]) == ("g-1", "france", "capital")
    assert row["sentence"] == "the capital of france is [MASK] . [SEP] [MASK] is a city on the seine ."
