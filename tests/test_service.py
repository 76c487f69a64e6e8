"""assistant/service.py, `assistant ask` and the chat against the real engine and log.

Tiny random models (quality is irrelevant here) or a scripted engine, a tiny KB index, a real
SQLite file: every test checks what reached the database or what the engine was given.
"""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest
import sqlite_utils
from chat_helpers import run_chat, until
from click.testing import CliRunner
from fake_engine import ScriptedEngine

from assistant.cli import cli
from assistant.log import ConversationLog
from assistant.placeholders import extract_slots
from assistant.service import AssistantService, open_service


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, intent_dir, ranker_dir):
    d = tmp_path_factory.mktemp("models")
    shutil.copytree(intent_dir, d / "intent")
    shutil.copytree(ranker_dir, d / "ranker")
    return d


@pytest.fixture(scope="module")
def kb_index(tmp_path_factory, tiny_st_model):
    from pathlib import Path

    from kb import BuildConfig, build_index

    out = tmp_path_factory.mktemp("kb") / "index"
    docs = Path(__file__).parent / "data" / "kb"
    build_index(
        str(docs),
        str(out),
        BuildConfig(model_path=str(tiny_st_model), show_progress=False, precision="fp32"),
    )
    return out


@pytest.fixture
def service(models_dir, kb_index, tmp_path):
    svc = open_service(models_dir, kb_index, tmp_path / "log.db")
    yield svc
    svc.close()


def rows(db_path, sql, params=()):
    return list(sqlite_utils.Database(db_path).query(sql, params))


def test_turn_is_logged_with_everything(service, tmp_path):
    cid = service.new_conversation()
    r = service.respond(cid, "where is my order")
    assert (
        r.conversation_id == cid
        and r.turn_id
        and r.source in {"ranker", "kb", "clarify", "fallback", "oos", "handoff"}
    )
    assert r.intent and 0 <= r.confidence <= 1 and len(r.top_intents) == 3
    assert len(r.candidates) == min(5, len(service.engine.bank)) and r.latency_ms > 0
    service.writer.flush(5)
    turns = rows(
        tmp_path / "log.db", "select * from turns where conversation_id = ? order by seq", [cid]
    )
    assert [t["role"] for t in turns] == ["customer", "assistant"]
    assert turns[0]["intent"] == r.intent and turns[0]["text"] == "where is my order"
    assert turns[1]["id"] == r.turn_id and turns[1]["source"] == r.source
    assert json.loads(turns[1]["model_versions"])["intent"].startswith("intent:")
    assert len(json.loads(turns[1]["candidates"])) == len(r.candidates)


def test_secrets_redacted_before_disk(service, tmp_path):
    cid = service.new_conversation()
    r = service.respond(cid, "I'm ann@example.com, card 4111 1111 1111 1111, call 555-010-9999")
    assert "[EMAIL]" in r.redacted_text and "[CARD]" in r.redacted_text
    service.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("log.db*"))
    assert b"ann@example.com" not in raw and b"4111 1111 1111 1111" not in raw


def test_handoff_mutes_bot_until_handed_back(service, tmp_path):
    cid = service.new_conversation()
    h = service.request_human(cid)
    assert h.source == "handoff" and h.ticket_id and h.ticket_id in h.reply
    muted = service.respond(cid, "hello? anyone?")
    assert muted.source == "muted" and muted.reply == ""
    service.writer.flush(5)
    db = tmp_path / "log.db"
    assert rows(db, "select status from conversations where id = ?", [cid])[0]["status"] == "human"
    assert (
        rows(db, "select status from tickets where conversation_id = ?", [cid])[0]["status"]
        == "open"
    )
    service.hand_back(cid)
    again = service.respond(cid, "where is my order")
    assert again.source != "muted"


def test_rating_lands_on_the_turn(service, tmp_path):
    cid = service.new_conversation()
    r = service.respond(cid, "camera offline")
    service.rate(r.turn_id, good=False)
    service.writer.flush(5)
    fb = rows(tmp_path / "log.db", "select * from feedback")
    assert [(f["turn_id"], f["rating"]) for f in fb] == [(r.turn_id, -1)]


