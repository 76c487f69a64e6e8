"""The conversation log: every turn, rating, correction and handoff in one ordinary SQLite file.

    log = ConversationLog("conversations.db")            # migrates the schema on open
    cid = log.new_conversation(channel="chat")
    tid = log.add_turn(cid, "customer", "my email is jo@example.com")  # stored as "[EMAIL]"
    log.add_feedback(tid, -1)
    log.export_training_data("exports/")                  # dialogues.jsonl + intents.csv

Conversations are customer data, so two rules hold everywhere in this module:

- nothing is lost: every write is one transaction, the file is in WAL mode with
  `synchronous=FULL`, and `LogWriter` writes everything it accepted before `close()` returns,
  keeping (and re-raising) any write that failed instead of dropping it;
- nothing secret is written in clear: free text (turn text, reply candidates, citations, reasons,
  feedback comments, corrected replies, ticket reasons, conversation metadata) goes through
  `assistant.redact.redact` before it reaches the database.

`ConversationLog` is the synchronous API and is safe to share between threads (one lock per
connection). `LogWriter` puts a queue and a background thread in front of it so the UI and the
dialogue engine never wait on disk; reads go straight to the `ConversationLog`.

The schema is described in docs/log-schema.md; change it only by appending to `MIGRATIONS`.
"""

from __future__ import annotations

import atexit
import csv
import json
import math
import os
import queue
import secrets
import sqlite3
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from time import monotonic, sleep
from typing import Any

import sqlite_utils

from assistant.errors import ConfigError, LogError
from assistant.redact import PLACEHOLDERS, RedactionConfig, check_conversation_id, redact
from assistant.reply import ConversationSummary, TurnRecord

ROLES = ("customer", "assistant", "agent")
STATUSES = ("bot", "human", "closed")  # conversation status: bot answers / handed off / finished
BUSY_TIMEOUT_MS = 5000  # how long a write waits for another connection's lock
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")

# Optional keyword fields of `add_turn`, stored in the turns table column of the same name.
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
)
_TURN_CONTROL = ("turn_id", "time")  # pre-generated id and timestamp (LogWriter passes both)

# Dialogue export: a predicted intent becomes a training label only at this confidence or above.
EXPORT_MIN_CONFIDENCE = 0.9


def new_id() -> str:
    """A fresh random id (uuid4 hex), generated in Python so callers know it before the write."""
    return uuid.uuid4().hex


def utc_now() -> str:
    """The current time as ISO-8601 UTC with milliseconds, e.g. "2026-05-01T09:30:00.123Z"."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _random_ticket_id() -> str:
    return f"T-{10000 + secrets.randbelow(90000)}"


def _pick_ticket_id(taken: Callable[[str], bool]) -> str:
    """A ticket id like "T-90412" that `taken` says is free; a uuid once those get scarce."""
    for _ in range(20):
        candidate = _random_ticket_id()
        if not taken(candidate):
            return candidate
    return new_id()


# ---------------------------------------------------------------------------------------------
# Schema migrations. Version N is MIGRATIONS[N - 1]; append, never edit a released migration.
# ---------------------------------------------------------------------------------------------

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


# Ordered: MIGRATIONS[i] upgrades a file from version i to version i + 1.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_migrate_1_initial]
SCHEMA_VERSION = len(MIGRATIONS)


# ---------------------------------------------------------------------------------------------
# Validation shared by ConversationLog and LogWriter (LogWriter checks in the caller's thread, so
# a programming mistake raises at the call site instead of at the next flush).
# ---------------------------------------------------------------------------------------------


def _check_turn(role: str, text: object, fields_: Mapping[str, Any]) -> None:
    if role not in ROLES:
        raise LogError(f"add_turn: role={role!r} is not one of {', '.join(ROLES)}.")
    if not isinstance(text, str):
        raise LogError(f"add_turn: text must be a str, got {type(text).__name__}.")
    unknown = sorted(set(fields_) - set(TURN_FIELDS) - set(_TURN_CONTROL))
    if unknown:
        raise LogError(
            f"add_turn: unknown field(s) {', '.join(unknown)}; "
            f"known fields: {', '.join(TURN_FIELDS + _TURN_CONTROL)}."
        )


def _check_rating(rating: int) -> None:
    if isinstance(rating, bool) or rating not in (1, -1):
        raise LogError(f"add_feedback: rating={rating!r}; use 1 (good) or -1 (bad).")


def _check_correction(corrected_intent: str | None, corrected_reply: str | None) -> None:
    if corrected_intent is None and corrected_reply is None:
        raise LogError("add_correction: give corrected_intent, corrected_reply or both.")


def _plain(value: Any, scrub: Callable[[str], str] | None) -> Any:
    """`value` as plain JSON-ready Python (dataclasses, tuples, numpy values converted).

    Strings go through `scrub` when given; NaN and infinities become None.
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return scrub(value) if scrub else value
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name), scrub) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v, scrub) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(tolist):
        return _plain(tolist(), scrub)
    return _plain(str(value), scrub)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


