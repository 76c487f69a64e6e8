"""assistant/batch.py and `assistant ask --batch` / the turn ids of `ask --json`.

The file formats and their errors are checked on the parser; the command against tiny random
models and a real log: every line answered once, in order, turns of one conversation together,
and the printed turn ids are the rows in the database.
"""

from __future__ import annotations

import io
import json
import shutil

import pytest
import sqlite_utils
from click.testing import CliRunner
from fake_engine import ScriptedEngine

from assistant.batch import answer_batch, parse_batch, read_batch
from assistant.cli import cli
from assistant.errors import ConfigError
from assistant.log import ConversationLog
from assistant.service import AssistantService


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, intent_dir, ranker_dir):
    d = tmp_path_factory.mktemp("models")
    shutil.copytree(intent_dir, d / "intent")
    shutil.copytree(ranker_dir, d / "ranker")
    return d


def parse(text: str, name: str = "b.jsonl"):
    return parse_batch(io.StringIO(text), name)


# -- the file formats ------------------------------------------------------------------------


def test_plain_lines_are_each_a_new_conversation_blank_lines_skipped():
    msgs = parse("where is my order?\n\n   \nthx bye\r\n", "b.txt")
    assert [(m.line, m.text, m.conversation_id) for m in msgs] == [
        (1, "where is my order?", None),
        (4, "thx bye", None),
    ]


def test_a_plain_file_may_hold_braces_after_its_first_line():
    msgs = parse("hello\n{not json} is a message too\n", "b.txt")
    assert [m.text for m in msgs] == ["hello", "{not json} is a message too"]


def test_jsonl_lines_keep_their_conversation_and_order():
    msgs = parse(
        '\n{"text": "hi", "conversation_id": "c1"}\n'
        '{"text": "where is my refund"}\n'
        '{"text": "order NH-10001", "conversation_id": "c1"}\n'
    )
    assert [(m.line, m.text, m.conversation_id) for m in msgs] == [
        (2, "hi", "c1"),
        (3, "where is my refund", None),
        (4, "order NH-10001", "c1"),
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"text": "hi"', r"b\.jsonl:2: not valid JSON .*'\{\"text\": \"hi\"'"),
        ('["hi"]', r"b\.jsonl:2: '\[\"hi\"\]' is not a JSON object"),
        ('{"txt": "hi"}', r"b\.jsonl:2: unknown key\(s\) 'txt'"),
        ('{"text": 5}', r'b\.jsonl:2: "text" must be a string, got \'5\''),
        ('{"text": "  "}', r'b\.jsonl:2: "text" is empty'),
        ('{"text": "hi", "conversation_id": 7}', r'b\.jsonl:2: "conversation_id" must be a str'),
        ('{"text": "hi", "conversation_id": "a b"}', r"b\.jsonl:2: Conversation id 'a b' is not"),
        (
            '{"text": "hi", "conversation_id": "jo@example.com"}',
            r"b\.jsonl:2: Conversation id .* contains personal data",
        ),
    ],
)
def test_a_bad_jsonl_line_names_file_line_and_value(line, expected):
    with pytest.raises(ConfigError, match=expected):
        parse('{"text": "fine"}\n' + line + "\n")


def test_read_batch_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="nope.txt: batch file not found"):
        read_batch(tmp_path / "nope.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n")
    with pytest.raises(ConfigError, match="empty.txt holds no message"):
        read_batch(empty)


def test_turns_of_one_conversation_see_each_other_new_lines_start_fresh(tmp_path):
    engine = ScriptedEngine()
    svc = AssistantService(engine, ConversationLog(tmp_path / "s.db"))
    msgs = parse(
        '{"text": "I am Ana", "conversation_id": "c1"}\n'
        '{"text": "hello there"}\n'
        '{"text": "order NH-10001", "conversation_id": "c1"}\n'
    )
    replies = [r for _, r in answer_batch(svc, msgs)]
    svc.close()
    assert replies[0].conversation_id == replies[2].conversation_id == "c1"
    assert replies[1].conversation_id not in ("c1", "")
    # The third message was answered with the first exchange as its history, the second alone.
    assert [len(history) for history, _, _ in engine.calls] == [0, 0, 2]
    assert engine.calls[2][0][0] == ("customer", "I am Ana")


