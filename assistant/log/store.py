"""`ConversationLog`: reads and writes of the conversation log, one SQLite file.

    log = ConversationLog("conversations.db")            # migrates the schema on open
    cid = log.new_conversation(channel="chat")
    tid = log.add_turn(cid, "customer", "my email is jo@example.com")  # stored as "[EMAIL]"
    log.add_feedback(tid, -1)
    log.state(cid).history                                # [("customer", "my email is [EMAIL]")]

Every write is one transaction; free text goes through `assistant.log.columns.Scrubber` on its
way to disk, redacted exactly once. Every method is thread-safe (one lock per connection).

An exchange (a customer message, the ticket a handoff opens, the reply) is prepared first
(`prepare_exchange`: rows redacted, ids and times chosen) and then written in one transaction
(`write_exchange`, which skips an exchange already stored): what `assistant.log.spool` keeps
when the log cannot be written is exactly what would have reached the database.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from assistant.errors import ClaimError, ConfigError, LogError, TicketError
from assistant.log import integrity, schema
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
    "write_exchange",
    "add_feedback",
    "add_correction",
    "add_corrections",
    "open_ticket",
    "hand_back",
    "close_conversation",
    "claim_ticket",
    "release_ticket",
    "add_agent_reply",
    "resolve_ticket",
    "set_ticket_priority",
    "add_note",
)

AGENT_NAME_CHARS = 64  # the longest agent name stored

_TURN_RECORD_SQL = """
SELECT t.id, t.role, t.text, t.time, t.source, t.intent, t.confidence,
       (SELECT f.rating FROM feedback f WHERE f.turn_id = t.id
        ORDER BY f.time DESC, f.rowid DESC LIMIT 1) AS rating,
       t.seq, t.agent
FROM turns t
WHERE t.conversation_id = ?
"""


# The keys of each kind of row an `Exchange` holds (checked when one is read back from a spool).
_CONVERSATION_KEYS = frozenset({"id", "started", "channel", "status", "metadata", "customer"})
_TURN_KEYS = frozenset(
    {"id", "conversation_id", "role", "text", "time", "redactions", *schema.TURN_FIELDS}
)
_TICKET_KEYS = frozenset({"id", "conversation_id", "reason", "status", "created", "closed"})


@dataclass
class Exchange:
    """One exchange as rows ready for the log: redacted, with every id and time chosen.

    `ConversationLog.prepare_exchange` makes one, `ConversationLog.write_exchange` writes it in
    one transaction; `to_dict`/`from_dict` turn it into JSON-ready data and back (the spool).
    """

    conversation: dict | None  # a conversations row to insert if the id is new, or None
    customer: dict | None  # the customer's turn (no seq: given when written), or None
    ticket: dict | None  # the ticket a handoff opens, or None
    answer: dict | None  # the assistant's turn, or None (a muted reply is not stored)

    @property
    def conversation_id(self) -> str:
        """The conversation the exchange belongs to."""
        for row in (self.customer, self.answer, self.ticket, self.conversation):
            if row is not None:
                return row["conversation_id"] if row is not self.conversation else row["id"]
        raise LogError("An empty exchange belongs to no conversation.")

    @property
    def turn_ids(self) -> list[str]:
        """The ids of its turns (how a written exchange is recognised)."""
        return [row["id"] for row in (self.customer, self.answer) if row is not None]

    def to_dict(self) -> dict:
        """JSON-ready data: `Exchange.from_dict(json.loads(json.dumps(e.to_dict()))) == e`."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Exchange:
        """The exchange `to_dict` gave; raises LogError when a row has keys it should not."""
        if not isinstance(data, Mapping) or set(data) != {
            "conversation",
            "customer",
            "ticket",
            "answer",
        }:
            raise LogError("not an exchange: expected conversation, customer, ticket, answer.")
        expected = {
            "conversation": _CONVERSATION_KEYS,
            "customer": _TURN_KEYS,
            "ticket": _TICKET_KEYS,
            "answer": _TURN_KEYS,
        }
        for name, keys in expected.items():
            row = data[name]
            if row is not None and (not isinstance(row, Mapping) or not set(row) <= keys):
                raise LogError(f"not an exchange: its {name} row has unexpected fields.")
        exchange = cls(**{name: None if data[name] is None else dict(data[name]) for name in data})
        if not exchange.turn_ids and exchange.ticket is None:
            raise LogError("not an exchange: it holds no turn and no ticket.")
        return exchange


