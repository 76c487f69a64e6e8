"""The log's tables, the values they allow, and the migrations that build them.

Version N of the schema is `MIGRATIONS[N - 1]` applied to version N - 1; append a function to
change the schema (and document the new version in docs/log-schema.md), never edit a released
one. `migrate` applies what a file lacks in one transaction, so a failed migration changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils

from assistant.errors import LogError
from assistant.log.ids import utc_now

ROLES = ("customer", "assistant", "agent")
STATUSES = ("bot", "human", "closed")  # conversation status: bot answers / handed off / finished

# Optional keyword fields of `ConversationLog.add_turn`, stored in the turns column of that name.
TURN_FIELDS = (
    "intent",  # predicted intent label ("oos" when out of scope)
    "confidence",  # probability of `intent`
    "top_intents",  # [(label, prob), ...]
    "source",  # one of assistant.reply.SOURCES for assistant turns
    "reason",  # why the policy chose the source
    "candidates",  # ranked reply candidates (Candidate objects or dicts) with scores
    "citations",  # knowledge-base passages (Citation objects or dicts)
    "model_versions",  # {"intent": "...", "ranker": "...", ...}
    "latency_ms",  # time the engine took for this turn
    "cut_chars",  # characters of the message left out (longer than MAX_MESSAGE_CHARS), or None
    "agent",  # the agent who wrote an "agent" turn (version 3), or None
)

TICKET_STATUSES = ("open", "closed")
RESOLUTIONS = ("hand_back", "close")  # how an agent resolved a ticket (version 3)
CORRECTION_KINDS = ("correct", "confirm")  # an agent changed a prediction, or confirmed it


_V1 = [
    """
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        started TEXT NOT NULL,
        channel TEXT NOT NULL DEFAULT 'chat',
        status TEXT NOT NULL DEFAULT 'bot' CHECK (status IN ('bot', 'human', 'closed')),
        metadata TEXT NOT NULL DEFAULT '{}'
    )
    """,
    """
    CREATE TABLE turns (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('customer', 'assistant', 'agent')),
        text TEXT NOT NULL,
        time TEXT NOT NULL,
        intent TEXT,
        confidence REAL,
        top_intents TEXT,
        source TEXT,
        reason TEXT,
        candidates TEXT,
        citations TEXT,
        model_versions TEXT,
        latency_ms REAL,
        redactions TEXT NOT NULL DEFAULT '[]'
    )
    """,
    """
    CREATE TABLE feedback (
        id TEXT PRIMARY KEY,
        turn_id TEXT NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
        rating INTEGER NOT NULL CHECK (rating IN (1, -1)),
        comment TEXT NOT NULL DEFAULT '',
        time TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE corrections (
        id TEXT PRIMARY KEY,
        turn_id TEXT NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
        corrected_intent TEXT,
        corrected_reply TEXT,
        agent TEXT NOT NULL DEFAULT '',
        time TEXT NOT NULL,
        CHECK (corrected_intent IS NOT NULL OR corrected_reply IS NOT NULL)
    )
    """,
    """
    CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        reason TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
        created TEXT NOT NULL,
        closed TEXT
    )
    """,
    "CREATE INDEX idx_conversations_started ON conversations(started)",
    "CREATE UNIQUE INDEX idx_turns_conversation_seq ON turns(conversation_id, seq)",
    "CREATE INDEX idx_turns_time ON turns(time)",
    "CREATE INDEX idx_feedback_turn ON feedback(turn_id)",
    "CREATE INDEX idx_feedback_time ON feedback(time)",
    "CREATE INDEX idx_corrections_turn ON corrections(turn_id)",
    "CREATE INDEX idx_corrections_time ON corrections(time)",
    "CREATE INDEX idx_tickets_conversation ON tickets(conversation_id, status)",
    "CREATE INDEX idx_tickets_created ON tickets(created)",
]


def _migrate_1_initial(db: sqlite_utils.Database) -> None:
    """Version 1: conversations, turns, feedback, corrections, tickets and their indexes."""
    for sql in _V1:
        db.execute(sql)


def _migrate_2_cut_messages(db: sqlite_utils.Database) -> None:
    """Version 2: `turns.cut_chars`, how much of a too-long customer message was left out."""
    db.execute("ALTER TABLE turns ADD COLUMN cut_chars INTEGER")


_V3 = [
    # Who wrote an agent turn: the customer's chat shows the name with the reply.
    "ALTER TABLE turns ADD COLUMN agent TEXT",
    # Whose conversation it is: the customer's chat lists only its own (ctrl+o).
    "ALTER TABLE conversations ADD COLUMN customer TEXT",
    # The triage console: who has a ticket (claim), a priority an agent set, how it ended.
    "ALTER TABLE tickets ADD COLUMN assignee TEXT",
    "ALTER TABLE tickets ADD COLUMN claimed TEXT",
    "ALTER TABLE tickets ADD COLUMN priority INTEGER",
    "ALTER TABLE tickets ADD COLUMN priority_by TEXT",
    "ALTER TABLE tickets ADD COLUMN resolution TEXT CHECK (resolution IN ('hand_back', 'close'))",
    "ALTER TABLE tickets ADD COLUMN resolved_by TEXT",
    # Agents rate bot replies too; '' is the customer.
    "ALTER TABLE feedback ADD COLUMN agent TEXT NOT NULL DEFAULT ''",
    # A confirmation is stored like a correction (the label an agent vouched for), so the
    # export learns from both; `kind` tells them apart.
    "ALTER TABLE corrections ADD COLUMN kind TEXT NOT NULL DEFAULT 'correct' "
    "CHECK (kind IN ('correct', 'confirm'))",
    """
    CREATE TABLE notes (
        id TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
        agent TEXT NOT NULL,
        text TEXT NOT NULL,
        time TEXT NOT NULL
    )
    """,
    "CREATE INDEX idx_notes_ticket ON notes(ticket_id, time)",
    # The queue reads open tickets only; without this it scans every ticket ever opened.
    "CREATE INDEX idx_tickets_status ON tickets(status, created)",
    "CREATE INDEX idx_conversations_customer ON conversations(customer, started)",
]


def _migrate_3_triage(db: sqlite_utils.Database) -> None:
    """Version 3: agents' names on turns, ratings and tickets; claims, priorities, resolutions,
    internal notes, confirmations, and the customer a conversation belongs to."""
    for sql in _V3:
        db.execute(sql)


# Every change to a ticket, and every new turn of a conversation with an open ticket, gives the
# ticket the next number of one sequence (triggers, so every writer keeps it, the sqlite3 shell
# included): a console keeping 1,000 open tickets current asks for `version > last seen`
# instead of re-reading all of them. New numbers exceed every stored one (the write lock
# serialises writers), so the numbers only grow.
_BUMP = "UPDATE tickets SET version = (SELECT COALESCE(MAX(version), 0) + 1 FROM tickets)"
_V4 = [
    "ALTER TABLE tickets ADD COLUMN version INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX idx_tickets_version ON tickets(version)",
    f"""
    CREATE TRIGGER tickets_version_insert AFTER INSERT ON tickets BEGIN
        {_BUMP} WHERE rowid = NEW.rowid;
    END
    """,
    # Every column but `version` itself (which would fire the trigger again).
    f"""
    CREATE TRIGGER tickets_version_update AFTER UPDATE OF conversation_id, reason, status,
        created, closed, assignee, claimed, priority, priority_by, resolution, resolved_by
    ON tickets BEGIN
        {_BUMP} WHERE rowid = NEW.rowid;
    END
    """,
    f"""
    CREATE TRIGGER tickets_version_turn AFTER INSERT ON turns BEGIN
        {_BUMP} WHERE conversation_id = NEW.conversation_id AND status = 'open';
    END
    """,
]


def _migrate_4_ticket_versions(db: sqlite_utils.Database) -> None:
    """Version 4: `tickets.version`, a change sequence kept by triggers (cheap polling)."""
    for sql in _V4:
        db.execute(sql)


# Ordered: MIGRATIONS[i] upgrades a file from version i to version i + 1.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _migrate_1_initial,
    _migrate_2_cut_messages,
    _migrate_3_triage,
    _migrate_4_ticket_versions,
]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in an open log file (0 for an empty file)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not exists:
        return 0
    return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])


def _check_not_newer(version: int, name: str) -> None:
    if version > SCHEMA_VERSION:
        raise LogError(
            f"{name} has conversation-log schema version {version}, but this version "
            f"of the assistant knows only up to {SCHEMA_VERSION}. Upgrade the assistant, "
            "or point it at another log file; the file was left untouched."
        )


def migrate(db: sqlite_utils.Database, name: str) -> None:
    """Bring the log in `db` (called `name` in messages) to `SCHEMA_VERSION`.

    Every pending migration runs in one transaction that holds the write lock, so two processes
    opening a new file at once migrate it once, and a failure leaves the file as it was. A file
    newer than this code raises `LogError` and is not touched.
    """
    conn = db.conn
    version = schema_version(conn)
    _check_not_newer(version, name)
    if version == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Re-read under the lock: another process may have migrated in the meantime.
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version INTEGER PRIMARY KEY, applied TEXT NOT NULL)"
        )
        version = schema_version(conn)
        _check_not_newer(version, name)
        for number in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[number - 1](db)
            conn.execute(
                "INSERT INTO schema_version (version, applied) VALUES (?, ?)",
                (number, utc_now()),
            )
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise LogError(
                f"Migrating the conversation log {name} from schema version {version} "
                f"to {SCHEMA_VERSION} failed: {exc}. Nothing was changed."
            ) from exc
        raise