class _Scrubber:
    """Redacts strings with one RedactionConfig and remembers the kinds it found."""

    def __init__(self, config: RedactionConfig) -> None:
        self.config = config
        self.kinds: set[str] = set()

    def __call__(self, text: str) -> str:
        out, kinds = redact(text, self.config)
        self.kinds.update(kinds)
        return out

    def found(self) -> list[str]:
        return [kind for kind in PLACEHOLDERS if kind in self.kinds]


def _json(value: Any, scrub: Callable[[str], str] | None = None) -> str:
    return json.dumps(_plain(value, scrub), ensure_ascii=False)


def _json_or_none(value: Any, scrub: Callable[[str], str] | None = None) -> str | None:
    return None if value is None else _json(value, scrub)


_TURN_RECORD_SQL = """
SELECT t.id, t.role, t.text, t.time, t.source, t.intent, t.confidence,
       (SELECT f.rating FROM feedback f WHERE f.turn_id = t.id
        ORDER BY f.time DESC, f.rowid DESC LIMIT 1) AS rating
FROM turns t
WHERE t.conversation_id = ?
"""

_EXPORT_SQL = """
SELECT t.conversation_id, t.id, t.role, t.text, t.intent, t.confidence, t.source,
       (SELECT f.rating FROM feedback f WHERE f.turn_id = t.id
        ORDER BY f.time DESC, f.rowid DESC LIMIT 1) AS rating,
       (SELECT c.corrected_intent FROM corrections c
        WHERE c.turn_id = t.id AND c.corrected_intent IS NOT NULL
        ORDER BY c.time DESC, c.rowid DESC LIMIT 1) AS corrected_intent,
       (SELECT c.corrected_reply FROM corrections c
        WHERE c.turn_id = t.id AND c.corrected_reply IS NOT NULL
        ORDER BY c.time DESC, c.rowid DESC LIMIT 1) AS corrected_reply
FROM turns t JOIN conversations cv ON cv.id = t.conversation_id
ORDER BY cv.started, cv.rowid, t.seq
"""