def test_conversation_continues_from_the_log(models_dir, kb_index, tmp_path):
    svc = open_service(models_dir, kb_index, tmp_path / "log.db")
    cid = svc.new_conversation()
    svc.respond(cid, "hi I'm Ann, where is my order")
    svc.close()
    svc2 = open_service(models_dir, kb_index, tmp_path / "log.db")
    svc2.respond(cid, "it's NH-12345")
    assert [role for role, _ in svc2.state(cid).history] == ["customer", "assistant"] * 2
    svc2.close()


def test_ask_cli_json_and_follow_up(models_dir, kb_index, tmp_path):
    runner = CliRunner()
    args = [
        "--models",
        str(models_dir),
        "--kb",
        str(kb_index),
        "--db",
        str(tmp_path / "a.db"),
        "--json",
    ]
    res = runner.invoke(cli, ["ask", "where is my refund", *args])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    for key in (
        "reply",
        "source",
        "intent",
        "confidence",
        "citations",
        "candidates",
        "latency_ms",
        "conversation_id",
    ):
        assert key in out
    res2 = runner.invoke(cli, ["ask", "thanks", "--conversation", out["conversation_id"], *args])
    assert res2.exit_code == 0
    n = rows(
        tmp_path / "a.db",
        "select count(*) n from turns where conversation_id = ?",
        [out["conversation_id"]],
    )[0]["n"]
    assert n == 4


def test_ask_without_models_is_a_clean_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    res = CliRunner().invoke(cli, ["ask", "hello"])
    assert res.exit_code == 1
    assert "No trained models" in res.output and "assistant demo --no-chat" in res.output
    assert "Traceback" not in res.output


def test_chat_app_against_real_service(models_dir, kb_index, tmp_path):
    from assistant.tui.app import AssistantMessage, ChatApp

    # as `assistant chat` opens it: the models load in the background while the chat opens
    svc = open_service(models_dir, kb_index, tmp_path / "chat.db", background=True)

    async def drive():
        app = ChatApp(svc)
        async with run_chat(app, size=(110, 34)) as pilot:
            await pilot.press(*"where is my order")
            await pilot.press("enter")
            await until(pilot, lambda: app.query(AssistantMessage), timeout=120)
            await pilot.press("ctrl+g")
            await pilot.press("f2")
            # The status comes back from the log: the watcher sees the handoff's write.
            await until(pilot, lambda: app.status == "human" and not app.busy)
            return app.conversation_id

    cid = asyncio.run(drive())
    svc.close()
    db = tmp_path / "chat.db"
    turns = rows(
        db, "select role, text, source from turns where conversation_id = ? order by seq", [cid]
    )
    assert turns[0] == {"role": "customer", "text": "where is my order", "source": None}
    assert turns[-1]["source"] == "handoff"
    assert rows(db, "select rating from feedback")[0]["rating"] == 1
    assert rows(db, "select status from conversations where id = ?", [cid])[0]["status"] == "human"


