"""assistant/log/schema.py and opening a log: tables, pragmas, migrations, damaged files."""

from __future__ import annotations

import re
import sqlite3

import pytest

from assistant.errors import ConfigError, LogError
from assistant.log import SCHEMA_VERSION, ConversationLog, schema


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "conversations.db"


@pytest.fixture
def file_log(db_path):
    with ConversationLog(db_path, synchronous="NORMAL") as log:
        yield log


def columns(log: ConversationLog, table: str) -> list[str]:
    return [row[1] for row in log.db.conn.execute(f"PRAGMA table_info({table})")]


def pragma(log: ConversationLog, name: str):
    return log.db.conn.execute(f"PRAGMA {name}").fetchone()[0]


def test_fresh_file_gets_every_table_and_column(file_log):
    assert file_log.schema_version == SCHEMA_VERSION == 4
    assert columns(file_log, "conversations") == [
        "id",
        "started",
        "channel",
        "status",
        "metadata",
        "customer",
    ]
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
        "cut_chars",
        "agent",
    ]
    assert columns(file_log, "feedback") == ["id", "turn_id", "rating", "comment", "time", "agent"]
    assert columns(file_log, "corrections") == [
        "id",
        "turn_id",
        "corrected_intent",
        "corrected_reply",
        "agent",
        "time",
        "kind",
    ]
    assert columns(file_log, "tickets") == [
        "id",
        "conversation_id",
        "reason",
        "status",
        "created",
        "closed",
        "assignee",
        "claimed",
        "priority",
        "priority_by",
        "resolution",
        "resolved_by",
        "version",
    ]
    assert columns(file_log, "notes") == ["id", "ticket_id", "agent", "text", "time"]
    assert columns(file_log, "schema_version") == ["version", "applied"]


def test_foreign_keys_and_time_are_indexed(file_log):
    conn = file_log.db.conn
    indexed = {
        (table, tuple(r[2] for r in conn.execute(f"PRAGMA index_info({name})")))
        for table in ("conversations", "turns", "feedback", "corrections", "tickets", "notes")
        for _, name, *_ in conn.execute(f"PRAGMA index_list({table})")
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
        ("tickets", "status"),
        ("conversations", "customer"),
        ("notes", "ticket_id"),
        ("tickets", "version"),
    ]:
        assert any(t == table and cols[0] == first_column for t, cols in indexed), (
            table,
            first_column,
        )


def test_check_constraints_hold_the_allowed_values(file_log):
    cid = file_log.new_conversation()
    for sql in (
        "UPDATE conversations SET status = 'paused'",
        "INSERT INTO turns (id, conversation_id, seq, role, text, time) "
        f"VALUES ('x', '{cid}', 1, 'robot', 'hi', 'now')",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            file_log.db.conn.execute(sql)
    assert schema.ROLES == ("customer", "assistant", "agent")
    assert schema.STATUSES == ("bot", "human", "closed")


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


def test_foreign_keys_are_enforced():
    with ConversationLog() as log:
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
        assert [r["version"] for r in log.db.query("SELECT version FROM schema_version")] == [
            1,
            2,
            3,
            4,
        ]
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

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, add_language])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with ConversationLog(db_path) as log:
        assert log.schema_version == SCHEMA_VERSION + 1
        assert "language" in columns(log, "conversations")
        assert log.status(cid) == "bot"
        versions = [r["version"] for r in log.db.query("SELECT version FROM schema_version")]
        assert versions == list(range(1, SCHEMA_VERSION + 2))


def test_failed_migration_rolls_back_everything(db_path, monkeypatch):
    with ConversationLog(db_path):
        pass

    def half_done(db):
        db.execute("CREATE TABLE half (x)")
        db.execute("THIS IS NOT SQL")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, half_done])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(
        LogError, match=f"from schema version {SCHEMA_VERSION} to {SCHEMA_VERSION + 1}"
    ):
        ConversationLog(db_path)
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
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
        assert log.schema_version == SCHEMA_VERSION