class ConversationLog:
    """The conversation log in one SQLite file (or ":memory:"), opened with sqlite-utils.

    Opening sets WAL mode (file databases), `foreign_keys=ON`, a 5 s busy timeout and the
    `synchronous` level, then applies any pending schema migrations in one transaction. A file
    written by a newer version of the assistant raises `LogError` instead of being touched.

    Every method is thread-safe. Write methods accept pre-generated ids and timestamps as
    keyword arguments (that is how `LogWriter` returns ids before the write happens); leave them
    out and the log makes its own.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        redaction: RedactionConfig | None = None,
        *,
        synchronous: str = "FULL",
    ) -> None:
        """Open (creating and migrating if needed) the log at `path`.

        `redaction` chooses what is redacted before text reaches disk (default: emails, phone
        numbers and card numbers). `synchronous` is SQLite's durability level: "FULL" (default)
        survives power loss; "NORMAL" is faster and survives application crashes only.
        """
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ConfigError(
                f"synchronous={synchronous!r}: use one of {', '.join(SYNCHRONOUS_MODES)}."
            )
        self.redaction = redaction or RedactionConfig()
        self.synchronous = synchronous.upper()
        self.path: Path | None = None if os.fspath(path) == ":memory:" else Path(path)
        self.name = str(self.path) if self.path else ":memory:"
        self._lock = threading.RLock()
        self._closed = False
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            # check_same_thread=False: LogWriter writes from its own thread; self._lock
            # serialises every use of the connection.
            conn = sqlite3.connect(
                self.name, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise LogError(
                f"Cannot open the conversation log {self.name}: {exc}. "
                "Check that the folder exists and is writable."
            ) from exc
        try:
            self.db = sqlite_utils.Database(conn, execute_plugins=False)
            self._configure()
            self._migrate()
        except LogError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise LogError(
                f"{self.name} is not a usable conversation log: {exc}. "
                "Point the assistant at another file or move this one away."
            ) from exc

    # -- opening --------------------------------------------------------------------------------

    def _configure(self) -> None:
        conn = self.db.conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if self.path is not None:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise LogError(
                    f"{self.name}: SQLite refused WAL mode (journal_mode={mode}); "
                    "keep the log on a local disk, not a network share."
                )
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")

    def _version(self) -> int:
        conn = self.db.conn
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ).fetchone()
        if not exists:
            return 0
        return int(
            conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        )

    def _check_not_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise LogError(
                f"{self.name} has conversation-log schema version {version}, but this version "
                f"of the assistant knows only up to {SCHEMA_VERSION}. Upgrade the assistant, "
                "or point it at another log file; the file was left untouched."
            )

    def _migrate(self) -> None:
        """Apply the pending migrations, all in one transaction that holds the write lock."""
        version = self._version()
        self._check_not_newer(version)
        if version == SCHEMA_VERSION:
            return
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the lock: another process may have migrated in the meantime.
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, applied TEXT NOT NULL)"
            )
            version = self._version()
            self._check_not_newer(version)
            for number in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[number - 1](self.db)
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
                    f"Migrating the conversation log {self.name} from schema version {version} "
                    f"to {SCHEMA_VERSION} failed: {exc}. Nothing was changed."
                ) from exc
            raise

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        with self._lock:
            return self._version()

    # -- plumbing -------------------------------------------------------------------------------

    @contextmanager
    def _write(self, action: str, hint: str = "") -> Iterator[sqlite_utils.Database]:
        """One write transaction (BEGIN IMMEDIATE), with sqlite errors turned into LogError."""
        with self._lock:
            conn = self.db.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self.db
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if not self._closed and conn.in_transaction:
                    conn.execute("ROLLBACK")
                hint = hint if isinstance(exc, sqlite3.IntegrityError) else ""
                raise LogError(f"{action} failed in {self.name}: {exc}.{hint}") from exc

    def _rows(self, sql: str, params: tuple | list = ()) -> list[dict]:
        with self._lock:
            try:
                return list(self.db.query(sql, params))
            except sqlite3.Error as exc:
                raise LogError(f"Reading {self.name} failed: {exc}.") from exc

    def _ticket_taken(self, ticket_id: str) -> bool:
        return bool(self._rows("SELECT 1 FROM tickets WHERE id = ?", (ticket_id,)))

    def _scrubber(self) -> _Scrubber:
        return _Scrubber(self.redaction)

    # -- writes ---------------------------------------------------------------------------------

    def new_conversation(
        self,
        channel: str = "chat",
        metadata: Mapping[str, Any] | None = None,
        *,
        conversation_id: str | None = None,
        started: str | None = None,
    ) -> str:
        """Start a conversation with status "bot" and return its id.

        `metadata` is stored as JSON with its strings redacted. A caller's `conversation_id`
        holding personal data is refused (ids are stored in clear): `check_conversation_id`.
        """
        cid = (
            check_conversation_id(conversation_id, self.redaction) if conversation_id else new_id()
        )
        row = {
            "id": cid,
            "started": started or utc_now(),
            "channel": channel,
            "status": "bot",
            "metadata": _json(dict(metadata or {}), self._scrubber()),
        }
        with self._write(f"new_conversation {cid!r}"):
            self.db.table("conversations").insert(row)
        return cid

    def add_turn(self, conversation_id: str, role: str, text: str, **fields: Any) -> str:
        """Append a turn to a conversation and return its id.

        `role` is "customer", "assistant" or "agent". `text` is redacted before it reaches
        disk, and so are the strings inside `candidates`, `citations` and `reason`; the kinds
        found are stored in `redactions`. Optional fields (see `TURN_FIELDS`): intent,
        confidence, top_intents, source, reason, candidates, citations, model_versions,
        latency_ms; plus `turn_id` and `time` to use a pre-generated id and timestamp.

        Convention: put intent/confidence/top_intents on the customer turn (what the message
        means) and source/reason/candidates/citations on the assistant turn (how it was answered).
        """
        _check_turn(role, text, fields)
        scrub = self._scrubber()
        row = {
            "id": fields.get("turn_id") or new_id(),
            "conversation_id": conversation_id,
            "role": role,
            "text": scrub(text),
            "time": fields.get("time") or utc_now(),
            "intent": fields.get("intent"),
            "confidence": _float(fields.get("confidence")),
            "top_intents": _json_or_none(fields.get("top_intents")),
            "source": fields.get("source"),
            "reason": None if fields.get("reason") is None else scrub(str(fields["reason"])),
            "candidates": _json_or_none(fields.get("candidates"), scrub),
            "citations": _json_or_none(fields.get("citations"), scrub),
            "model_versions": _json_or_none(fields.get("model_versions")),
            "latency_ms": _float(fields.get("latency_ms")),
        }
        row["redactions"] = json.dumps(scrub.found())
        with self._write(
            f"add_turn to conversation {conversation_id!r}",
            " Does the conversation exist? Create it with new_conversation() first.",
        ):
            seq = self.db.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE conversation_id = ?",
                [conversation_id],
            ).fetchone()[0]
            self.db.table("turns").insert({**row, "seq": seq})
        return row["id"]

    def add_feedback(
        self,
        turn_id: str,
        rating: int,
        comment: str = "",
        *,
        feedback_id: str | None = None,
        time: str | None = None,
    ) -> str:
        """Rate a turn +1 (good) or -1 (bad); the latest rating of a turn counts. Returns its id."""
        _check_rating(rating)
        fid = feedback_id or new_id()
        row = {
            "id": fid,
            "turn_id": turn_id,
            "rating": int(rating),
            "comment": self._scrubber()(comment or ""),
            "time": time or utc_now(),
        }
        with self._write(f"add_feedback on turn {turn_id!r}", " Is the turn id right?"):
            self.db.table("feedback").insert(row)
        return fid

    def add_correction(
        self,
        turn_id: str,
        corrected_intent: str | None = None,
        corrected_reply: str | None = None,
        agent: str = "",
        *,
        correction_id: str | None = None,
        time: str | None = None,
    ) -> str:
        """Record an agent's correction of a turn's intent and/or reply. Returns its id.

        Correct the intent on the customer turn (or on the assistant turn answering it) and the
        reply on the assistant turn; the latest correction of each kind wins in the export.
        """
        _check_correction(corrected_intent, corrected_reply)
        scrub = self._scrubber()
        xid = correction_id or new_id()
        row = {
            "id": xid,
            "turn_id": turn_id,
            "corrected_intent": corrected_intent,
            "corrected_reply": scrub(corrected_reply) if corrected_reply is not None else None,
            "agent": agent or "",
            "time": time or utc_now(),
        }
        with self._write(f"add_correction on turn {turn_id!r}", " Is the turn id right?"):
            self.db.table("corrections").insert(row)
        return xid

    def open_ticket(
        self,
        conversation_id: str,
        reason: str,
        *,
        ticket_id: str | None = None,
        time: str | None = None,
    ) -> str:
        """Hand a conversation to a human: open a ticket, set status "human", return the ticket id.

        Ticket ids look like "T-90412" (a uuid hex once five digits get crowded).
        """
        reason = self._scrubber()(reason or "")
        with self._write(
            f"open_ticket for conversation {conversation_id!r}",
            " Does the conversation exist?",
        ):
            tid = ticket_id or _pick_ticket_id(self._ticket_taken)
            self.db.table("tickets").insert(
                {
                    "id": tid,
                    "conversation_id": conversation_id,
                    "reason": reason,
                    "status": "open",
                    "created": time or utc_now(),
                    "closed": None,
                }
            )
            self.db.execute(
                "UPDATE conversations SET status = 'human' WHERE id = ?", [conversation_id]
            )
        return tid

    def _set_status(self, action: str, conversation_id: str, status: str, time: str | None) -> None:
        with self._write(f"{action} for conversation {conversation_id!r}"):
            updated = self.db.execute(
                "UPDATE conversations SET status = ? WHERE id = ?", [status, conversation_id]
            ).rowcount
            if not updated:
                raise LogError(f"{action}: no conversation {conversation_id!r} in {self.name}.")
            self.db.execute(
                "UPDATE tickets SET status = 'closed', closed = ? "
                "WHERE conversation_id = ? AND status = 'open'",
                [time or utc_now(), conversation_id],
            )

    def hand_back(self, conversation_id: str, *, time: str | None = None) -> None:
        """Give the conversation back to the bot: close its open tickets, set status "bot"."""
        self._set_status("hand_back", conversation_id, "bot", time)

    def close_conversation(self, conversation_id: str, *, time: str | None = None) -> None:
        """Finish a conversation: close its open tickets and set status "closed"."""
        self._set_status("close_conversation", conversation_id, "closed", time)

    # -- reads ----------------------------------------------------------------------------------

    def status(self, conversation_id: str) -> str | None:
        """The conversation's status: "bot", "human" (handed off, bot muted) or "closed".

        None when there is no such conversation.
        """
        rows = self._rows("SELECT status FROM conversations WHERE id = ?", (conversation_id,))
        return rows[0]["status"] if rows else None

    def recent_turns(self, conversation_id: str, n: int) -> list[TurnRecord]:
        """The last `n` turns of a conversation, oldest first, with their latest rating."""
        if n <= 0:
            return []
        rows = self._rows(_TURN_RECORD_SQL + " ORDER BY t.seq DESC LIMIT ?", (conversation_id, n))
        return [TurnRecord(**row) for row in reversed(rows)]

    def transcript(self, conversation_id: str) -> list[TurnRecord]:
        """Every turn of a conversation in order, with its latest rating (None when unrated)."""
        rows = self._rows(_TURN_RECORD_SQL + " ORDER BY t.seq", (conversation_id,))
        return [TurnRecord(**row) for row in rows]

    def conversations(self, limit: int = 50) -> list[ConversationSummary]:
        """The `limit` most recently started conversations, newest first."""
        rows = self._rows(
            """
            SELECT c.id, c.started, c.status,
                   (SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id) AS n_turns,
                   (SELECT t.text FROM turns t WHERE t.conversation_id = c.id
                    AND t.role = 'customer' ORDER BY t.seq LIMIT 1) AS preview
            FROM conversations c
            ORDER BY c.started DESC, c.rowid DESC
            LIMIT ?
            """,
            (int(limit),),
        )
        return [
            ConversationSummary(
                id=r["id"],
                started=r["started"],
                n_turns=r["n_turns"],
                preview=r["preview"] or "",
                status=r["status"],
            )
            for r in rows
        ]

    # -- export ---------------------------------------------------------------------------------

    def export_training_data(
        self, out_dir: str | os.PathLike[str], *, min_confidence: float = EXPORT_MIN_CONFIDENCE
    ) -> dict[str, int]:
        """Write `dialogues.jsonl` and `intents.csv` to `out_dir`; return what was written.

        Each conversation with a customer turn becomes one line
        `{"id": ..., "turns": [{"role": "customer"|"agent", "text": ..., "intent"?: ...}]}`:

        - assistant and agent turns both become role "agent"; assistant turns with source
          "muted" (never shown to the customer) are left out;
        - a reply with a `corrected_reply` is replaced by it; otherwise a reply rated bad is
          dropped;
        - a customer turn's intent is the agent's corrected intent (on the customer turn, else
          on the reply right after it) if any, else the predicted intent (of the customer turn,
          else of that reply) when its confidence is >= `min_confidence` and the reply was not
          rated bad; otherwise the turn has no "intent".

        `intents.csv` has a `text,label` header and one row per distinct labelled customer text.
        Both files are replaced atomically. Example: a conversation "where is NH-48213?"
        (order_status, 0.97) -> "It shipped." (unrated) exports as
        `{"id": "...", "turns": [{"role": "customer", "text": "where is NH-48213?",
        "intent": "order_status"}, {"role": "agent", "text": "It shipped."}]}`.
        """
        if not 0.0 <= min_confidence <= 1.0:
            raise ConfigError(f"min_confidence={min_confidence!r}: use a probability in [0, 1].")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        counts = dict.fromkeys(
            (
                "dialogues",
                "turns",
                "labelled_turns",
                "intent_rows",
                "dropped_replies",
                "corrected_replies",
                "muted_replies",
            ),
            0,
        )
        pairs: dict[tuple[str, str], None] = {}  # (text, label), deduplicated in order
        tmp = {name: out / f"{name}.tmp" for name in ("dialogues.jsonl", "intents.csv")}
        try:
            with tmp["dialogues.jsonl"].open("w", encoding="utf-8") as fh:
                for dialogue in self._dialogues(min_confidence, counts):
                    for t in dialogue["turns"]:
                        if "intent" in t:
                            pairs[(t["text"], t["intent"])] = None
                    fh.write(json.dumps(dialogue, ensure_ascii=False) + "\n")
            with tmp["intents.csv"].open("w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(["text", "label"])
                writer.writerows(pairs)
            for name, path in tmp.items():
                os.replace(path, out / name)
        finally:
            for path in tmp.values():
                path.unlink(missing_ok=True)
        counts["intent_rows"] = len(pairs)
        return counts

    def _dialogues(self, min_confidence: float, counts: dict[str, int]) -> Iterator[dict]:
        """Every conversation with a customer turn in dialogue format, from one read snapshot."""
        with self._lock:
            conn = self.db.conn
            try:
                conn.execute("BEGIN")
                try:
                    cursor = conn.execute(_EXPORT_SQL)
                    names = [d[0] for d in cursor.description]
                    rows = (dict(zip(names, r, strict=True)) for r in cursor)
                    for cid, group in groupby(rows, key=lambda r: r["conversation_id"]):
                        turns = _export_turns(list(group), min_confidence, counts)
                        if any(t["role"] == "customer" for t in turns):
                            counts["dialogues"] += 1
                            counts["turns"] += len(turns)
                            yield {"id": cid, "turns": turns}
                finally:
                    if conn.in_transaction:
                        conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise LogError(f"Exporting {self.name} failed: {exc}.") from exc

    # -- lifetime -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (SQLite checkpoints the WAL into the main file). Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            conn = self.db.conn
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()

    def __enter__(self) -> ConversationLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ConversationLog({self.name!r})"


def _export_turns(rows: list[dict], min_confidence: float, counts: dict[str, int]) -> list[dict]:
    """One conversation's stored turns (in order) as dialogue-format turns."""
    turns: list[dict] = []
    for i, row in enumerate(rows):
        if row["role"] == "customer":
            nxt = rows[i + 1] if i + 1 < len(rows) else None
            reply = nxt if nxt is not None and nxt["role"] != "customer" else None
            label = row["corrected_intent"] or (reply and reply["corrected_intent"])
            if not label:
                intent, confidence = row["intent"], row["confidence"]
                if intent is None and reply is not None and reply["role"] == "assistant":
                    intent, confidence = reply["intent"], reply["confidence"]
                rated_bad = reply is not None and reply["rating"] == -1
                if intent and confidence is not None and confidence >= min_confidence:
                    label = None if rated_bad else intent
            turn = {"role": "customer", "text": row["text"]}
            if label:
                turn["intent"] = label
                counts["labelled_turns"] += 1
            turns.append(turn)
            continue
        if row["role"] == "assistant" and row["source"] == "muted":
            counts["muted_replies"] += 1
            continue
        text = row["text"]
        if row["corrected_reply"] is not None:
            text = row["corrected_reply"]
            counts["corrected_replies"] += 1
        elif row["rating"] == -1:
            counts["dropped_replies"] += 1
            continue
        turns.append({"role": "agent", "text": text})
    return turns