def test_log_export_cli_turns_log_into_training_data(models_dir, kb_index, tmp_path):
    svc = open_service(models_dir, kb_index, tmp_path / "e.db")
    cid = svc.new_conversation()
    r = svc.respond(cid, "where is my refund")
    svc.rate(r.turn_id, good=True)
    svc.close()
    out = tmp_path / "export"
    res = CliRunner().invoke(
        cli, ["log", "export", "--db", str(tmp_path / "e.db"), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    lines = (out / "dialogues.jsonl").read_text().splitlines()
    d = json.loads(lines[0])
    assert (d["turns"][0]["role"], d["turns"][0]["text"]) == ("customer", "where is my refund")
    assert d["turns"][1]["role"] == "agent" and d["turns"][1]["text"] == r.reply
    res = CliRunner().invoke(cli, ["log", "hand-back", "nope", "--db", str(tmp_path / "e.db")])
    assert res.exit_code == 1 and "no conversation 'nope'" in res.output


# -- conversation state comes from the log, one way for everyone ---------------------------------


@pytest.fixture
def scripted(tmp_path):
    """A service over a scripted engine and a real log file, and the engine to inspect."""
    engine = ScriptedEngine()
    svc = AssistantService(engine, ConversationLog(tmp_path / "s.db"))
    yield svc, engine
    svc.close()


def test_the_engine_sees_the_same_history_live_and_after_a_restart(tmp_path):
    db = tmp_path / "s.db"
    live = ScriptedEngine()
    svc = AssistantService(live, ConversationLog(db))
    cid = svc.new_conversation()
    first = svc.respond(cid, "hi, I'm Ann, mail me at ann@example.com")
    svc.respond(cid, "it's order NH-12345")
    svc.close()

    reloaded = ScriptedEngine()
    svc2 = AssistantService(reloaded, ConversationLog(db))
    third = svc2.respond(cid, "any news?")
    svc2.close()

    history_live = live.calls[1][0] + [("customer", live.calls[1][1])]
    history_after = reloaded.calls[0][0]
    assert history_after[: len(history_live)] == history_live  # the same turns, the same text
    assert history_live[0] == ("customer", "hi, I'm Ann, mail me at [EMAIL]")  # as stored
    assert live.calls[0][1] == first.redacted_text == "hi, I'm Ann, mail me at [EMAIL]"
    # Slots the customer gave survive the restart; the e-mail was never seen, so never repeated.
    slots = extract_slots([text for role, text in history_after if role == "customer"])
    assert slots == {"name": "Ann", "order_number": "NH-12345"}
    assert third.reply == (
        "Thanks Ann, I found NH-12345 and will write to the email address on your account."
    )


def test_each_customer_text_is_redacted_once_on_its_way_to_disk(scripted, monkeypatch):
    from assistant.log import columns

    svc, _ = scripted
    seen: list[str] = []
    real = columns.redact
    monkeypatch.setattr(columns, "redact", lambda t, c: seen.append(t) or real(t, c))
    cid = svc.new_conversation()
    message = "I'm Bo, card 4111 1111 1111 1111"
    reply = svc.respond(cid, message)
    svc.writer.flush()
    assert seen.count(message) == 1
    assert reply.redacted_text not in seen  # the stored text is not redacted a second time
    assert [t.text for t in svc.log.transcript(cid)][0] == "I'm Bo, card [CARD]"


def test_the_low_confidence_streak_is_counted_from_the_log(scripted, tmp_path):
    svc, engine = scripted
    cid = svc.new_conversation()
    svc.respond(cid, "unclear one")
    svc.respond(cid, "unclear two")
    svc.writer.flush()
    # Another process (or a restart) continues the streak from the stored turns.
    other_engine = ScriptedEngine()
    other = AssistantService(other_engine, ConversationLog(tmp_path / "s.db"))
    handoff = other.respond(cid, "unclear three")
    other.close()
    assert [streak for _, _, streak in engine.calls] == [0, 1]
    assert other_engine.calls[0][2] == 2
    assert handoff.source == "handoff" and handoff.ticket_id in handoff.reply
    assert svc.status(cid) == "human"
    # A hand-back starts the count again: the handoff reply ended the run of clarifications.
    svc.hand_back(cid)
    svc.respond(cid, "unclear four")
    assert engine.calls[-1][2] == 0


def test_changes_made_by_another_process_count_at_once(scripted, tmp_path):
    svc, engine = scripted
    cid = svc.new_conversation()
    assert svc.request_human(cid).ticket_id
    assert svc.respond(cid, "hello?").source == "muted"
    svc.writer.flush()  # this process's writes are on disk before the agent's
    with ConversationLog(tmp_path / "s.db") as agents:  # the agent's console
        agents.add_turn(cid, "agent", "Hi, Ana here. Sorted!")
        agents.hand_back(cid)
    reply = svc.respond(cid, "thanks, where is NH-12345?")
    assert reply.source == "ranker"
    history = engine.calls[-1][0]
    assert history[-2:] == [("customer", "hello?"), ("agent", "Hi, Ana here. Sorted!")]


def test_a_conversation_id_chosen_elsewhere_starts_on_first_use(scripted):
    svc, _ = scripted
    svc.respond("from-a-script", "hello")
    svc.writer.flush()
    assert svc.log.status("from-a-script") == "bot"
    assert [t.role for t in svc.log.transcript("from-a-script")] == ["customer", "assistant"]


def test_reads_for_the_chat_include_the_services_own_queued_writes(scripted):
    svc, _ = scripted
    cid = svc.new_conversation()
    svc.respond(cid, "hello")
    view = svc.conversation(cid)
    assert (view.status, [t.role for t in view.turns]) == ("bot", ["customer", "assistant"])
    assert svc.conversation(cid, after_seq=1).turns[0].role == "assistant"
    assert svc.conversations()[0].id == cid
    assert svc.wait_for_change(0, timeout=0.01) >= 0
