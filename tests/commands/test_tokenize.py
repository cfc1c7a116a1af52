"""The tokenize command shows positions and word-piece boundaries as the experiments count them."""

import json

import pytest

from lightning_dream.cli import main
from lightning_dream.errors import ConfigError
from lightning_dream.tokenization import split_sentence


def test_unknown_word_splits_into_pieces_with_boundaries():
    pieces = split_sentence("i hate kickshaws .")
    assert [p.token for p in pieces] == ["[CLS]", "i", "hate", "kicks", "##haw", "##s", ".", "[SEP]"]
    assert [p.position for p in pieces] == list(range(8))
    assert [p.word for p in pieces] == [None, 0, 1, 2, 2, 2, 3, None]
    assert [p.starts_word for p in pieces] == [False, True, True, True, False, False, True, False]
    assert pieces[2].id == 5223


def test_command_prints_json_and_table(capsys):
    main(["tokenize", "she played softball", "--output", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert [r["token"] for r in rows] == ["[CLS]", "she", "played", "softball", "[SEP]"]
    main(["tokenize", "she played softball"])
    assert "continues word" not in capsys.readouterr().out


def test_empty_sentence_is_a_one_line_error(capsys):
    with pytest.raises(ConfigError, match="sentence is empty"):
        split_sentence("  ")
    with pytest.raises(SystemExit):
        main(["tokenize", ""])
    assert capsys.readouterr().err.strip() == "error: sentence is empty: give at least one word"