# ---------------------------------------------------------------------------------------------
# Background writer
# ---------------------------------------------------------------------------------------------

# The ConversationLog methods LogWriter may call; each is one transaction.
WRITE_METHODS = (
    "new_conversation",
    "add_turn",
    "add_feedback",
    "add_correction",
    "open_ticket",
    "hand_back",
    "close_conversation",
)
_STOP = object()


@dataclass
class FailedWrite:
    """A write the background thread could not make; kept so nothing is silently lost."""

    method: str  # ConversationLog method name
    args: tuple  # its positional arguments (may hold unredacted text: never print them)
    kwargs: dict  # its keyword arguments
    error: BaseException  # what went wrong

    def __repr__(self) -> str:  # without the arguments, which may hold customer data
        return f"FailedWrite({self.method}, {self.error!r})"


def _is_busy(exc: BaseException) -> bool:
    cause = exc.__cause__ if isinstance(exc, LogError) else exc
    return isinstance(cause, sqlite3.OperationalError) and (
        "locked" in str(cause) or "busy" in str(cause)
    )


class LogWriter:
    """Writes to a ConversationLog from a background thread, so callers never wait on disk.

        writer = LogWriter(log)
        cid = writer.new_conversation()
        tid = writer.add_turn(cid, "customer", "hello")   # returns at once with the id
        ...
        writer.flush(timeout=5)       # wait for pending writes, re-raise a failed one
        writer.close()                # write everything queued, then stop

    Write methods mirror ConversationLog's, generate ids and timestamps in the caller's thread
    and return them immediately; arguments are validated at the call site. Writes happen in
    submission order. A write that fails (after retrying a locked database) is kept in
    `failed` and re-raised as LogError by the next `flush()` or `close()`. `close()` (also run
    at interpreter exit) writes everything queued before it returns.

    Reads go to `writer.log` directly; they see a write once it is done (`flush()` to be sure).
    `status()` is the exception: it answers from the writes still queued first. For a file log
    the thread uses its own connection, so readers never wait on the writer (WAL). Do not mutate
    objects (metadata, candidates) after passing them in: they are serialised in the thread.
    """

    def __init__(self, log: ConversationLog, *, retries: int = 2) -> None:
        """Start the writer thread for `log` (which stays open and owned by the caller)."""
        self.log = log
        self.retries = retries  # extra attempts when the database stays locked past the timeout
        if log.path is None:
            self._target = log  # ":memory:" cannot be opened twice; share it under its lock
        else:
            self._target = ConversationLog(log.path, log.redaction, synchronous=log.synchronous)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._pending = 0
        self._submitted = 0
        self._failed: list[FailedWrite] = []
        self._reported = 0
        self._status: dict[str, tuple[str, int]] = {}  # conversation id -> (status, job number)
        self._reserved_tickets: set[str] = set()
        self._closed = False  # no more submissions
        self._released = False  # thread stopped, own connection closed
        self._thread = threading.Thread(
            target=self._run, name="conversation-log-writer", daemon=True
        )
        self._thread.start()
        atexit.register(self._close_at_exit)

    # -- queue ----------------------------------------------------------------------------------

    def submit(self, fn_name: str, *args: Any, **kwargs: Any) -> None:
        """Queue `log.<fn_name>(*args, **kwargs)` for one of `WRITE_METHODS`.

        Prefer the explicit methods: they return pre-generated ids, stamp the time at the call
        and keep `status()` current while the write is queued.
        """
        if fn_name not in WRITE_METHODS:
            raise LogError(
                f"LogWriter.submit: {fn_name!r} is not one of {', '.join(WRITE_METHODS)}."
            )
        self._enqueue(fn_name, args, kwargs)

    def _enqueue(
        self, fn_name: str, args: tuple, kwargs: dict, status: tuple[str, str] | None = None
    ) -> None:
        with self._cond:
            if self._closed:
                raise LogError(f"LogWriter for {self.log.name} is closed; {fn_name} not written.")
            self._submitted += 1
            self._pending += 1
            if status is not None:
                self._status[status[0]] = (status[1], self._submitted)
            self._queue.put((self._submitted, fn_name, args, kwargs))

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is _STOP:
                return
            number, fn_name, args, kwargs = job
            error: BaseException | None = None
            for attempt in range(self.retries + 1):
                try:
                    getattr(self._target, fn_name)(*args, **kwargs)
                    error = None
                    break
                except Exception as exc:  # kept and re-raised on flush/close
                    error = exc
                    if not _is_busy(exc) or attempt == self.retries:
                        break
                    sleep(0.05 * 2**attempt)
            with self._cond:
                if error is not None:
                    self._failed.append(FailedWrite(fn_name, args, kwargs, error))
                for cid, (_, n) in list(self._status.items()):
                    if n == number:
                        del self._status[cid]
                self._pending -= 1
                self._cond.notify_all()

    def _raise_failures(self) -> None:
        """Raise LogError for failures not yet reported (call with self._cond held)."""
        new = self._failed[self._reported :]
        if not new:
            return
        self._reported = len(self._failed)
        first = new[0]
        raise LogError(
            f"{len(new)} conversation-log write(s) to {self.log.name} failed; first: "
            f"{first.method}: {first.error}. They are kept in LogWriter.failed for a retry."
        ) from first.error

    @property
    def failed(self) -> list[FailedWrite]:
        """Every write that failed so far (oldest first)."""
        with self._cond:
            return list(self._failed)

    @property
    def pending(self) -> int:
        """How many submitted writes are not written yet."""
        with self._cond:
            return self._pending

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every submitted write is done; re-raise failures as LogError.

        Raises LogError if writes are still pending after `timeout` seconds (they keep going).
        """
        deadline = None if timeout is None else monotonic() + timeout
        with self._cond:
            while self._pending:
                remaining = None if deadline is None else deadline - monotonic()
                if remaining is not None and remaining <= 0:
                    raise LogError(
                        f"{self._pending} conversation-log write(s) still pending after "
                        f"{timeout} s; they are still being written. Call flush() again."
                    )
                self._cond.wait(remaining)
            self._raise_failures()

    def close(self, timeout: float | None = None) -> None:
        """Write everything queued, stop the thread, re-raise failures. Idempotent.

        The wrapped log stays open (its owner closes it).
        """
        with self._cond:
            if not self._closed:
                self._closed = True
                self._queue.put(_STOP)  # after every accepted job: submissions hold this lock
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise LogError(
                f"{self.pending} conversation-log write(s) still pending after {timeout} s; "
                "the writer keeps going. Call close() again to wait for it."
            )
        if not self._released:
            self._released = True
            atexit.unregister(self._close_at_exit)
            if self._target is not self.log:
                self._target.close()
        with self._cond:
            self._raise_failures()

    def _close_at_exit(self) -> None:
        try:
            self.close()
        except LogError as exc:
            print(f"assistant: {exc}", file=sys.stderr)

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writes (mirror ConversationLog) --------------------------------------------------------

    def new_conversation(
        self,
        channel: str = "chat",
        metadata: Mapping[str, Any] | None = None,
        *,
        conversation_id: str | None = None,
    ) -> str:
        """Queue `ConversationLog.new_conversation`; return the conversation id now.

        `conversation_id` uses an id chosen by the caller (e.g. `assistant ask --conversation`).
        """
        cid = conversation_id or new_id()
        self._enqueue(
            "new_conversation",
            (channel, metadata),
            {"conversation_id": cid, "started": utc_now()},
            status=(cid, "bot"),
        )
        return cid

    def add_turn(self, conversation_id: str, role: str, text: str, **fields: Any) -> str:
        """Queue `ConversationLog.add_turn`; return the turn id now."""
        _check_turn(role, text, fields)
        turn_id = fields.get("turn_id") or new_id()
        kwargs = {**fields, "turn_id": turn_id, "time": fields.get("time") or utc_now()}
        self._enqueue("add_turn", (conversation_id, role, text), kwargs)
        return turn_id

    def add_feedback(self, turn_id: str, rating: int, comment: str = "") -> str:
        """Queue `ConversationLog.add_feedback`; return the feedback id now."""
        _check_rating(rating)
        fid = new_id()
        self._enqueue(
            "add_feedback", (turn_id, rating, comment), {"feedback_id": fid, "time": utc_now()}
        )
        return fid

    def add_correction(
        self,
        turn_id: str,
        corrected_intent: str | None = None,
        corrected_reply: str | None = None,
        agent: str = "",
    ) -> str:
        """Queue `ConversationLog.add_correction`; return the correction id now."""
        _check_correction(corrected_intent, corrected_reply)
        xid = new_id()
        self._enqueue(
            "add_correction",
            (turn_id, corrected_intent, corrected_reply, agent),
            {"correction_id": xid, "time": utc_now()},
        )
        return xid

    def open_ticket(self, conversation_id: str, reason: str) -> str:
        """Queue `ConversationLog.open_ticket`; return the ticket id now."""
        while True:  # the database lookup runs outside self._cond, the reservation inside
            tid = _pick_ticket_id(
                lambda t: t in self._reserved_tickets or self.log._ticket_taken(t)
            )
            with self._cond:
                if tid not in self._reserved_tickets:
                    self._reserved_tickets.add(tid)
                    break
        self._enqueue(
            "open_ticket",
            (conversation_id, reason),
            {"ticket_id": tid, "time": utc_now()},
            status=(conversation_id, "human"),
        )
        return tid

    def hand_back(self, conversation_id: str) -> None:
        """Queue `ConversationLog.hand_back`."""
        self._enqueue(
            "hand_back", (conversation_id,), {"time": utc_now()}, status=(conversation_id, "bot")
        )

    def close_conversation(self, conversation_id: str) -> None:
        """Queue `ConversationLog.close_conversation`."""
        self._enqueue(
            "close_conversation",
            (conversation_id,),
            {"time": utc_now()},
            status=(conversation_id, "closed"),
        )

    def status(self, conversation_id: str) -> str | None:
        """The conversation's status counting writes still queued; None if there is none."""
        with self._cond:
            queued = self._status.get(conversation_id)
        return queued[0] if queued else self.log.status(conversation_id)


__all__ = [
    "ROLES",
    "STATUSES",
    "TURN_FIELDS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "WRITE_METHODS",
    "ConversationLog",
    "FailedWrite",
    "LogWriter",
    "new_id",
    "utc_now",
]
