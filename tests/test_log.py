"""Tests for assistant/log.py: schema, migrations, writes, reads, LogWriter, export, secrets."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import threading
import time

import pytest

import assistant.log as log_module
from assistant.errors import ConfigError, LogError
from assistant.log import SCHEMA_VERSION, ConversationLog, LogWriter
from assistant.redact import RedactionConfig
from assistant.reply import Candidate, Citation, ConversationSummary, TurnRecord

EMAIL = "jo.secret@example.com"
CARD = "4111 1111 1111 1111"
CARD_BARE = "4111111111111111"
PHONE = "+1 (555) 010-4242"


@pytest.fixture
def log():
    """An in-memory log."""
    with ConversationLog(":memory:") as log:
        yield log


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "conversations.db"


@pytest.fixture
def file_log(db_path):
    """A log in a temporary file, with synchronous=NORMAL to keep the tests fast."""
    with ConversationLog(db_path, synchronous="NORMAL") as log:
        yield log


def columns(log: ConversationLog, table: str) -> list[str]:
    return [row[1] for row in log.db.conn.execute(f"PRAGMA table_info({table})")]


def pragma(log: ConversationLog, name: str):
    return log.db.conn.execute(f"PRAGMA {name}").fetchone()[0]


# -- schema and opening -------------------------------------------------------------------------


def test_fresh_file_gets_every_table_and_column(file_log):
    assert file_log.schema_version == SCHEMA_VERSION == 1
    assert columns(file_log, "conversations") == ["id", "started", "channel", "status", "metadata"]
    assert columns(file_log, "turns") == [
        "id",
        "conversation_id",
        "seq",
        "role",
        "text",
        "time",
        "intent",
        "confidence",
        "top_intents",
        "source",
        "reason",
        "candidates",
        "citations",
        "model_versions",
        "latency_ms",
        "redactions",
    ]
    assert columns(file_log, "feedback") == ["id", "turn_id", "rating", "comment", "time"]
    assert columns(file_log, "corrections") == [
        "id",
        "turn_id",
        "corrected_intent",
        "corrected_reply",
        "agent",
        "time",
    ]
    assert columns(file_log, "tickets") == [
        "id",
        "conversation_id",
        "reason",
        "status",
        "created",
        "closed",
    ]
    assert columns(file_log, "schema_version") == ["version", "applied"]


def test_foreign_keys_and_time_are_indexed(file_log):
    indexed = {
        (table, tuple(r[2] for r in file_log.db.conn.execute(f"PRAGMA index_info({name})")))
        for table in ("conversations", "turns", "feedback", "corrections", "tickets")
        for _, name, *_ in file_log.db.conn.execute(f"PRAGMA index_list({table})")
    }
    for table, first_column in [
        ("conversations", "started"),
        ("turns", "conversation_id"),
        ("turns", "time"),
        ("feedback", "turn_id"),
        ("feedback", "time"),
        ("corrections", "turn_id"),
        ("corrections", "time"),
        ("tickets", "conversation_id"),
        ("tickets", "created"),
    ]:
        assert any(t == table and cols[0] == first_column for t, cols in indexed), (
            table,
            first_column,
        )


def test_wal_foreign_keys_busy_timeout_are_on(db_path):
    with ConversationLog(db_path) as log:
        assert pragma(log, "journal_mode") == "wal"
        assert pragma(log, "foreign_keys") == 1
        assert pragma(log, "busy_timeout") == 5000
        assert pragma(log, "synchronous") == 2  # FULL by default
    # WAL is persistent: a plain sqlite3 connection sees it too.
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_foreign_keys_are_enforced(log):
    with pytest.raises(LogError, match="new_conversation"):
        log.add_turn("no-such-conversation", "customer", "hello")
    with pytest.raises(LogError):
        log.add_feedback("no-such-turn", 1)
    with pytest.raises(LogError):
        log.open_ticket("no-such-conversation", "angry")


def test_reopen_keeps_data_and_does_not_migrate_twice(db_path):
    with ConversationLog(db_path) as log:
        cid = log.new_conversation()
        log.add_turn(cid, "customer", "hello")
    with ConversationLog(db_path) as log:
        assert [r["version"] for r in log.db.query("SELECT version FROM schema_version")] == [1]
        assert [t.text for t in log.transcript(cid)] == ["hello"]


def test_newer_schema_version_is_refused_and_left_untouched(db_path):
    with ConversationLog(db_path) as log:
        log.db.execute("INSERT INTO schema_version (version, applied) VALUES (99, 'future')")
    with pytest.raises(LogError) as info:
        ConversationLog(db_path)
    message = str(info.value)
    assert str(db_path) in message and "99" in message and "Upgrade" in message
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == 99
    conn.close()


def test_new_migration_is_applied_in_order_on_reopen(db_path, monkeypatch):
    with ConversationLog(db_path) as log:
        cid = log.new_conversation()

    def add_language(db):
        db.execute("ALTER TABLE conversations ADD COLUMN language TEXT NOT NULL DEFAULT 'en'")

    monkeypatch.setattr(log_module, "MIGRATIONS", [*log_module.MIGRATIONS, add_language])
    monkeypatch.setattr(log_module, "SCHEMA_VERSION", 2)
    with ConversationLog(db_path) as log:
        assert log.schema_version == 2
        assert "language" in columns(log, "conversations")
        assert log.status(cid) == "bot"


def test_failed_migration_rolls_back_everything(db_path, monkeypatch):
    with ConversationLog(db_path):
        pass

    def half_done(db):
        db.execute("CREATE TABLE half (x)")
        db.execute("THIS IS NOT SQL")

    monkeypatch.setattr(log_module, "MIGRATIONS", [*log_module.MIGRATIONS, half_done])
    monkeypatch.setattr(log_module, "SCHEMA_VERSION", 2)
    with pytest.raises(LogError, match="from schema version 1 to 2"):
        ConversationLog(db_path)
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == 1
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half'").fetchone() is None
    conn.close()


def test_not_a_database_names_the_file(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("this is not sqlite " * 100)
    with pytest.raises(LogError, match=re.escape(str(path))):
        ConversationLog(path)


def test_bad_synchronous_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="'SOMETIMES'"):
        ConversationLog(tmp_path / "x.db", synchronous="SOMETIMES")


def test_parent_folder_is_created(tmp_path):
    with ConversationLog(tmp_path / "a" / "b" / "log.db") as log:
        assert log.schema_version == 1


# -- writes and reads ---------------------------------------------------------------------------


def test_turn_round_trip(log):
    cid = log.new_conversation(channel="web", metadata={"locale": "en-US"})
    candidates = [Candidate("Your order shipped.", 0.82, ["order_status"])]
    citations = [Citation("orders/tracking", "Tracking", "", "orders/tracking.md", 0.7, "...")]
    c1 = log.add_turn(
        cid,
        "customer",
        "where is NH-48213?",
        intent="order_status",
        confidence=0.97,
        top_intents=[("order_status", 0.97), ("missing_package", 0.02)],
    )
    a1 = log.add_turn(
        cid,
        "assistant",
        "Your order shipped.",
        source="ranker",
        reason="ranker score 0.82 >= 0.55",
        candidates=candidates,
        citations=citations,
        model_versions={"intent": "v1", "ranker": "v1"},
        latency_ms=12.5,
    )
    assert re.fullmatch(r"[0-9a-f]{32}", c1) and re.fullmatch(r"[0-9a-f]{32}", a1)
    transcript = log.transcript(cid)
    assert [t.id for t in transcript] == [c1, a1]
    assert transcript[0] == TurnRecord(
        id=c1,
        role="customer",
        text="where is NH-48213?",
        time=transcript[0].time,
        source=None,
        intent="order_status",
        confidence=0.97,
        rating=None,
    )
    assert transcript[1].source == "ranker"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", transcript[0].time)

    row = log.db.table("turns").get(a1)
    assert row["seq"] == 2 and row["conversation_id"] == cid
    assert json.loads(row["candidates"]) == [
        {"text": "Your order shipped.", "score": 0.82, "intents": ["order_status"]}
    ]
    assert Candidate(**json.loads(row["candidates"])[0]) == candidates[0]
    assert Citation(**json.loads(row["citations"])[0]) == citations[0]
    assert json.loads(row["model_versions"]) == {"intent": "v1", "ranker": "v1"}
    assert row["latency_ms"] == 12.5 and row["reason"] == "ranker score 0.82 >= 0.55"
    assert json.loads(log.db.table("turns").get(c1)["top_intents"])[0] == ["order_status", 0.97]
    assert json.loads(log.db.table("conversations").get(cid)["metadata"]) == {"locale": "en-US"}


def test_numpy_values_are_stored_as_plain_numbers(log):
    np = pytest.importorskip("numpy")
    cid = log.new_conversation()
    tid = log.add_turn(
        cid,
        "customer",
        "hi",
        intent="greeting",
        confidence=np.float32(0.5),
        top_intents=[("greeting", np.float32(0.5))],
    )
    row = log.db.table("turns").get(tid)
    assert row["confidence"] == 0.5 and json.loads(row["top_intents"]) == [["greeting", 0.5]]


def test_pre_generated_ids_and_times_are_used(log):
    cid = log.new_conversation(conversation_id="c1", started="2026-01-01T00:00:00.000Z")
    tid = log.add_turn(cid, "customer", "hi", turn_id="t1", time="2026-01-01T00:00:01.000Z")
    assert (cid, tid) == ("c1", "t1")
    assert log.transcript("c1")[0].time == "2026-01-01T00:00:01.000Z"


def test_add_turn_validates_its_arguments(log):
    cid = log.new_conversation()
    with pytest.raises(LogError, match="role='bot'"):
        log.add_turn(cid, "bot", "hi")
    with pytest.raises(LogError, match="intnet"):
        log.add_turn(cid, "customer", "hi", intnet="greeting")
    with pytest.raises(LogError, match="str"):
        log.add_turn(cid, "customer", None)


def test_seq_orders_turns_and_recent_turns_are_oldest_first(log):
    cid = log.new_conversation()
    ids = [log.add_turn(cid, "customer" if i % 2 == 0 else "assistant", f"m{i}") for i in range(6)]
    assert [t.id for t in log.recent_turns(cid, 3)] == ids[3:]
    assert [t.text for t in log.recent_turns(cid, 100)] == [f"m{i}" for i in range(6)]
    assert log.recent_turns(cid, 0) == []
    assert log.transcript("unknown") == []


def test_feedback_latest_rating_counts(log):
    cid = log.new_conversation()
    log.add_turn(cid, "customer", "hi")
    tid = log.add_turn(cid, "assistant", "Hello!")
    fid = log.add_feedback(tid, 1, "nice")
    assert log.transcript(cid)[1].rating == 1
    log.add_feedback(tid, -1, "actually no")
    assert [t.rating for t in log.transcript(cid)] == [None, -1]
    assert log.db.table("feedback").get(fid)["comment"] == "nice"
    for bad in (0, 2, True, "+1"):
        with pytest.raises(LogError, match="rating"):
            log.add_feedback(tid, bad)


def test_corrections_are_stored(log):
    cid = log.new_conversation()
    tid = log.add_turn(cid, "customer", "my thermostat is cold", intent="device_offline")
    xid = log.add_correction(tid, corrected_intent="thermostat_issue", agent="ana")
    row = log.db.table("corrections").get(xid)
    assert (row["turn_id"], row["corrected_intent"], row["corrected_reply"], row["agent"]) == (
        tid,
        "thermostat_issue",
        None,
        "ana",
    )
    with pytest.raises(LogError, match="corrected_intent, corrected_reply"):
        log.add_correction(tid)


def test_ticket_open_and_hand_back(log):
    cid = log.new_conversation()
    assert log.status(cid) == "bot"
    first = log.open_ticket(cid, "customer asked for a human")
    assert re.fullmatch(r"T-\d{5}", first)
    assert log.status(cid) == "human"
    second = log.open_ticket(cid, "still stuck")
    assert second != first
    log.hand_back(cid)
    assert log.status(cid) == "bot"
    tickets = list(log.db.query("SELECT * FROM tickets ORDER BY created"))
    assert {t["status"] for t in tickets} == {"closed"}
    assert all(t["closed"] >= t["created"] for t in tickets)
    log.close_conversation(cid)
    assert log.status(cid) == "closed"


def test_unknown_conversation_status_and_hand_back(log):
    assert log.status("no-such") is None
    with pytest.raises(LogError, match="no-such"):
        log.hand_back("no-such")


def test_conversations_newest_first_with_preview(log):
    old = log.new_conversation(started="2026-01-01T00:00:00.000Z")
    log.add_turn(old, "assistant", "Hi! How can I help?")
    log.add_turn(old, "customer", "refund please")
    new = log.new_conversation(started="2026-02-01T00:00:00.000Z")
    log.open_ticket(new, "human please")
    assert log.conversations() == [
        ConversationSummary(new, "2026-02-01T00:00:00.000Z", 0, "", "human"),
        ConversationSummary(old, "2026-01-01T00:00:00.000Z", 2, "refund please", "bot"),
    ]
    assert [c.id for c in log.conversations(limit=1)] == [new]


def test_deleting_a_conversation_cascades(log):
    cid = log.new_conversation()
    tid = log.add_turn(cid, "customer", "delete my data")
    log.add_feedback(tid, 1)
    log.add_correction(tid, corrected_intent="delete_account")
    log.open_ticket(cid, "erase")
    log.db.execute("DELETE FROM conversations WHERE id = ?", [cid])
    for table in ("turns", "feedback", "corrections", "tickets"):
        assert log.db.table(table).count == 0, table


def test_closed_log_raises_log_error(db_path):
    log = ConversationLog(db_path)
    cid = log.new_conversation()
    log.close()
    log.close()  # idempotent
    with pytest.raises(LogError):
        log.add_turn(cid, "customer", "hi")


def test_log_is_safe_to_share_between_threads(log):
    cid = log.new_conversation()

    def work(k):
        for i in range(25):
            log.add_turn(cid, "customer", f"{k}-{i}")
            log.recent_turns(cid, 2)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seqs = [r["seq"] for r in log.db.query("SELECT seq FROM turns ORDER BY seq")]
    assert seqs == list(range(1, 101))


def test_write_waits_for_another_connections_lock(db_path):
    with ConversationLog(db_path, synchronous="NORMAL") as log:
        cid = log.new_conversation()
        other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        timer = threading.Timer(0.3, lambda: other.execute("COMMIT"))
        timer.start()
        log.add_turn(cid, "customer", "waited for the lock")  # busy timeout, not an error
        timer.join()
        other.close()
        assert [t.text for t in log.transcript(cid)] == ["waited for the lock"]


# -- redaction on disk --------------------------------------------------------------------------


def _raw_bytes(db_path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = db_path.with_name(db_path.name + suffix)
        if path.exists():
            data += path.read_bytes()
    return data


def _write_secrets(target) -> str:
    cid = target.new_conversation(metadata={"customer_email": EMAIL})
    c = target.add_turn(cid, "customer", f"I am {EMAIL}, card {CARD}, phone {PHONE}")
    a = target.add_turn(
        cid,
        "assistant",
        f"We will email {EMAIL}",
        reason=f"matched {EMAIL}",
        candidates=[Candidate(f"We will email {EMAIL}", 0.9)],
        citations=[Citation("a/b", "T", "", "a/b.md", 0.5, f"card {CARD_BARE}")],
    )
    target.add_feedback(a, -1, f"wrong, mail {EMAIL}")
    target.add_correction(a, corrected_reply=f"We will call {PHONE}", agent="ana")
    target.open_ticket(cid, f"card {CARD_BARE} declined")
    target.add_turn(cid, "agent", f"Got it, {EMAIL}")
    return c


def _assert_no_secrets(raw: bytes) -> None:
    for secret in (EMAIL, CARD, CARD_BARE, PHONE, "010-4242"):
        assert secret.encode() not in raw, secret


def test_secrets_never_reach_the_file(db_path):
    log = ConversationLog(db_path, synchronous="NORMAL")
    cid_turn = _write_secrets(log)
    assert db_path.with_name(db_path.name + "-wal").exists()
    _assert_no_secrets(_raw_bytes(db_path))  # while the WAL holds the writes
    row = log.db.table("turns").get(cid_turn)
    assert row["text"] == "I am [EMAIL], card [CARD], phone [PHONE]"
    assert json.loads(row["redactions"]) == ["email", "phone", "card"]
    assert b"[EMAIL]" in _raw_bytes(db_path)  # the check reads the right bytes
    log.close()
    _assert_no_secrets(_raw_bytes(db_path))  # after the checkpoint into the main file


def test_secrets_never_reach_the_file_through_the_writer(db_path):
    log = ConversationLog(db_path, synchronous="NORMAL")
    with LogWriter(log) as writer:
        _write_secrets(writer)
    _assert_no_secrets(_raw_bytes(db_path))
    assert log.db.table("turns").count == 3
    log.close()
    _assert_no_secrets(_raw_bytes(db_path))


def test_redaction_can_be_turned_off(db_path):
    off = RedactionConfig(emails=False, phones=False, cards=False)
    with ConversationLog(db_path, off, synchronous="NORMAL") as log:
        cid = log.new_conversation()
        tid = log.add_turn(cid, "customer", f"I am {EMAIL}")
        assert log.transcript(cid)[0].text == f"I am {EMAIL}"
        assert json.loads(log.db.table("turns").get(tid)["redactions"]) == []
    assert EMAIL.encode() in _raw_bytes(db_path)


# -- LogWriter ----------------------------------------------------------------------------------


def test_writer_returns_ids_at_once_and_writes_them(file_log):
    with LogWriter(file_log) as writer:
        cid = writer.new_conversation(channel="web")
        c = writer.add_turn(cid, "customer", "hi", intent="greeting", confidence=0.99)
        a = writer.add_turn(cid, "assistant", "Hello!", source="ranker")
        f = writer.add_feedback(a, 1)
        x = writer.add_correction(c, corrected_intent="greeting", agent="ana")
        writer.flush(timeout=10)
        assert [t.id for t in file_log.transcript(cid)] == [c, a]
        assert file_log.transcript(cid)[1].rating == 1
        assert file_log.db.table("feedback").get(f)["turn_id"] == a
        assert file_log.db.table("corrections").get(x)["turn_id"] == c


def test_writer_close_writes_everything_queued(log):
    # Hold the log's lock so the writer thread cannot write: everything stays queued.
    with log._lock:
        writer = LogWriter(log)
        cid = writer.new_conversation()
        ids = [writer.add_turn(cid, "customer", f"message {i}") for i in range(50)]
        assert writer.pending == 51
    writer.close()
    assert writer.pending == 0
    assert [t.id for t in log.transcript(cid)] == ids


def test_writer_close_on_a_file_log_loses_nothing(db_path):
    log = ConversationLog(db_path, synchronous="NORMAL")
    writer = LogWriter(log)
    cid = writer.new_conversation()
    for i in range(300):
        writer.add_turn(cid, "customer", f"message {i}")
    writer.close()
    log.close()
    with ConversationLog(db_path) as reopened:
        assert [t.text for t in reopened.transcript(cid)] == [f"message {i}" for i in range(300)]


def test_writer_stamps_time_at_submission(log):
    with log._lock:
        writer = LogWriter(log)
        cid = writer.new_conversation()
        tid = writer.add_turn(cid, "customer", "hi")
        submitted = log_module.utc_now()
        time.sleep(0.01)
    writer.close()
    assert log.transcript(cid)[0].time <= submitted
    assert log.transcript(cid)[0].id == tid


def test_writer_surfaces_errors_and_keeps_going(log):
    writer = LogWriter(log)
    cid = writer.new_conversation()
    writer.add_turn("no-such-conversation", "customer", f"secret {EMAIL}")
    good = writer.add_turn(cid, "customer", "after the failure")
    with pytest.raises(LogError, match="1 conversation-log write") as info:
        writer.flush(timeout=10)
    assert EMAIL not in str(info.value)  # messages never carry customer text
    assert isinstance(info.value.__cause__, LogError)
    assert [t.id for t in log.transcript(cid)] == [good]
    failed = writer.failed
    assert len(failed) == 1 and failed[0].method == "add_turn"
    assert failed[0].args[0] == "no-such-conversation"  # kept for a retry
    assert EMAIL not in repr(failed[0])
    writer.flush(timeout=10)  # reported once
    writer.close()


def test_writer_close_reraises_unreported_errors(log):
    writer = LogWriter(log)
    writer.add_feedback("no-such-turn", 1)
    cid = writer.new_conversation()
    with pytest.raises(LogError, match="add_feedback"):
        writer.close()
    assert log.status(cid) == "bot"  # queued after the failure, still written
    writer.close()  # idempotent once reported


def test_writer_validates_at_the_call_site(log):
    with LogWriter(log) as writer:
        cid = writer.new_conversation()
        with pytest.raises(LogError, match="role"):
            writer.add_turn(cid, "robot", "hi")
        with pytest.raises(LogError, match="rating"):
            writer.add_feedback("t", 5)
        with pytest.raises(LogError, match="corrected"):
            writer.add_correction("t")
        with pytest.raises(LogError, match="drop_everything"):
            writer.submit("drop_everything")
        assert writer.failed == []


def test_writer_new_conversation_with_a_chosen_id(log):
    with LogWriter(log) as writer:
        assert writer.status("cli-1") is None
        assert writer.new_conversation(channel="cli", conversation_id="cli-1") == "cli-1"
        assert writer.status("cli-1") == "bot"
    assert log.status("cli-1") == "bot"


def test_writer_submit_by_name(log):
    with LogWriter(log) as writer:
        writer.submit("new_conversation", "chat", conversation_id="c1")
        writer.submit("add_turn", "c1", "customer", "hi", turn_id="t1")
        writer.flush(timeout=10)
        assert log.transcript("c1")[0].id == "t1"


def test_writer_refuses_writes_after_close(log):
    writer = LogWriter(log)
    writer.close()
    with pytest.raises(LogError, match="closed"):
        writer.new_conversation()


def test_writer_status_counts_queued_handoffs(log):
    with log._lock:
        writer = LogWriter(log)
        cid = writer.new_conversation()
        ticket = writer.open_ticket(cid, "wants a person")
        assert re.fullmatch(r"T-\d{5}", ticket)
        assert writer.status(cid) == "human"  # not written yet
    writer.flush(timeout=10)
    assert log.status(cid) == writer.status(cid) == "human"
    writer.hand_back(cid)
    assert writer.status(cid) == "bot"
    writer.close()
    assert log.status(cid) == "bot"
    assert log.db.table("tickets").get(ticket)["status"] == "closed"


def test_writer_flush_timeout(log):
    with log._lock:
        writer = LogWriter(log)
        writer.new_conversation()
        with pytest.raises(LogError, match="still pending"):
            writer.flush(timeout=0.05)
    writer.close()


# -- export -------------------------------------------------------------------------------------


def _read_export(out_dir):
    dialogues = [
        json.loads(line) for line in (out_dir / "dialogues.jsonl").read_text().splitlines()
    ]
    with (out_dir / "intents.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    return dialogues, rows


def test_export_training_data(log, tmp_path):
    # 1. Confident prediction, good reply: the predicted intent is the label.
    a = log.new_conversation(started="2026-01-01T00:00:00.000Z")
    log.add_turn(a, "customer", "where is NH-48213?", intent="order_status", confidence=0.97)
    r = log.add_turn(a, "assistant", "It shipped yesterday.", source="ranker")
    log.add_feedback(r, 1)
    log.add_turn(a, "customer", "thanks", intent="thanks_goodbye", confidence=0.5)
    log.add_turn(a, "assistant", "You're welcome!", source="ranker")

    # 2. An agent's corrected intent wins over a confident wrong prediction; a bad-rated reply is
    #    dropped; a corrected reply replaces the original.
    b = log.new_conversation(started="2026-01-02T00:00:00.000Z")
    c1 = log.add_turn(b, "customer", "my heating stopped", intent="device_offline", confidence=0.95)
    bad = log.add_turn(b, "assistant", "Restart your router.", source="ranker")
    log.add_feedback(bad, -1)
    log.add_correction(c1, corrected_intent="thermostat_issue", agent="ana")
    log.add_turn(b, "customer", "charged twice", intent="unexpected_charge", confidence=0.99)
    wrong = log.add_turn(b, "assistant", "Here is your invoice.", source="ranker")
    log.add_feedback(wrong, -1)
    log.add_correction(wrong, corrected_reply="I've refunded the duplicate charge.", agent="ana")
    log.add_turn(b, "customer", "can I talk to someone?", intent="human_agent", confidence=0.99)
    log.add_turn(b, "assistant", "(bot muted)", source="muted")
    log.add_turn(b, "agent", "Hi, Ana here.")

    # 3. Intent predicted on the assistant turn; the correction on the reply applies.
    c = log.new_conversation(started="2026-01-03T00:00:00.000Z")
    log.add_turn(c, "customer", "hello there")
    hi = log.add_turn(c, "assistant", "Hi!", intent="greeting", confidence=0.99, source="ranker")
    log.add_turn(c, "customer", "promo SAVE10 fails")
    promo = log.add_turn(c, "assistant", "Try again.", intent="payment_failed", confidence=0.6)
    log.add_correction(promo, corrected_intent="promo_code")
    assert hi

    # 4. No customer turn: not a dialogue.
    d = log.new_conversation(started="2026-01-04T00:00:00.000Z")
    log.add_turn(d, "assistant", "Hello?")

    out = tmp_path / "export"
    counts = log.export_training_data(out)
    dialogues, rows = _read_export(out)

    assert dialogues == [
        {
            "id": a,
            "turns": [
                {"role": "customer", "text": "where is NH-48213?", "intent": "order_status"},
                {"role": "agent", "text": "It shipped yesterday."},
                {"role": "customer", "text": "thanks"},
                {"role": "agent", "text": "You're welcome!"},
            ],
        },
        {
            "id": b,
            "turns": [
                {"role": "customer", "text": "my heating stopped", "intent": "thermostat_issue"},
                {"role": "customer", "text": "charged twice"},  # its reply was rated bad
                {"role": "agent", "text": "I've refunded the duplicate charge."},
                {"role": "customer", "text": "can I talk to someone?", "intent": "human_agent"},
                {"role": "agent", "text": "Hi, Ana here."},
            ],
        },
        {
            "id": c,
            "turns": [
                {"role": "customer", "text": "hello there", "intent": "greeting"},
                {"role": "agent", "text": "Hi!"},
                {"role": "customer", "text": "promo SAVE10 fails", "intent": "promo_code"},
                {"role": "agent", "text": "Try again."},
            ],
        },
    ]
    assert rows == [
        ["text", "label"],
        ["where is NH-48213?", "order_status"],
        ["my heating stopped", "thermostat_issue"],
        ["can I talk to someone?", "human_agent"],
        ["hello there", "greeting"],
        ["promo SAVE10 fails", "promo_code"],
    ]
    assert counts == {
        "dialogues": 3,
        "turns": 13,
        "labelled_turns": 5,
        "intent_rows": 5,
        "dropped_replies": 1,
        "corrected_replies": 1,
        "muted_replies": 1,
    }


def test_confident_intent_is_not_a_label_when_the_reply_was_rated_bad(log, tmp_path):
    cid = log.new_conversation()
    log.add_turn(cid, "customer", "cancel it", intent="cancel_subscription", confidence=0.95)
    reply = log.add_turn(cid, "assistant", "Plus is cancelled.", source="ranker")
    log.add_feedback(reply, -1)
    counts = log.export_training_data(tmp_path)
    dialogues, rows = _read_export(tmp_path)
    assert dialogues[0]["turns"] == [{"role": "customer", "text": "cancel it"}]
    assert rows == [["text", "label"]]
    assert counts["dropped_replies"] == 1 and counts["labelled_turns"] == 0


def test_export_deduplicates_intent_rows_and_replaces_files(log, tmp_path):
    for _ in range(2):
        cid = log.new_conversation()
        log.add_turn(cid, "customer", "hi", intent="greeting", confidence=0.99)
    (tmp_path / "dialogues.jsonl").write_text("old\n")
    counts = log.export_training_data(tmp_path)
    dialogues, rows = _read_export(tmp_path)
    assert len(dialogues) == 2 and rows == [["text", "label"], ["hi", "greeting"]]
    assert counts["labelled_turns"] == 2 and counts["intent_rows"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dialogues.jsonl", "intents.csv"]


def test_export_of_an_empty_log(log, tmp_path):
    counts = log.export_training_data(tmp_path / "new")
    assert counts["dialogues"] == 0
    assert _read_export(tmp_path / "new") == ([], [["text", "label"]])
