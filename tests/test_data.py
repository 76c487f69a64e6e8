"""training/data.py: formats and validation errors name the file, line and value."""

from __future__ import annotations

import json

import pytest

from assistant.errors import DataError
from training.data import (
    find_conflicts,
    load_dialogues,
    load_intent_examples,
    validate_intent_examples,
)


def write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return p


def test_csv_default_and_custom_columns(tmp_path):
    p = write(tmp_path, "a.csv", 'text,label\n"hi, there",greeting\nrefund?,refund_status\n')
    ex = load_intent_examples(p)
    assert [(e.text, e.label) for e in ex] == [
        ("hi, there", "greeting"),
        ("refund?", "refund_status"),
    ]
    assert ex[1].source.endswith("a.csv:3")
    q = write(tmp_path, "b.csv", "id,utterance,intent\n1,hello,greeting\n")
    ex = load_intent_examples(q, text_column="utterance", label_column="intent")
    assert ex[0].label == "greeting"


def test_missing_column_names_file_and_option(tmp_path):
    p = write(tmp_path, "a.csv", "message,label\nhi,greeting\n")
    with pytest.raises(DataError, match=r"a\.csv:1: no column 'text'.*--text-column"):
        load_intent_examples(p)


def test_empty_file_and_bad_encoding(tmp_path):
    with pytest.raises(DataError, match="empty"):
        load_intent_examples(write(tmp_path, "e.csv", "  \n"))
    bad = write(tmp_path, "l1.csv", "text,label\ncaf\xe9,x\n", encoding="latin-1")
    with pytest.raises(DataError, match=r"l1\.csv:2: not valid UTF-8.*0xe9"):
        load_intent_examples(bad)


def test_bad_row_and_empty_label(tmp_path):
    with pytest.raises(DataError, match=r":3: expected 2 fields"):
        load_intent_examples(write(tmp_path, "r.csv", "text,label\nok,a\nx,y,z\n"))
    with pytest.raises(DataError, match=r":2: empty label"):
        load_intent_examples(write(tmp_path, "r2.csv", "text,label\nhello,\n"))


def test_dialogues_roundtrip_and_examples(tmp_path):
    d = {
        "id": "c1",
        "channel": "chat",
        "turns": [
            {"role": "customer", "text": "where is my parcel", "intent": "order_status"},
            {"role": "agent", "text": "Which order?"},
            {"role": "customer", "text": "NH-10001"},
        ],
    }
    p = write(tmp_path, "d.jsonl", json.dumps(d) + "\n\n")
    (dlg,) = load_dialogues(p)
    assert dlg.metadata == {"channel": "chat"} and len(dlg.turns) == 3
    ex = load_intent_examples(p)
    assert [(e.text, e.label, e.group) for e in ex] == [
        ("where is my parcel", "order_status", "c1")
    ]


@pytest.mark.parametrize(
    "line, pattern",
    [
        ('{"id": "a", "turns": [', r"d\.jsonl:2: invalid JSON"),
        ('["not", "an", "object"]', r"d\.jsonl:2: expected a JSON object"),
        ('{"turns": [{"role": "agent", "text": "x"}]}', r'd\.jsonl:2: missing or non-string "id"'),
        ('{"id": "b", "turns": [{"role": "bot", "text": "x"}]}', r"role 'bot'"),
        ('{"id": "b", "turns": [{"role": "agent", "text": " "}]}', r'empty or missing "text"'),
        ('{"id": "a", "turns": [{"role": "agent", "text": "x"}]}', r"duplicate dialogue id 'a'"),
        ('{"id": "b", "turns": []}', r'non-empty "turns"'),
    ],
)
def test_dialogue_errors_name_line(tmp_path, line, pattern):
    good = '{"id": "a", "turns": [{"role": "customer", "text": "hi"}]}'
    p = write(tmp_path, "d.jsonl", good + "\n" + line + "\n")
    with pytest.raises(DataError, match=pattern):
        load_dialogues(p)


def test_conflicting_labels_reported(tmp_path):
    p = write(
        tmp_path,
        "c.csv",
        "text,label\nWhere is my order,order_status\nwhere is  my order,refund\nhi,greet\n",
    )
    ex = load_intent_examples(p)
    assert len(find_conflicts(ex)) == 1
    with pytest.raises(
        DataError, match=r"(?s)conflicting labels.*'order_status' \(.*c\.csv:2\).*'refund'"
    ):
        validate_intent_examples(ex, p)


def test_one_class_is_an_error_but_oos_does_not_count(tmp_path):
    p = write(tmp_path, "o.csv", "text,label\nhi,greet\nhello,greet\nweather?,oos\n")
    with pytest.raises(DataError, match="at least two"):
        validate_intent_examples(load_intent_examples(p), p)


def test_small_classes_warn(tmp_path):
    p = write(tmp_path, "w.csv", "text,label\n" + "".join(f"a{i},a\n" for i in range(6)) + "b,b\n")
    warnings = validate_intent_examples(load_intent_examples(p), p)
    assert warnings == ["intent 'b' has only 1 example(s); aim for at least 10"]
