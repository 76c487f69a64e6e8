"""`assistant tickets ...` and `assistant log correct`: the contract scripts rely on."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.log import ConversationLog

LIST_KEYS = {
    "id",
    "conversation_id",
    "status",
    "priority",
    "priority_reason",
    "intent",
    "confidence",
    "assignee",
    "created",
    "waiting_s",
    "last_customer_text",
}


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))  # no priority.toml there
    monkeypatch.delenv("ASSISTANT_AGENT", raising=False)
    path = tmp_path / "log.db"
    with ConversationLog(path) as log:
        cid = log.new_conversation()
        log.add_turn(
            cid,
            "customer",
            "hi I'm Sam, where is NH-48213?",
            intent="order_status",
            confidence=0.42,
        )
        log.add_turn(cid, "assistant", "Handing over.", source="handoff")
        log.open_ticket(cid, "customer asked for a human", ticket_id="T-10001")
        other = log.new_conversation()
        log.add_turn(
            other, "customer", "card declined \x1b[2J!!", intent="payment_failed", confidence=0.9
        )
        log.open_ticket(other, "asked", ticket_id="T-10002")
    return path


def run(*args, ok: bool = True):
    result = CliRunner().invoke(cli, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_list_json_has_the_contract_and_text_output_is_inert(db):
    data = json.loads(run("tickets", "list", "--db", str(db), "--json").stdout)
    assert [t["id"] for t in data["tickets"]] == ["T-10002", "T-10001"]  # payment first
    assert all(set(t) == LIST_KEYS for t in data["tickets"])
    assert data["tickets"][0]["last_customer_text"] == "card declined \x1b[2J!!"
    text = run("tickets", "list", "--db", str(db)).stdout
    assert "\x1b" not in text and "␛[2J" in text and "T-10001" in text
    assert "payment_failed: high (3)" in text
    assert (
        "no closed tickets" in run("tickets", "list", "--db", str(db), "--status", "closed").stdout
    )


def test_claim_reply_resolve_and_a_second_agent_is_refused(db):
    assert (
        "yours, ana" in run("tickets", "claim", "T-10001", "--agent", "ana", "--db", str(db)).stdout
    )
    lost = run("tickets", "claim", "T-10001", "--agent", "ben", "--db", str(db), ok=False)
    assert lost.exit_code != 0 and "claimed by ana" in lost.output
    mine = json.loads(
        run(
            "tickets", "list", "--status", "mine", "--agent", "ana", "--db", str(db), "--json"
        ).stdout
    )
    assert [t["id"] for t in mine["tickets"]] == ["T-10001"]
    run("tickets", "reply", "T-10001", "Hi Sam, it ships today.", "--agent", "ana", "--db", str(db))
    refused = run(
        "tickets", "reply", "T-10001", "me too", "--agent", "ben", "--db", str(db), ok=False
    )
    assert refused.exit_code != 0 and "claimed by ana" in refused.output
    run("tickets", "resolve", "T-10001", "--hand-back", "--db", str(db))
    run("tickets", "resolve", "T-10002", "--close", "--agent", "ben", "--db", str(db))
    with ConversationLog(db) as log:
        rows = {r["id"]: r for r in log.db.query("SELECT * FROM tickets")}
        statuses = {
            r["id"]: r["status"] for r in log.db.query("SELECT id, status FROM conversations")
        }
        agent_turns = list(log.db.query("SELECT text, agent FROM turns WHERE role = 'agent'"))
    assert rows["T-10001"]["resolution"] == "hand_back" and rows["T-10002"]["resolution"] == "close"
    assert statuses[rows["T-10001"]["conversation_id"]] == "bot"
    assert statuses[rows["T-10002"]["conversation_id"]] == "closed"
    assert agent_turns == [{"text": "Hi Sam, it ships today.", "agent": "ana"}]
    again = run("tickets", "resolve", "T-10001", "--db", str(db), ok=False)
    assert again.exit_code != 0 and "already resolved" in again.output


def test_claim_needs_an_agent(db, monkeypatch):
    res = run("tickets", "claim", "T-10001", "--db", str(db), ok=False)
    assert res.exit_code != 0 and "--agent" in res.output
    monkeypatch.setenv("ASSISTANT_AGENT", "ana")
    assert "yours, ana" in run("tickets", "claim", "T-10001", "--db", str(db)).stdout


def test_show_json_without_models_says_so_on_stderr(db):
    res = run("tickets", "show", "T-10001", "--db", str(db), "--json")
    data = json.loads(res.stdout)
    assert set(data) == {"ticket", "transcript", "suggestions", "passages"}
    assert set(data["ticket"]) == LIST_KEYS
    assert [t["role"] for t in data["transcript"]] == ["customer", "assistant"]
    assert set(data["transcript"][0]) == {
        "turn_id",
        "role",
        "text",
        "time",
        "intent",
        "confidence",
        "source",
    }
    assert data["suggestions"] == [] and data["passages"] == []
    assert "no models loaded" in res.stderr
    missing = run("tickets", "show", "T-99999", "--db", str(db), ok=False)
    assert missing.exit_code != 0 and "no ticket 'T-99999'" in missing.output


def test_show_with_models_suggests_filled_replies(db, intent_dir, ranker_dir, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(intent_dir, models / "intent")
    shutil.copytree(ranker_dir, models / "ranker")
    data = json.loads(
        run("tickets", "show", "T-10001", "--db", str(db), "--models", str(models), "--json").stdout
    )
    assert data["suggestions"] and all(
        set(s) == {"text", "score", "agent_only"} for s in data["suggestions"]
    )
    assert all("{" not in s["text"] for s in data["suggestions"])  # slots filled
    scores = [s["score"] for s in data["suggestions"]]
    assert scores == sorted(scores, reverse=True)
    text = run("tickets", "show", "T-10001", "--db", str(db), "--models", str(models)).stdout
    assert "suggested replies:" in text


def test_notes_and_priority_commands(db):
    run("tickets", "note", "T-10001", "VIP customer", "--agent", "ana", "--db", str(db))
    assert "VIP customer" in run("tickets", "show", "T-10001", "--db", str(db)).stdout
    shown = json.loads(run("tickets", "show", "T-10001", "--db", str(db), "--json").stdout)
    assert "VIP customer" not in json.dumps(shown["transcript"])
    out = run("tickets", "priority", "T-10001", "5", "--agent", "ana", "--db", str(db)).stdout
    assert "P5 (set to critical by ana)" in out


def test_log_correct_one_turn_and_a_file(db, intent_dir, tmp_path, monkeypatch):
    with ConversationLog(db) as log:
        turn = next(log.db.query("SELECT id FROM turns WHERE role = 'customer' LIMIT 1"))["id"]
    models = tmp_path / "models"
    shutil.copytree(intent_dir, models / "intent")
    run(
        "log",
        "correct",
        turn,
        "--intent",
        "refund_status",
        "--agent",
        "ana",
        "--db",
        str(db),
        "--models",
        str(models),
    )
    bad = run(
        "log",
        "correct",
        turn,
        "--intent",
        "refund_statsu",
        "--agent",
        "ana",
        "--db",
        str(db),
        "--models",
        str(models),
        ok=False,
    )
    assert bad.exit_code != 0 and "Did you mean refund_status" in bad.output
    csv_file = tmp_path / "fix.csv"
    csv_file.write_text(f"turn_id,intent,agent\n{turn},order_status,\nmissing,order_status,ben\n")
    monkeypatch.setenv("ASSISTANT_AGENT", "carla")
    res = run("log", "correct", "--file", str(csv_file), "--db", str(db), ok=False)
    assert res.exit_code != 0 and f"{csv_file}:3: no turn 'missing'" in res.output
    csv_file.write_text(f"turn_id,intent,agent\n{turn},order_status,\n")
    assert (
        "1 correction(s) stored"
        in run("log", "correct", "--file", str(csv_file), "--db", str(db)).stdout
    )
    with ConversationLog(db) as log:
        rows = list(log.db.query("SELECT corrected_intent, agent FROM corrections ORDER BY time"))
    assert rows == [
        {"corrected_intent": "refund_status", "agent": "ana"},
        {"corrected_intent": "order_status", "agent": "carla"},
    ]
    neither = run("log", "correct", "--db", str(db), ok=False)
    assert neither.exit_code != 0 and "--file CSV" in neither.output


def test_show_defaults_to_the_data_directorys_models_as_ask_does(
    db, intent_dir, ranker_dir, tmp_path
):
    home = tmp_path / "home"  # the fixture's ASSISTANT_HOME
    shutil.copytree(intent_dir, home / "models" / "intent")
    shutil.copytree(ranker_dir, home / "models" / "ranker")
    res = run("tickets", "show", "T-10001", "--db", str(db), "--json")
    assert json.loads(res.stdout)["suggestions"]
    assert "no models loaded" not in res.stderr
