"""`ConversationLog`: reads and writes of the conversation log, one SQLite file.

    log = ConversationLog("conversations.db")            # migrates the schema on open
    cid = log.new_conversation(channel="chat")
    tid = log.add_turn(cid, "customer", "my email is jo@example.com")  # stored as "[EMAIL]"
    log.add_feedback(tid, -1)
    log.state(cid).history                                # [("customer", "my email is [EMAIL]")]

Every write is one transaction; free text goes through `assistant.log.columns.Scrubber` on its
way to disk, redacted exactly once. Every method is thread-safe (one lock per connection).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from assistant.errors import ConfigError, LogError
from assistant.log import schema
from assistant.log.columns import Redacted, Scrubber, finite, redact_once, to_json
from assistant.log.ids import new_id, pick_ticket_id, utc_now
from assistant.log.state import HISTORY_TURNS, ConversationState
from assistant.redact import RedactionConfig, check_conversation_id
from assistant.reply import ConversationSummary, ConversationView, Reply, TurnRecord

BUSY_TIMEOUT_MS = 5000  # how long a write waits for another connection's lock
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")

# The ConversationLog methods that write; each is one transaction. LogWriter runs only these.
WRITE_METHODS = (
    "new_conversation",
    "add_turn",
    "add_exchange",
    "add_feedback",
    "add_correction",
    "open_ticket",
    "hand_back",
    "close_conversation",
)

_TURN_RECORD_SQL = """
SELECT t.id, t.role, t.text, t.time, t.source, t.intent, t.confidence,
       (SELECT f.rating FROM feedback f WHERE f.turn_id = t.id
        ORDER BY f.time DESC, f.rowid DESC LIMIT 1) AS rating,
       t.seq