def _check_turn(role: str, text: object) -> None:
    if role not in schema.ROLES:
        raise LogError(f"add_turn: role={role!r} is not one of {', '.join(schema.ROLES)}.")
    if not isinstance(text, str):
        raise LogError(f"add_turn: text must be a str, got {type(text).__name__}.")


def check_agent(agent: object) -> str:
    """An agent's name as stored: one line of visible text, at most `AGENT_NAME_CHARS`.

    Raises TicketError naming the value otherwise (names are shown to customers and agents).

    >>> check_agent("  ana ")
    'ana'
    """
    if not isinstance(agent, str) or not agent.strip():
        raise TicketError(
            f"agent={agent!r}: give the agent's name (--agent NAME, or set $ASSISTANT_AGENT)."
        )
    name = agent.strip()
    if len(name) > AGENT_NAME_CHARS or any(ch < " " or ch == "\x7f" for ch in name):
        raise TicketError(
            f"agent={name[:AGENT_NAME_CHARS]!r}: an agent's name is one line of at most "
            f"{AGENT_NAME_CHARS} characters without control characters."
        )
    return name


def _customer(customer: str | None, config: RedactionConfig) -> str | None:
    """A customer id as stored (in clear, like a conversation id: so the same checks)."""
    return None if customer is None else check_conversation_id(customer, config)