# -- the command -----------------------------------------------------------------------------


def _args(models_dir, db):
    return ["--models", str(models_dir), "--db", str(db)]


def test_ask_json_carries_the_customer_and_reply_turn_ids(models_dir, tmp_path):
    db = tmp_path / "a.db"
    res = CliRunner().invoke(cli, ["ask", "where is my refund", *_args(models_dir, db), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    rows = {
        r["id"]: r for r in sqlite_utils.Database(db).query("select id, role, text, seq from turns")
    }
    assert rows[out["turn_id"]]["role"] == "customer"
    assert rows[out["turn_id"]]["text"] == "where is my refund"
    assert rows[out["reply_turn_id"]]["role"] == "assistant"
    assert rows[out["reply_turn_id"]]["seq"] == rows[out["turn_id"]]["seq"] + 1


def test_ask_batch_json_one_object_per_line_in_order(models_dir, tmp_path):
    db = tmp_path / "b.db"
    batch = tmp_path / "in.jsonl"
    lines = [
        {"text": "where is my refund", "conversation_id": "conv-1"},
        {"text": "camera offline"},
        {"text": "thanks", "conversation_id": "conv-1"},
    ]
    batch.write_text("".join(json.dumps(line) + "\n" for line in lines))
    res = CliRunner().invoke(cli, ["ask", "--batch", str(batch), *_args(models_dir, db), "--json"])
    assert res.exit_code == 0, res.output
    outs = [json.loads(line) for line in res.stdout.strip().splitlines()]
    assert len(outs) == 3
    single = {"reply", "source", "intent", "confidence", "citations", "candidates"}
    for out in outs:
        assert single | {"latency_ms", "conversation_id", "turn_id", "reply_turn_id"} <= set(out)
    assert outs[0]["conversation_id"] == outs[2]["conversation_id"] == "conv-1"
    assert outs[1]["conversation_id"] != "conv-1"
    db_rows = list(
        sqlite_utils.Database(db).query(
            "select id, conversation_id, role, text from turns order by conversation_id, seq"
        )
    )
    conv1 = [r for r in db_rows if r["conversation_id"] == "conv-1"]
    assert [r["role"] for r in conv1] == ["customer", "assistant"] * 2
    assert [conv1[0]["id"], conv1[1]["id"], conv1[2]["id"], conv1[3]["id"]] == [
        outs[0]["turn_id"],
        outs[0]["reply_turn_id"],
        outs[2]["turn_id"],
        outs[2]["reply_turn_id"],
    ]
    assert len(db_rows) == 6


def test_ask_batch_plain_text_and_stdin(models_dir, tmp_path):
    db = tmp_path / "c.db"
    res = CliRunner().invoke(
        cli,
        ["ask", "--batch", "-", *_args(models_dir, db)],
        input="where is my order\nthanks\n",
    )
    assert res.exit_code == 0, res.output
    assert res.stdout.count("[line ") == 2 and "[line 2 · " in res.stdout
    n = sqlite_utils.Database(db).execute("select count(distinct conversation_id) from turns")
    assert n.fetchone()[0] == 2


def test_ask_batch_bad_line_stops_before_anything_is_logged(models_dir, tmp_path):
    db = tmp_path / "d.db"
    batch = tmp_path / "bad.jsonl"
    batch.write_text('{"text": "where is my order"}\n{"text": "hi", "oops": 1}\n')
    res = CliRunner().invoke(cli, ["ask", "--batch", str(batch), *_args(models_dir, db)])
    assert res.exit_code != 0
    assert f"{batch}:2: unknown key(s) 'oops'" in res.output
    assert not db.exists()


def test_ask_batch_refuses_a_message_or_conversation_beside_it(models_dir, tmp_path):
    batch = tmp_path / "in.txt"
    batch.write_text("hello\n")
    for extra in (["hello"], ["--conversation", "c1"]):
        res = CliRunner().invoke(cli, ["ask", *extra, "--batch", str(batch)])
        assert res.exit_code != 0 and "--batch FILE answers the messages in FILE" in res.output
    res = CliRunner().invoke(cli, ["ask"])
    assert res.exit_code != 0 and "Give a MESSAGE" in res.output