FROM turns t
WHERE t.conversation_id = ?
"""


def _check_turn(role: str, text: object) -> None:
    if role not in schema.ROLES:
        raise LogError(f"add_turn: role={role!r} is not one of {', '.join(schema.ROLES)}.")
    if not isinstance(text, str):
        raise LogError(f"add_turn: text must be a str, got {type(text).__name__}.")


class ConversationLog:
    """The conversation log in one SQLite file (or ":memory:"), opened with sqlite-utils.

    Opening sets WAL mode (file databases), `foreign_keys=ON`, a 5 s busy timeout and the
    `synchronous` level, then applies any pending schema migrations in one transaction. A file
    written by a newer version of the assistant raises `LogError` instead of being touched.

    Write methods accept pre-generated ids and timestamps as keyword arguments (that is how a
    caller of `LogWriter` knows an id before the write happens); leave them out and the log makes
    its own.
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
            schema.migrate(self.db, self.name)
        except LogError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise LogError(
                f"{self.name} is not a usable conversation log: {exc}. "
                "Point the assistant at another file or move this one away."
            ) from exc

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

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        with self._lock:
            return schema.schema_version(self.db.conn)

    @property
    def total_changes(self) -> int:
        """Rows changed through this connection since it opened (watches a ":memory:" log)."""
        with self._lock:
            try:
                return self.db.conn.total_changes
            except sqlite3.Error as exc:
                raise LogError(f"Reading {self.name} failed: {exc}.") from exc

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

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A consistent read over several statements: `with log.snapshot() as conn: ...`.

        Holds the log's lock and one read transaction (WAL readers never wait for writers); use
        the connection for SELECTs only. sqlite errors become LogError.
        """
        with self._lock:
            conn = self.db.conn
            try:
                # Inside a write or another snapshot of this thread: already one consistent view.
                nested = conn.in_transaction
                if not nested:
                    conn.execute("BEGIN")
                try:
                    yield conn
                finally:
                    if not nested and conn.in_transaction:
                        conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise LogError(f"Reading {self.name} failed: {exc}.") from exc

    def _rows(self, sql: str, params: tuple | list = ()) -> list[dict]:
        with self.snapshot():
            return list(self.db.query(sql, params))

    def redact(self, text: str) -> Redacted:
        """`text` redacted with this log's configuration, as it will be stored.

        Write the result as it is: the log does not redact it a second time.
        """
        return redact_once(text, self.redaction)

    def new_ticket_id(self) -> str:
        """A free ticket id like "T-90412" (a uuid hex once five digits get crowded)."""
        return pick_ticket_id(
            lambda tid: bool(self._rows("SELECT 1 FROM tickets WHERE id = ?", (tid,)))
        )

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

        `metadata` is stored as JSON with its strings redacted; `conversation_id` uses an id
        chosen by the caller (e.g. `assistant ask --conversation`). A caller's id holding
        personal data is refused (ids are stored in clear): `check_conversation_id`.
        """
        cid = (
            check_conversation_id(conversation_id, self.redaction) if conversation_id else new_id()
        )
        row = {
            "id": cid,
            "started": started or utc_now(),
            "channel": channel,
            "status": "bot",
            "metadata": to_json(dict(metadata or {}), Scrubber(self.redaction)),
        }
        with self._write(f"new_conversation {cid!r}"):
            self.db.table("conversations").insert(row)
        return cid

    def _turn_row(
        self,
        conversation_id: str,
        role: str,
        text: str,
        *,
        turn_id: str | None = None,
        time: str | None = None,
        intent: str | None = None,
        confidence: float | None = None,
        top_intents: Any = None,
        source: str | None = None,
        reason: str | None = None,
        candidates: Any = None,
        citations: Any = None,
        model_versions: Mapping[str, str] | None = None,
        latency_ms: float | None = None,
    ) -> dict:
        """One turns row: validated, free text redacted once, structures as JSON."""
        _check_turn(role, text)
        scrub = Scrubber(self.redaction)
        row = {
            "id": turn_id or new_id(),
            "conversation_id": conversation_id,
            "role": role,
            "text": scrub(text),
            "time": time or utc_now(),
            "intent": intent,
            "confidence": finite(confidence),
            "top_intents": to_json(top_intents),
            "source": source,
            "reason": None if reason is None else scrub(str(reason)),
            "candidates": to_json(candidates, scrub),
            "citations": to_json(citations, scrub),
            "model_versions": to_json(model_versions),
            "latency_ms": finite(latency_ms),
        }
        row["redactions"] = json.dumps(scrub.found())
        return row

    def _insert_turn(self, row: dict) -> None:
        """Insert a turns row as the conversation's next seq (inside a write transaction)."""
        seq = self.db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE conversation_id = ?",
            [row["conversation_id"]],
        ).fetchone()[0]
        self.db.table("turns").insert({**row, "seq": seq})

    def add_turn(
        self,
        conversation_id: str,
        role: str,
        text: str,
        *,
        turn_id: str | None = None,
        time: str | None = None,
        intent: str | None = None,
        confidence: float | None = None,
        top_intents: Any = None,
        source: str | None = None,
        reason: str | None = None,
        candidates: Any = None,
        citations: Any = None,
        model_versions: Mapping[str, str] | None = None,
        latency_ms: float | None = None,
    ) -> str:
        """Append a turn to a conversation and return its id.

        `role` is "customer", "assistant" or "agent". `text` is redacted before it reaches
        disk (unless it is already `Redacted`), and so are `reason` and the strings inside
        `candidates` and `citations`; the kinds found are stored in `redactions`. The other
        fields are the columns of the same name (see `TURN_FIELDS` and docs/log-schema.md);
        `turn_id` and `time` use a pre-generated id and timestamp.

        Convention: put intent/confidence/top_intents on the customer turn (what the message
        means) and source/reason/candidates/citations on the assistant turn (how it was answered).
        """
        row = self._turn_row(
            conversation_id,
            role,
            text,
            turn_id=turn_id,
            time=time,
            intent=intent,
            confidence=confidence,
            top_intents=top_intents,
            source=source,
            reason=reason,
            candidates=candidates,
            citations=citations,
            model_versions=model_versions,
            latency_ms=latency_ms,
        )
        with self._write(
            f"add_turn to conversation {conversation_id!r}",
            " Does the conversation exist? Create it with new_conversation() first.",
        ):
            self._insert_turn(row)
        return row["id"]

    def add_exchange(
        self,
        conversation_id: str,
        message: str | None,
        reply: Reply,
        *,
        message_id: str | None = None,
        model_versions: Mapping[str, str] | None = None,
        time: str | None = None,
    ) -> str | None:
        """Store one exchange in one transaction: the customer's message, a ticket, the reply.

        The `Reply` is stored as it is; this is the one place its fields meet the columns:

        - the customer turn, unless `message` is None (the customer pressed "talk to a human"):
          `message` with the reply's intent, confidence and top_intents (what it means);
        - a ticket when `reply.ticket_id` is set (its reason is `reply.reason`), which sets the
          conversation's status to "human";
        - the assistant turn when `reply.turn_id` is set (a muted reply has none): `reply.reply`
          with its source, reason, candidates, citations and latency, and `model_versions`.

        Returns the customer turn's id (None without a message).
        """
        time = time or utc_now()
        customer = None
        if message is not None:
            customer = self._turn_row(
                conversation_id,
                "customer",
                message,
                turn_id=message_id,
                time=time,
                intent=reply.intent,
                confidence=reply.confidence if reply.intent is not None else None,
                top_intents=reply.top_intents or None,
            )
        answer = None
        if reply.turn_id:
            answer = self._turn_row(
                conversation_id,
                "assistant",
                reply.reply,
                turn_id=reply.turn_id,
                time=time,
                source=reply.source,
                reason=reply.reason,
                candidates=reply.candidates,
                citations=reply.citations,
                model_versions=model_versions,
                latency_ms=reply.latency_ms,
            )
        ticket_reason = Scrubber(self.redaction)(reply.reason) if reply.ticket_id else ""
        with self._write(
            f"add_exchange to conversation {conversation_id!r}",
            " Does the conversation exist? Is the ticket id new?",
        ):
            if customer is not None:
                self._insert_turn(customer)
            if reply.ticket_id:
                self._insert_ticket(conversation_id, reply.ticket_id, ticket_reason, time)
            if answer is not None:
                self._insert_turn(answer)
        return None if customer is None else customer["id"]

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
        if isinstance(rating, bool) or rating not in (1, -1):
            raise LogError(f"add_feedback: rating={rating!r}; use 1 (good) or -1 (bad).")
        fid = feedback_id or new_id()
        row = {
            "id": fid,
            "turn_id": turn_id,
            "rating": int(rating),
            "comment": Scrubber(self.redaction)(comment or ""),
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
        if corrected_intent is None and corrected_reply is None:
            raise LogError("add_correction: give corrected_intent, corrected_reply or both.")
        xid = correction_id or new_id()
        row = {
            "id": xid,
            "turn_id": turn_id,
            "corrected_intent": corrected_intent,
            "corrected_reply": (
                None if corrected_reply is None else Scrubber(self.redaction)(corrected_reply)
            ),
            "agent": agent or "",
            "time": time or utc_now(),
        }
        with self._write(f"add_correction on turn {turn_id!r}", " Is the turn id right?"):
            self.db.table("corrections").insert(row)
        return xid

    def _insert_ticket(self, conversation_id: str, ticket_id: str, reason: str, time: str) -> None:
        """Insert an open ticket and set the conversation's status to "human" (in a transaction)."""
        self.db.table("tickets").insert(
            {
                "id": ticket_id,
                "conversation_id": conversation_id,
                "reason": reason,
                "status": "open",
                "created": time,
                "closed": None,
            }
        )
        self.db.execute("UPDATE conversations SET status = 'human' WHERE id = ?", [conversation_id])

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
        reason = Scrubber(self.redaction)(reason or "")
        with self._write(
            f"open_ticket for conversation {conversation_id!r}",
            " Does the conversation exist?",
        ):
            tid = ticket_id or self.new_ticket_id()
            self._insert_ticket(conversation_id, tid, reason, time or utc_now())
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

    def transcript(self, conversation_id: str, after_seq: int = 0) -> list[TurnRecord]:
        """The turns of a conversation in order (those after `after_seq`), with latest ratings."""
        rows = self._rows(
            _TURN_RECORD_SQL + " AND t.seq > ? ORDER BY t.seq", (conversation_id, after_seq)
        )
        return [TurnRecord(**row) for row in rows]

    def state(self, conversation_id: str) -> ConversationState:
        """Status, history and low-confidence streak of a conversation, from one read.

        The one way every reader derives a conversation's state (see `assistant.log.state`).
        """
        with self.snapshot():
            return ConversationState.from_rows(
                self.status(conversation_id), self.recent_turns(conversation_id, HISTORY_TURNS)
            )

    def view(self, conversation_id: str, after_seq: int = 0) -> ConversationView:
        """The conversation's status and its turns after `after_seq`, from one read."""
        with self.snapshot():
            return ConversationView(
                conversation_id,
                self.status(conversation_id),
                self.transcript(conversation_id, after_seq),
            )

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