class _Damaged(Exception):
    """Raised inside `ConversationLog._open` when the file is damaged."""

    def __init__(self, problem: str, inode: int | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.inode = inode  # the file found damaged (not one another process made since)


def is_busy(exc: BaseException) -> bool:
    """True when `exc` (a LogError from a write, or an sqlite3 error) means another connection
    held the write lock for longer than the busy timeout: trying again may work."""
    cause = exc.__cause__ if isinstance(exc, LogError) else exc
    return isinstance(cause, sqlite3.OperationalError) and (
        "locked" in str(cause) or "busy" in str(cause)
    )


def _hint(exc: sqlite3.Error, integrity_hint: str) -> str:
    """What to do about a failed write, from the kind of sqlite error."""
    if isinstance(exc, sqlite3.IntegrityError):
        return integrity_hint
    text = str(exc).lower()
    if integrity.is_damage(exc):
        return (
            " The log file is damaged: start the assistant again to set it aside and begin a "
            "fresh log."
        )
    if "locked" in text or "busy" in text:
        return " Another program holds the log's write lock; close it or try again."
    if "readonly" in text or "read-only" in text:
        return " The file (or its folder) is read-only: make it writable or pass another --db."
    if "full" in text:
        return " The disk is full: free some space."
    return ""


class ConversationLog:
    """The conversation log in one SQLite file (or ":memory:"), opened with sqlite-utils.

    Opening checks a file for damage (`assistant.log.integrity`: header, size and SQLite's
    `quick_check` within a time budget); a damaged log is renamed with a timestamp (with its
    `-wal` and `-shm` files) and a fresh one is started in its place, and `notices` says where
    the old one went. Then it sets WAL mode (file databases), `foreign_keys=ON`, a 5 s busy
    timeout and the `synchronous` level, and applies any pending schema migrations in one
    transaction. A file written by a newer version of the assistant raises `LogError` instead of
    being touched; so does a file that is not SQLite at all (it is not ours to move).

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
        check: bool = True,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    ) -> None:
        """Open (creating and migrating if needed) the log at `path`.

        `redaction` chooses what is redacted before text reaches disk (default: emails, phone
        numbers and card numbers). `synchronous` is SQLite's durability level: "FULL" (default)
        survives power loss; "NORMAL" is faster and survives application crashes only.
        `check=False` skips the damage check (a second connection to a file just checked).
        `busy_timeout_ms` is how long one write waits for another connection's lock.
        """
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ConfigError(
                f"synchronous={synchronous!r}: use one of {', '.join(SYNCHRONOUS_MODES)}."
            )
        self.redaction = redaction or RedactionConfig()
        self.synchronous = synchronous.upper()
        self.path: Path | None = None if os.fspath(path) == ":memory:" else Path(path)
        self.name = str(self.path) if self.path else ":memory:"
        self.busy_timeout_ms = int(busy_timeout_ms)
        # What the user must be told about opening (a damaged file set aside); no customer text.
        self.notices: list[str] = []
        self.set_aside: Path | None = None  # where a damaged log was moved, if one was
        self._lock = threading.RLock()
        self._closed = False
        try:
            self._open(check and self.path is not None)
        except _Damaged as damaged:
            self._set_aside(damaged)
            self._open(check=False)

    def _open(self, check: bool) -> None:
        """Check the file for damage (raising _Damaged), then connect, configure and migrate."""
        inode = None
        if check and self.path is not None and self.path.is_file():
            try:
                inode = self.path.stat().st_ino
                if integrity.looks_like_sqlite(self.path):
                    problem = integrity.header_problem(self.path) or self._quick_check()
                    if problem:
                        raise _Damaged(problem, inode)
                else:
                    check = False  # not SQLite at all: SQLite's own error below names the file
            except FileNotFoundError:
                # another process set a damaged file aside while this one read it: the file
                # opened below is the fresh one (or none yet), nothing left to check
                inode, check = None, False
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            # check_same_thread=False: LogWriter writes from its own thread; self._lock
            # serialises every use of the connection.
            conn = sqlite3.connect(
                self.name, timeout=self.busy_timeout_ms / 1000, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise LogError(
                f"Cannot open the conversation log {self.name}: {exc}.{self._open_hint()}"
            ) from exc
        try:
            self.db = sqlite_utils.Database(conn, execute_plugins=False)
            self._configure()
            schema.migrate(self.db, self.name)
        except LogError as exc:
            conn.close()
            if check and integrity.is_damage(exc.__cause__):
                raise _Damaged(str(exc.__cause__), inode) from exc
            raise
        except sqlite3.Error as exc:
            conn.close()
            if check and integrity.is_damage(exc):
                raise _Damaged(str(exc), inode) from exc
            hint = self._open_hint() or (
                " Point the assistant at another file or move this one away."
            )
            raise LogError(f"{self.name} is not a usable conversation log: {exc}.{hint}") from exc

    def _open_hint(self) -> str:
        """Why a file may not open: a full disk or a read-only folder ("" when neither)."""
        if self.path is None:
            return ""
        folder = self.path.parent if self.path.parent.exists() else Path(".")
        try:
            if os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize < 64 * 1024:
                return " The disk holding it is full: free some space."
        except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
            pass
        if not os.access(folder, os.W_OK) or (
            self.path.exists() and not os.access(self.path, os.W_OK)
        ):
            return " The file or its folder is read-only: make it writable or pass another --db."
        return " Check that the folder exists and is writable."

    def _quick_check(self) -> str | None:
        """`integrity.quick_check` on a read-only connection: nothing is written to a file
        that may be damaged (a read-write connection would checkpoint its WAL on close).

        An error that is not damage (a file another connection is creating right now, with a
        journal only a writer may roll back) skips the check: the read-write connection that
        opens next deals with it, and SQLite refuses damaged pages when they are read.
        """
        assert self.path is not None
        conn = None
        try:
            conn = sqlite3.connect(
                self.path.resolve().as_uri() + "?mode=ro",
                uri=True,
                timeout=self.busy_timeout_ms / 1000,
            )
            return integrity.quick_check(conn)
        except sqlite3.Error as exc:
            return str(exc) if integrity.is_damage(exc) else None
        finally:
            if conn is not None:
                conn.close()

    def _set_aside(self, damaged: _Damaged) -> None:
        """Move a damaged log away (unless another process just did) and say where."""
        assert self.path is not None
        try:
            current = self.path.stat().st_ino if self.path.exists() else None
            if current is not None and current == damaged.inode:
                self.set_aside = integrity.set_aside(self.path)
        except FileNotFoundError:
            pass  # another process moved it between the stat and the rename
        except OSError as exc:
            raise LogError(
                f"The conversation log {self.name} is damaged ({damaged.problem}) and could "
                f"not be moved aside: {exc}. Move it away by hand (with its -wal and -shm "
                "files) to start a fresh log."
            ) from exc
        where = (
            f"It was moved to {self.set_aside} (with its -wal and -shm files)"
            if self.set_aside
            else "Another process moved it aside at the same moment"
        )
        self.notices.append(
            f"The conversation log {self.name} was damaged ({damaged.problem}). {where}, and a "
            "fresh log was started. Recover what is readable with: sqlite3 "
            f"{self.set_aside or 'OLD-FILE'} .recover | sqlite3 recovered.db"
        )

    def _configure(self) -> None:
        conn = self.db.conn
        conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        conn.execute("PRAGMA foreign_keys = ON")
        if self.path is not None:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise LogError(
                    f"{self.name}: SQLite refused WAL mode (journal_mode={mode}); "
                    "keep the log on a local disk, not a network share."
                )
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")

    def set_busy_timeout(self, milliseconds: int) -> None:
        """How long each write waits for another connection's lock from now on."""
        with self._lock:
            self.busy_timeout_ms = int(milliseconds)
            self.db.conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")

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
                raise LogError(f"{action} failed in {self.name}: {exc}.{_hint(exc, hint)}") from exc

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
        exist_ok: bool = False,
        customer: str | None = None,
    ) -> str:
        """Start a conversation with status "bot" and return its id.

        `metadata` is stored as JSON with its strings redacted; `conversation_id` uses an id
        chosen by the caller (e.g. `assistant ask --conversation`). A caller's id holding
        personal data or of the wrong form is refused (ids are stored in clear):
        `check_conversation_id`. With `exist_ok`, an id already in the log is left as it is
        (two processes starting the same conversation at once both succeed). `customer` is
        whose conversation it is (the chat lists only its customer's conversations).
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
            "customer": _customer(customer, self.redaction),
        }
        with self._write(f"new_conversation {cid!r}"):
            self.db.table("conversations").insert(row, ignore=exist_ok)
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
        cut_chars: int | None = None,
        agent: str | None = None,
    ) -> dict:
        """One turns row: validated, free text redacted once, structures as JSON."""
        _check_turn(role, text)
        if agent is not None:
            if role != "agent":
                raise LogError(f"add_turn: agent={agent!r} is set on a {role!r} turn.")
            agent = check_agent(agent)
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
            "cut_chars": int(cut_chars) if cut_chars else None,
            "agent": agent,
        }
        row["redactions"] = json.dumps(scrub.found())
        return row

    def _insert_turn(self, row: dict) -> None:
        """Insert a turns row as the conversation's next seq (inside a write transaction)."""
        seq = self.db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE conversation_id = ?",
            [row["conversation_id"]],
        ).fetchone()[0]
        self._insert("turns", {**row, "seq": seq})

    def _insert(self, table: str, row: dict, or_ignore: bool = False) -> None:
        """One plain INSERT of `row` (column values only: text, numbers, None), inside a write
        transaction. What sqlite-utils' `insert` does, without reading the schema again
        (a turn's log write 1.2 -> 0.7 ms p50); a value of another type is an error, not stored."""
        columns = ", ".join(f'"{name}"' for name in row)
        marks = ", ".join("?" * len(row))
        verb = "INSERT OR IGNORE" if or_ignore else "INSERT"
        self.db.execute(f'{verb} INTO "{table}" ({columns}) VALUES ({marks})', list(row.values()))

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
        cut_chars: int | None = None,
        agent: str | None = None,
    ) -> str:
        """Append a turn to a conversation and return its id.

        `role` is "customer", "assistant" or "agent". `text` is redacted before it reaches
        disk (unless it is already `Redacted`), and so are `reason` and the strings inside
        `candidates` and `citations`; the kinds found are stored in `redactions`. The other
        fields are the columns of the same name (see `TURN_FIELDS` and docs/log-schema.md);
        `turn_id` and `time` use a pre-generated id and timestamp; `agent` names who wrote an
        "agent" turn (the customer's chat shows it).

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
            cut_chars=cut_chars,
            agent=agent,
        )
        with self._write(
            f"add_turn to conversation {conversation_id!r}",
            " Does the conversation exist? Create it with new_conversation() first.",
        ):
            self._insert_turn(row)
        return row["id"]

    def prepare_exchange(
        self,
        conversation_id: str,
        message: str | None,
        reply: Reply,
        *,
        message_id: str | None = None,
        model_versions: Mapping[str, str] | None = None,
        time: str | None = None,
        channel: str | None = None,
        cut_chars: int | None = None,
        customer: str | None = None,
    ) -> Exchange:
        """The rows of one exchange, redacted, with every id and time chosen (nothing written).

        The `Reply` is stored as it is; this is the one place its fields meet the columns:

        - the customer turn, unless `message` is None (the customer pressed "talk to a human"):
          `message` with the reply's intent, confidence and top_intents (what it means), and
          `cut_chars` when the message was cut (`assistant.limits`);
        - a ticket when `reply.ticket_id` is set (its reason is `reply.reason`), which sets the
          conversation's status to "human";
        - the assistant turn when `reply.turn_id` is set (a muted reply has none): `reply.reply`
          with its source, reason, candidates, citations and latency, and `model_versions`;
        - with a `channel`, the conversation itself, started by this exchange if it is new,
          belonging to `customer` when given.
        """
        time = time or utc_now()
        conversation = None
        if channel is not None:
            conversation = {
                "id": check_conversation_id(conversation_id, self.redaction),
                "started": time,
                "channel": channel,
                "status": "bot",
                "metadata": "{}",
                "customer": _customer(customer, self.redaction),
            }
        customer = None
        if message is not None:
            customer = self._turn_row(
                conversation_id,
                "customer",
                message,
                turn_id=message_id or new_id(),
                time=time,
                intent=reply.intent,
                confidence=reply.confidence if reply.intent is not None else None,
                top_intents=reply.top_intents or None,
                cut_chars=cut_chars,
            )
        ticket = None
        if reply.ticket_id:
            ticket = {
                "id": reply.ticket_id,
                "conversation_id": conversation_id,
                "reason": Scrubber(self.redaction)(reply.reason),
                "status": "open",
                "created": time,
                "closed": None,
            }
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
        return Exchange(conversation, customer, ticket, answer)

    def write_exchange(self, exchange: Exchange) -> bool:
        """Write a prepared exchange in one transaction: all its rows or none.

        Returns False (and writes nothing) when its turns are already in the log, so writing an
        exchange again, as replaying a spool does, never stores it twice. Turns get the next
        `seq` numbers of their conversation when they are written.
        """
        cid = exchange.conversation_id
        ids = exchange.turn_ids
        with self._write(
            f"add_exchange to conversation {cid!r}",
            " Does the conversation exist? Is the ticket id new?",
        ):
            if ids:
                marks = ", ".join("?" * len(ids))
                sql = f"SELECT 1 FROM turns WHERE id IN ({marks}) LIMIT 1"
                if self.db.execute(sql, ids).fetchone():
                    return False
            if exchange.conversation is not None:  # INSERT OR IGNORE: it may exist already
                self._insert("conversations", exchange.conversation, or_ignore=True)
            if exchange.customer is not None:
                self._insert_turn(exchange.customer)
            if exchange.ticket is not None:
                self._insert("tickets", exchange.ticket)
                self.db.execute("UPDATE conversations SET status = 'human' WHERE id = ?", [cid])
            if exchange.answer is not None:
                self._insert_turn(exchange.answer)
        return True

    def add_exchange(
        self,
        conversation_id: str,
        message: str | None,
        reply: Reply,
        *,
        message_id: str | None = None,
        model_versions: Mapping[str, str] | None = None,
        time: str | None = None,
        channel: str | None = None,
        cut_chars: int | None = None,
        customer: str | None = None,
    ) -> str | None:
        """Store one exchange in one transaction: the customer's message, a ticket, the reply.

        `prepare_exchange` then `write_exchange` (see them for what is stored). Returns the
        customer turn's id (None without a message).
        """
        exchange = self.prepare_exchange(
            conversation_id,
            message,
            reply,
            message_id=message_id,
            model_versions=model_versions,
            time=time,
            channel=channel,
            cut_chars=cut_chars,
            customer=customer,
        )
        self.write_exchange(exchange)
        return None if exchange.customer is None else exchange.customer["id"]

    def add_feedback(
        self,
        turn_id: str,
        rating: int,
        comment: str = "",
        *,
        feedback_id: str | None = None,
        time: str | None = None,
        agent: str = "",
    ) -> str:
        """Rate a turn +1 (good) or -1 (bad); the latest rating of a turn counts. Returns its id.

        `agent` is the agent who rated it ("" for the customer)."""
        if isinstance(rating, bool) or rating not in (1, -1):
            raise LogError(f"add_feedback: rating={rating!r}; use 1 (good) or -1 (bad).")
        agent = check_agent(agent) if agent else ""
        fid = feedback_id or new_id()
        row = {
            "id": fid,
            "turn_id": turn_id,
            "rating": int(rating),
            "comment": Scrubber(self.redaction)(comment or ""),
            "time": time or utc_now(),
            "agent": agent,
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
        kind: str = "correct",
    ) -> str:
        """Record an agent's correction of a turn's intent and/or reply. Returns its id.

        Correct the intent on the customer turn (or on the assistant turn answering it) and the
        reply on the assistant turn; the latest correction of each kind wins in the export.
        `kind="confirm"` records that the agent confirmed the predicted intent (given as
        `corrected_intent`): the export learns from it the same way.
        """
        if corrected_intent is None and corrected_reply is None:
            raise LogError("add_correction: give corrected_intent, corrected_reply or both.")
        if kind not in schema.CORRECTION_KINDS:
            raise LogError(
                f"add_correction: kind={kind!r}; use one of {', '.join(schema.CORRECTION_KINDS)}."
            )
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
            "kind": kind,
        }
        with self._write(f"add_correction on turn {turn_id!r}", " Is the turn id right?"):
            self.db.table("corrections").insert(row)
        return xid

    def add_corrections(self, corrections: Sequence[Mapping[str, Any]]) -> list[str]:
        """Record several intent corrections or confirmations in one transaction: all or none.

        Each mapping has `turn_id`, `corrected_intent`, `agent` and optionally `kind`
        ("correct" or "confirm") and `time`. Returns their ids, in order.
        """
        rows = []
        for c in corrections:
            kind = c.get("kind", "correct")
            if kind not in schema.CORRECTION_KINDS or not c.get("corrected_intent"):
                raise LogError(
                    f"add_corrections: turn {c.get('turn_id')!r}: give a corrected_intent and a "
                    f"kind from {', '.join(schema.CORRECTION_KINDS)}."
                )
            rows.append(
                {
                    "id": new_id(),
                    "turn_id": c["turn_id"],
                    "corrected_intent": c["corrected_intent"],
                    "corrected_reply": None,
                    "agent": check_agent(c["agent"]),
                    "time": c.get("time") or utc_now(),
                    "kind": kind,
                }
            )
        with self._write(f"add_corrections ({len(rows)})", " Are the turn ids right?"):
            if rows:
                self.db.table("corrections").insert_all(rows)
        return [row["id"] for row in rows]

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

    # -- tickets (the agent's side; assistant.tickets reads them) --------------------------------

    def _open_ticket_row(self, ticket_id: str, action: str) -> dict:
        """The ticket's row inside a write; TicketError when it is missing or closed."""
        rows = list(
            self.db.query(
                "SELECT id, conversation_id, status, assignee, resolution, resolved_by, closed "
                "FROM tickets WHERE id = ?",
                [ticket_id],
            )
        )
        if not rows:
            raise TicketError(
                f"{action}: no ticket {ticket_id!r} in {self.name}. `assistant tickets list` "
                "shows the open ones."
            )
        row = rows[0]
        if row["status"] != "open":
            how = {"hand_back": "handed back to the bot", "close": "closed"}.get(
                row["resolution"] or "", "closed"
            )
            by = f" by {row['resolved_by']}" if row["resolved_by"] else ""
            raise TicketError(
                f"{action}: ticket {ticket_id} was already resolved ({how}{by} at {row['closed']})."
            )
        return row

    def _take(
        self, row: dict, agent: str, action: str, force: bool = False, time: str | None = None
    ) -> None:
        """Give the open ticket `row` to `agent` unless another agent has it (inside a write)."""
        holder = row["assignee"]
        if holder and holder != agent and not force:
            raise ClaimError(
                f"{action}: ticket {row['id']} is claimed by {holder}. Ask {holder} to release "
                "it, or take it over with --force.",
                holder,
            )
        if holder != agent:
            self.db.execute(
                "UPDATE tickets SET assignee = ?, claimed = ? WHERE id = ?",
                [agent, time or utc_now(), row["id"]],
            )

    def claim_ticket(
        self, ticket_id: str, agent: str, *, force: bool = False, time: str | None = None
    ) -> str | None:
        """Give an open ticket to `agent`, atomically; returns who had it before (or None).

        The check and the update are one write transaction (BEGIN IMMEDIATE holds SQLite's
        write lock across processes), so of two agents claiming at once exactly one wins; the
        other gets ClaimError naming the winner. Claiming a ticket one holds already changes
        nothing; `force` takes it over from another agent.
        """
        agent = check_agent(agent)
        with self._write(f"claim_ticket {ticket_id!r}"):
            row = self._open_ticket_row(ticket_id, "claim")
            self._take(row, agent, "claim", force, time)
        return row["assignee"]

    def release_ticket(self, ticket_id: str, agent: str) -> None:
        """Put an open ticket `agent` holds back in the queue, unassigned."""
        agent = check_agent(agent)
        with self._write(f"release_ticket {ticket_id!r}"):
            row = self._open_ticket_row(ticket_id, "release")
            if row["assignee"] not in (None, agent):
                raise ClaimError(
                    f"release: ticket {ticket_id} is claimed by {row['assignee']}, not {agent}.",
                    row["assignee"],
                )
            self.db.execute(
                "UPDATE tickets SET assignee = NULL, claimed = NULL WHERE id = ?", [ticket_id]
            )

    def add_agent_reply(
        self,
        ticket_id: str,
        agent: str,
        text: str,
        *,
        turn_id: str | None = None,
        time: str | None = None,
    ) -> str:
        """An agent's reply to the customer of an open ticket; returns the turn id.

        Stored as an "agent" turn with the agent's name (the customer's open chat shows it).
        An unassigned ticket is claimed by the replying agent in the same transaction; a
        ticket another agent has raises ClaimError naming them.
        """
        agent = check_agent(agent)
        if not isinstance(text, str) or not text.strip():
            raise TicketError("reply: the reply is empty; write what the customer should read.")
        with self._write(f"add_agent_reply to ticket {ticket_id!r}"):
            ticket = self._open_ticket_row(ticket_id, "reply")
            self._take(ticket, agent, "reply", time=time)
            row = self._turn_row(
                ticket["conversation_id"], "agent", text, turn_id=turn_id, time=time, agent=agent
            )
            self._insert_turn(row)
        return row["id"]

    def resolve_ticket(
        self, ticket_id: str, resolution: str, agent: str = "", *, time: str | None = None
    ) -> str:
        """Close an open ticket; returns its conversation id.

        `resolution` "hand_back" gives the conversation back to the bot (status "bot"),
        "close" ends it (status "closed"). Other open tickets of the conversation close too.
        """
        if resolution not in schema.RESOLUTIONS:
            raise TicketError(
                f"resolve: resolution={resolution!r}; use one of {', '.join(schema.RESOLUTIONS)}."
            )
        agent = check_agent(agent) if agent else ""
        when = time or utc_now()
        with self._write(f"resolve_ticket {ticket_id!r}"):
            row = self._open_ticket_row(ticket_id, "resolve")
            cid = row["conversation_id"]
            self.db.execute(
                "UPDATE tickets SET status = 'closed', closed = ?, resolution = ?, "
                "resolved_by = ? WHERE conversation_id = ? AND status = 'open'",
                [when, resolution, agent or None, cid],
            )
            status = "bot" if resolution == "hand_back" else "closed"
            self.db.execute("UPDATE conversations SET status = ? WHERE id = ?", [status, cid])
        return cid

    def set_ticket_priority(
        self, ticket_id: str, priority: int | None, agent: str, *, lowest: int = 1, highest: int = 5
    ) -> None:
        """Set an open ticket's priority by hand (`None`: back to the priority rules)."""
        agent = check_agent(agent)
        if priority is not None and (
            isinstance(priority, bool)
            or not isinstance(priority, int)
            or not lowest <= priority <= highest
        ):
            raise TicketError(
                f"priority={priority!r}: give a whole number from {lowest} (low) to {highest} "
                "(most urgent), or none to use the priority rules again."
            )
        with self._write(f"set_ticket_priority {ticket_id!r}"):
            self._open_ticket_row(ticket_id, "set priority")
            self.db.execute(
                "UPDATE tickets SET priority = ?, priority_by = ? WHERE id = ?",
                [priority, None if priority is None else agent, ticket_id],
            )

    def add_note(
        self,
        ticket_id: str,
        agent: str,
        text: str,
        *,
        note_id: str | None = None,
        time: str | None = None,
    ) -> str:
        """An internal note on a ticket (any status): for agents only, never a turn, so never
        shown to the customer nor exported as a reply. Returns its id."""
        agent = check_agent(agent)
        if not isinstance(text, str) or not text.strip():
            raise TicketError("note: the note is empty.")
        nid = note_id or new_id()
        row = {
            "id": nid,
            "ticket_id": ticket_id,
            "agent": agent,
            "text": Scrubber(self.redaction)(text),
            "time": time or utc_now(),
        }
        with self._write(f"add_note on ticket {ticket_id!r}", " Is the ticket id right?"):
            self.db.table("notes").insert(row)
        return nid

    # -- reads ----------------------------------------------------------------------------------

    def status(self, conversation_id: str) -> str | None:
        """The conversation's status: "bot", "human" (handed off, bot muted) or "closed".

        None when there is no such conversation.
        """
        rows = self._rows("SELECT status FROM conversations WHERE id = ?", (conversation_id,))
        return rows[0]["status"] if rows else None

    def customer_of(self, conversation_id: str) -> str | None:
        """The customer a conversation belongs to (None: no such conversation, or none set)."""
        rows = self._rows("SELECT customer FROM conversations WHERE id = ?", (conversation_id,))
        return rows[0]["customer"] if rows else None

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

    def conversations(
        self, limit: int = 50, customer: str | None = None
    ) -> list[ConversationSummary]:
        """The `limit` most recently started conversations, newest first.

        With `customer`, only that customer's conversations (what the customer's chat lists).
        """
        where = "" if customer is None else "WHERE c.customer = ?"
        params = (int(limit),) if customer is None else (customer, int(limit))
        rows = self._rows(
            f"""
            SELECT c.id, c.started, c.status,
                   (SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id) AS n_turns,
                   (SELECT t.text FROM turns t WHERE t.conversation_id = c.id
                    AND t.role = 'customer' ORDER BY t.seq LIMIT 1) AS preview
            FROM conversations c
            {where}
            ORDER BY c.started DESC, c.rowid DESC
            LIMIT ?
            """,
            params,
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
