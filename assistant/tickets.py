"""Tickets: the agent's side of the conversation log: queue, claim, reply, resolve, review.

A ticket is opened when the bot hands a conversation to a human (`assistant.service`); from
then on the bot stays quiet and the customer's messages wait for an agent. `Tickets` is the one
API over those rows for every front end (`assistant tickets ...`, `assistant log correct`, the
triage console); it keeps no state of its own except a cache derived from the log and checked
against it on every read (the log is the one source of truth, STYLE.md rule 12).

    tickets = Tickets(log)                               # over an open ConversationLog
    queue = tickets.list("open")                         # highest priority, then longest wait
    detail = tickets.show(queue[0].id)                   # the ticket, its transcript, notes
    tickets.claim(detail.ticket.id, "ana")               # ClaimError naming the holder if taken
    tickets.reply(detail.ticket.id, "Hi, Ana here. Let me check.", "ana")
    tickets.resolve(detail.ticket.id, "hand_back", "ana")   # or "close"

    seen = tickets.changes                               # cheap: PRAGMA data_version
    seen = tickets.wait_for_change(seen, timeout=1.0)    # returns early when anything changed

Every write is one transaction of `ConversationLog` (a claim is atomic across processes: of two
agents exactly one wins). Every text here was stored redacted; show it with
`assistant.untrusted.inert` or as plain text, never as markup.

What agents decide becomes training data: `correct_intent` and `confirm_intent` store a
correction with the agent's name and time (the export prefers it over the prediction), and
`rate` stores an agent's rating of a bot reply (a reply rated bad is left out of the export).
`review_inbox` lists the bot turns worth such a look.
"""

from __future__ import annotations

import csv
import difflib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from assistant.errors import TicketError
from assistant.log import ConversationLog, LogWatcher, new_id, utc_now
from assistant.log.store import check_agent
from assistant.priority import HIGHEST, LOWEST, Cues, Priority, PriorityRules, manual

STATUSES = ("open", "mine", "closed", "all")  # what `list` can show
RESOLUTIONS = {"hand_back": "hand_back", "close": "close"}
TURNS_READ = 200  # the newest turns of a conversation read for a ticket's facts
REVIEW_LIMIT = 200  # review items read at most (newest first)
LOW_CONFIDENCE = 0.5  # a customer turn below this is worth a review (EngineConfig's default)
SQL_CHUNK = 500  # ids per "IN (...)" (SQLite allows 999 parameters on old builds)


# -- records ---------------------------------------------------------------------------------


@dataclass
class Ticket:
    """One ticket as the queue shows it; its fields are the `tickets list --json` keys."""

    id: str
    conversation_id: str
    status: str  # "open" | "closed"
    priority: int  # 1 (low) .. 5 (critical)
    priority_reason: str  # why, e.g. 'payment_failed: high (3) · urgency "asap" +1'
    intent: str | None  # predicted intent of the latest message that says what it is about
    confidence: float | None  # its probability
    assignee: str | None  # the agent who claimed it (None: unassigned)
    created: str  # when it was opened (ISO-8601 UTC)
    waiting_s: float  # how long the customer has waited for an agent (0: the agent spoke last)
    last_customer_text: str  # the customer's latest message (redacted, as stored)

    def to_json(self) -> dict:
        """The JSON object of `assistant tickets list --json` (exactly these keys)."""
        data = asdict(self)
        data["confidence"] = None if self.confidence is None else round(self.confidence, 4)
        data["waiting_s"] = round(self.waiting_s, 1)
        return data


@dataclass
class TranscriptTurn:
    """One turn of a ticket's conversation, with what agents said about it."""

    turn_id: str
    role: str  # "customer" | "assistant" | "agent"
    text: str  # as stored (redacted)
    time: str
    intent: str | None  # predicted (customer turns)
    confidence: float | None
    source: str | None  # where a bot reply came from (assistant turns)
    agent: str | None = None  # who wrote an agent turn
    rating: int | None = None  # latest rating: +1 good, -1 bad
    corrected_intent: str | None = None  # the latest intent an agent gave or confirmed
    confirmed: bool = False  # that intent was a confirmation of the prediction

    JSON_KEYS = ("turn_id", "role", "text", "time", "intent", "confidence", "source")

    def to_json(self) -> dict:
        """The transcript object of `assistant tickets show --json` (exactly its keys)."""
        data = {key: getattr(self, key) for key in self.JSON_KEYS}
        if self.confidence is not None:
            data["confidence"] = round(self.confidence, 4)
        return data


@dataclass
class Note:
    """An internal note on a ticket: agents only, never shown to the customer."""

    id: str
    agent: str
    text: str
    time: str


@dataclass
class TicketDetail:
    """A ticket with its whole conversation and its internal notes."""

    ticket: Ticket
    transcript: list[TranscriptTurn]
    notes: list[Note] = field(default_factory=list)
    conversation_status: str | None = None  # "bot" | "human" | "closed"

    def history(self) -> list[tuple[str, str]]:
        """The (role, text) turns the customer saw, oldest first (what the engine reads)."""
        return [(t.role, t.text) for t in self.transcript if t.text and t.source != "muted"]

    def context(self) -> list[tuple[str, str]]:
        """The conversation as an agent continues it (what suggestions are ranked for): the
        history without the bot's handoff notices, which would make the ranker suggest more
        of them."""
        return [
            (t.role, t.text)
            for t in self.transcript
            if t.text and t.source not in ("muted", "handoff")
        ]

    def slots(self) -> dict[str, str]:
        """Slot values the ticket itself knows (its number), for filling suggestions."""
        return {"ticket_number": self.ticket.id}


@dataclass
class ReviewItem:
    """A bot reply worth a look, with the customer message it answered."""

    turn_id: str  # the customer's turn: confirm or correct its intent here
    reply_turn_id: str  # the bot's reply to it: rate it here
    conversation_id: str
    text: str  # the customer's message
    reply: str  # the bot's reply
    intent: str | None  # predicted intent of the message
    confidence: float | None
    source: str  # where the reply came from (ranker, kb, clarify, oos, handoff)
    rating: int | None  # latest rating of the reply
    time: str
    why: list[str]  # "low confidence 0.31", "clarify", "out of scope", "rated bad"


@dataclass
class ReviewGroup:
    """Review items that share a predicted intent."""

    intent: str  # the predicted label ("(none)" when the message has none)
    items: list[ReviewItem]


@dataclass(frozen=True)
class _Facts:
    """What a ticket's turns say, kept until its conversation gets a new turn."""

    intent: str | None
    confidence: float | None
    last_customer_text: str
    cues: Cues
    waiting_since: datetime | None  # the customer has waited since then (None: agent spoke last)


# -- the API ---------------------------------------------------------------------------------


class Tickets:
    """Tickets of one conversation log: queries, actions, the review inbox, a change counter.

    Thread-safe (one lock for its caches; the log has its own). Reads are cheap to repeat:
    `list("open")` asks the log again only when it changed (`changes`, PRAGMA data_version),
    and then reads only the tickets whose change number (`tickets.version`, kept by triggers:
    a claim, a new turn in the conversation, ...) is newer than the last it saw, so a console
    keeps 1,000 open tickets current for a fraction of a millisecond a second.
    """

    def __init__(self, log: ConversationLog, rules: PriorityRules | None = None) -> None:
        self.log = log
        self.rules = rules or PriorityRules()
        self._watcher: LogWatcher | None = None
        self._lock = threading.RLock()
        # ticket id -> (version, facts): re-read when the ticket's version moved
        self._facts: dict[str, tuple[int, _Facts]] = {}
        self._priorities: dict[str, tuple[tuple, Priority]] = {}  # id -> (inputs, priority)
        # the open tickets as last read: id -> row; the change count and the highest ticket
        # version seen then (None: not read yet)
        self._open: dict[str, dict] | None = None
        self._open_changes = -1
        self._open_version = 0

    # -- changes ------------------------------------------------------------------------------

    def _watch(self) -> LogWatcher:
        if self._watcher is None:
            self._watcher = LogWatcher(self.log)
        return self._watcher

    @property
    def changes(self) -> int:
        """How many times the log changed so far, any process (PRAGMA data_version): poll it
        and re-read only when it moved."""
        return self._watch().changes

    def wait_for_change(self, after: int, timeout: float | None = None) -> int:
        """Block until `changes` differs from `after` or `timeout` passes; the new count."""
        return self._watch().wait(after, timeout)

    def close(self) -> None:
        """Stop watching (the log stays open: its owner closes it)."""
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        with self._lock:
            self._open = None  # a new watcher counts from 0 again: read everything again

    # -- queries ------------------------------------------------------------------------------

    def list(
        self,
        status: str = "open",
        agent: str | None = None,
        *,
        now: datetime | None = None,
    ) -> list[Ticket]:
        """Tickets with `status`, highest priority first, then longest wait, then oldest.

        `status` is "open", "mine" (open and claimed by `agent`), "closed" or "all"; `agent`
        keeps only the tickets that agent holds. `now` is the clock (tests, benchmarks).
        """
        if status not in STATUSES:
            raise TicketError(f"status={status!r}: use one of {', '.join(STATUSES)}.")
        if status == "mine" and not agent:
            raise TicketError("status 'mine' needs the agent: pass --agent NAME.")
        if agent:
            agent = check_agent(agent)
        if status in ("open", "mine"):
            rows = self._open_rows()
        else:
            rows = self._query(
                _TICKETS_SQL + ("" if status == "all" else " WHERE t.status = 'closed'"), []
            )
            self._refresh_facts(rows)
        if agent:
            rows = [row for row in rows if row["assignee"] == agent]
        moment = now or datetime.now(UTC)
        with self._lock:
            tickets = [self._ticket(row, moment) for row in rows]
        tickets.sort(key=lambda t: (-t.priority, -t.waiting_s, t.created, t.id))
        return tickets

    def get(self, ticket_id: str, *, now: datetime | None = None) -> Ticket:
        """One ticket, any status; TicketError when there is none."""
        rows = self._query(_TICKETS_SQL + " WHERE t.id = ?", [ticket_id])
        if not rows:
            raise TicketError(
                f"no ticket {ticket_id!r} in {self.log.name}. `assistant tickets list "
                "--status all` shows every ticket."
            )
        self._refresh_facts(rows)
        with self._lock:
            return self._ticket(rows[0], now or datetime.now(UTC))

    def show(self, ticket_id: str, *, now: datetime | None = None) -> TicketDetail:
        """The ticket, its whole conversation (with ratings and agents' corrections) and its
        internal notes, from one consistent read."""
        with self.log.snapshot():
            ticket = self.get(ticket_id, now=now)
            turns = self.log.transcript(ticket.conversation_id)
            fixes = self._corrections([t.id for t in turns])
            notes = self._query(
                "SELECT id, agent, text, time FROM notes WHERE ticket_id = ? ORDER BY time, rowid",
                [ticket_id],
            )
            status = self.log.status(ticket.conversation_id)
        transcript = []
        for t in turns:
            fixed = fixes.get(t.id)
            transcript.append(
                TranscriptTurn(
                    turn_id=t.id,
                    role=t.role,
                    text=t.text,
                    time=t.time,
                    intent=t.intent,
                    confidence=t.confidence,
                    source=t.source,
                    agent=t.agent,
                    rating=t.rating,
                    corrected_intent=fixed[0] if fixed else None,
                    confirmed=bool(fixed and fixed[1] == "confirm"),
                )
            )
        return TicketDetail(ticket, transcript, [Note(**n) for n in notes], status)

    def review_inbox(
        self, limit: int = REVIEW_LIMIT, low_confidence: float = LOW_CONFIDENCE
    ) -> list[ReviewGroup]:
        """Bot replies worth a look, newest `limit` first, grouped by predicted intent.

        A reply is worth a look when the message it answered had confidence below
        `low_confidence`, when it asked to clarify, said out of scope, or was rated bad (by
        the customer or an agent). Messages an agent already confirmed or corrected are left
        out. Groups are ordered by size, largest first.
        """
        rows = self._query(_REVIEW_SQL, [low_confidence, int(limit)])
        groups: dict[str, list[ReviewItem]] = {}
        for row in rows:
            why = []
            if row["confidence"] is not None and row["confidence"] < low_confidence:
                why.append(f"low confidence {row['confidence']:.2f}")
            if row["source"] == "clarify":
                why.append("clarify")
            if row["source"] == "oos" or row["intent"] == "oos":
                why.append("out of scope")
            if row["rating"] == -1:
                why.append("rated bad")
            item = ReviewItem(**row, why=why)
            groups.setdefault(row["intent"] or "(none)", []).append(item)
        ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        return [ReviewGroup(intent, items) for intent, items in ordered]

    def intents_seen(self) -> list[str]:
        """Every intent label the log holds (predicted or given by an agent), sorted: what an
        agent can pick from when no model is loaded to list its labels."""
        rows = self._query(
            "SELECT intent AS label FROM turns WHERE intent IS NOT NULL UNION "
            "SELECT corrected_intent FROM corrections WHERE corrected_intent IS NOT NULL",
            [],
        )
        return sorted(row["label"] for row in rows)

    # -- actions ------------------------------------------------------------------------------

    def claim(self, ticket_id: str, agent: str, *, force: bool = False) -> Ticket:
        """Take an open ticket, atomically: ClaimError (naming the holder) when another agent
        has it, unless `force`. Returns the ticket as it is now."""
        self.log.claim_ticket(ticket_id, agent, force=force)
        return self.get(ticket_id)

    def release(self, ticket_id: str, agent: str) -> None:
        """Put a ticket `agent` holds back in the queue, unassigned."""
        self.log.release_ticket(ticket_id, agent)

    def reply(self, ticket_id: str, text: str, agent: str) -> str:
        """Send `text` to the ticket's customer as `agent`; returns the turn id.

        Claims an unassigned ticket; ClaimError when another agent has it.
        """
        return self.log.add_agent_reply(ticket_id, agent, text, turn_id=new_id(), time=utc_now())

    def resolve(self, ticket_id: str, how: str, agent: str = "") -> str:
        """Close the ticket: `how` "hand_back" gives the conversation back to the bot, "close"
        ends it. Returns the conversation id."""
        if how not in RESOLUTIONS:
            raise TicketError(f"resolve: how={how!r}; use 'hand_back' or 'close'.")
        return self.log.resolve_ticket(ticket_id, RESOLUTIONS[how], agent)

    def set_priority(self, ticket_id: str, priority: int | None, agent: str) -> None:
        """Set the priority by hand (1 low .. 5 critical); None goes back to the rules."""
        self.log.set_ticket_priority(ticket_id, priority, agent, lowest=LOWEST, highest=HIGHEST)

    def note(self, ticket_id: str, text: str, agent: str) -> str:
        """Add an internal note (agents only); returns its id."""
        self.get(ticket_id)  # a clear "no ticket" message rather than a foreign-key error
        return self.log.add_note(ticket_id, agent, text)

    def rate(self, turn_id: str, good: bool, agent: str) -> str:
        """An agent's rating of a bot reply (+1 / -1); the latest rating counts."""
        agent = check_agent(agent)
        turn = self._turn(turn_id)
        if turn["role"] != "assistant":
            raise TicketError(
                f"rate: turn {turn_id} is a {turn['role']} turn; rate the bot's replies only."
            )
        return self.log.add_feedback(turn_id, 1 if good else -1, agent=agent)

    def correct_intent(
        self, turn_id: str, intent: str, agent: str, *, labels: Sequence[str] | None = None
    ) -> str:
        """Store the right intent of a customer turn (or of the bot reply answering it) with
        the agent's name and time; `labels` (the model's) checks the label. Returns its id."""
        return self.correct_many([(turn_id, intent, agent)], labels=labels)[0]

    def confirm_intent(self, turn_id: str, agent: str) -> str:
        """Confirm the predicted intent of a customer turn (stored like a correction, with
        kind "confirm", so the export learns from it). Returns its id."""
        agent = check_agent(agent)
        turn = self._turn(turn_id)
        if turn["role"] != "customer" or not turn["intent"]:
            raise TicketError(
                f"confirm: turn {turn_id} is not a customer message with a predicted intent; "
                "correct it with an intent instead."
            )
        return self.log.add_correction(turn_id, turn["intent"], agent=agent, kind="confirm")

    def correct_many(
        self,
        rows: Iterable[tuple[str, str, str]],
        *,
        labels: Sequence[str] | None = None,
        where: Sequence[str] | None = None,
    ) -> list[str]:
        """Store (turn_id, intent, agent) corrections: all of them, or, when one is wrong,
        none (TicketError naming it: `where[i]` says where row i came from, e.g. "file:3")."""
        rows = list(rows)
        checked = []
        turns = self._turn_roles([turn_id for turn_id, _, _ in rows])
        for i, (turn_id, intent, agent) in enumerate(rows):
            at = f"{where[i]}: " if where else ""
            try:
                agent = check_agent(agent)
            except TicketError as exc:
                raise TicketError(f"{at}{exc}") from None
            label = (intent or "").strip()
            if not label or "\n" in label or len(label) > 100:
                raise TicketError(f"{at}intent={intent!r}: give an intent label.")
            if labels is not None and label not in labels:
                close = difflib.get_close_matches(label, list(labels), n=3)
                hint = f" Did you mean {', '.join(close)}?" if close else ""
                raise TicketError(
                    f"{at}intent {label!r} is not one of the model's {len(labels)} labels.{hint}"
                )
            role = turns.get(turn_id)
            if role is None:
                raise TicketError(f"{at}no turn {turn_id!r} in {self.log.name}.")
            if role == "agent":
                raise TicketError(
                    f"{at}turn {turn_id} is an agent's message; correct the customer's message."
                )
            checked.append((turn_id, label, agent))
        return self.log.add_corrections(
            [
                {"turn_id": t, "corrected_intent": label, "agent": a, "kind": "correct"}
                for t, label, a in checked
            ]
        )

    # -- plumbing -----------------------------------------------------------------------------

    def _query(self, sql: str, params: Sequence) -> list[dict]:
        with self.log.snapshot():
            return list(self.log.db.query(sql, list(params)))

    def _turn(self, turn_id: str) -> dict:
        rows = self._query("SELECT id, role, intent FROM turns WHERE id = ?", [turn_id])
        if not rows:
            raise TicketError(f"no turn {turn_id!r} in {self.log.name}.")
        return rows[0]

    def _turn_roles(self, turn_ids: Sequence[str]) -> dict[str, str]:
        roles: dict[str, str] = {}
        ids = list(dict.fromkeys(turn_ids))
        for start in range(0, len(ids), SQL_CHUNK):
            chunk = ids[start : start + SQL_CHUNK]
            marks = ", ".join("?" * len(chunk))
            for row in self._query(f"SELECT id, role FROM turns WHERE id IN ({marks})", chunk):
                roles[row["id"]] = row["role"]
        return roles

    def _corrections(self, turn_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """turn id -> (latest corrected intent, kind) for the turns that have one."""
        out: dict[str, tuple[str, str]] = {}
        for start in range(0, len(turn_ids), SQL_CHUNK):
            chunk = list(turn_ids[start : start + SQL_CHUNK])
            marks = ", ".join("?" * len(chunk))
            for row in self._query(
                "SELECT turn_id, corrected_intent, kind FROM corrections "
                f"WHERE turn_id IN ({marks}) AND corrected_intent IS NOT NULL "
                "ORDER BY time, rowid",
                chunk,
            ):
                out[row["turn_id"]] = (row["corrected_intent"], row["kind"])
        return out

    def _open_rows(self) -> list[dict]:
        """The open tickets' rows with their facts current, read incrementally.

        Nothing is read while the log has not changed. Else only the tickets whose version is
        newer than the last seen (a claim, a resolution, a new turn in the conversation) are
        read; a count of the open tickets catches what no version shows (a conversation
        deleted), and then everything is read again.
        """
        changes = self.changes
        with self._lock:
            if self._open is not None and changes == self._open_changes:
                return list(self._open.values())  # the log did not change: no read at all
        # Always the log's lock first, then this object's (show() reads under the log's).
        with self.log.snapshot() as conn, self._lock:
            top = conn.execute("SELECT COALESCE(MAX(version), 0) FROM tickets").fetchone()[0]
            changed: list[dict] = []
            if self._open is not None and top > self._open_version:
                changed = self._query(_TICKETS_SQL + " WHERE t.version > ?", [self._open_version])
                for row in changed:
                    if row["status"] == "open":
                        self._open[row["id"]] = row
                    else:
                        self._open.pop(row["id"], None)
            if self._open is not None:
                sql = "SELECT COUNT(*) FROM tickets WHERE status = 'open'"
                if conn.execute(sql).fetchone()[0] != len(self._open):
                    self._open = None  # one was deleted (no version says so): read them all
            if self._open is None:
                changed = self._query(_TICKETS_SQL + " WHERE t.status = 'open'", [])
                self._open = {row["id"]: row for row in changed}
            self._refresh_facts([row for row in changed if row["status"] == "open"])
            self._open_version = top
            self._open_changes = changes
            return list(self._open.values())

    def _refresh_facts(self, rows: Sequence[dict]) -> None:
        """Re-read the turns of the tickets whose version moved since their facts were read."""
        with self.log.snapshot(), self._lock:
            stale = [
                row
                for row in rows
                if (cached := self._facts.get(row["id"])) is None or cached[0] != row["version"]
            ]
            by_conversation: dict[str, list[dict]] = {}
            for row in stale:
                by_conversation.setdefault(row["conversation_id"], []).append(row)
            ids = list(by_conversation)
            for start in range(0, len(ids), SQL_CHUNK):
                chunk = ids[start : start + SQL_CHUNK]
                marks = ", ".join("?" * len(chunk))
                turns: dict[str, list[dict]] = {cid: [] for cid in chunk}
                sql = _FACT_TURNS_SQL.format(marks=marks)
                for turn in self._query(sql, [*chunk, TURNS_READ]):
                    turns[turn["conversation_id"]].append(turn)
                for cid in chunk:
                    found = sorted(turns[cid], key=lambda t: t["seq"])
                    for row in by_conversation[cid]:
                        self._facts[row["id"]] = (row["version"], self._facts_of(row, found))

    def _facts_of(self, row: dict, turns: list[dict]) -> _Facts:
        intent = confidence = None
        topic = None  # the latest (intent, confidence) that is not a generic one
        last_text = ""
        customer_texts = []
        waiting_since: str | None = row["created"]
        for turn in turns:
            if turn["role"] == "customer":
                last_text = turn["text"]
                customer_texts.append(turn["text"])
                if turn["intent"] is not None:
                    intent, confidence = turn["intent"], turn["confidence"]
                    if intent not in self.rules.generic_intents:
                        topic = (intent, confidence)
            if turn["time"] < row["created"]:
                continue
            if turn["role"] == "agent":
                waiting_since = None
            elif turn["role"] == "customer" and waiting_since is None:
                waiting_since = turn["time"]
        if topic is not None:
            intent, confidence = topic
        return _Facts(
            intent=intent,
            confidence=confidence,
            last_customer_text=last_text,
            cues=self.rules.cues(reversed(customer_texts)),  # the newest cue counts first
            waiting_since=None if waiting_since is None else _parse(waiting_since),
        )

    def _ticket(self, row: dict, now: datetime) -> Ticket:
        """The ticket `row` as the queue shows it `now` (call with `self._lock` held)."""
        facts = self._facts[row["id"]][1]
        waiting = 0.0
        if row["status"] == "open" and facts.waiting_since is not None:
            waiting = max(0.0, (now - facts.waiting_since).total_seconds())
        # The priority and its reason change with the ticket (version) and the minute waited
        # (the reason says minutes, the rules count thresholds): computed once per such step.
        passed = sum(waiting >= m * 60 for m in self.rules.wait_minutes)
        key = (row["version"], row["priority"], row["priority_by"], round(waiting / 60), passed)
        cached = self._priorities.get(row["id"])
        if cached is not None and cached[0] == key:
            priority = cached[1]
        elif row["priority"] is not None:
            priority = manual(int(row["priority"]), row["priority_by"] or "an agent")
        else:
            priority = self.rules.rate(facts.intent, waiting_s=waiting, cues=facts.cues)
        self._priorities[row["id"]] = (key, priority)
        return Ticket(
            id=row["id"],
            conversation_id=row["conversation_id"],
            status=row["status"],
            priority=priority.value,
            priority_reason=priority.reason,
            intent=facts.intent,
            confidence=facts.confidence,
            assignee=row["assignee"],
            created=row["created"],
            waiting_s=waiting,
            last_customer_text=facts.last_customer_text,
        )


def _parse(stamp: str) -> datetime:
    """A log time ("2026-05-01T09:30:00.123Z") as an aware datetime."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


# `version` moves with every change of the ticket and every new turn of its conversation
# (schema version 4): what tells the caches to read it again.
_TICKETS_SQL = """
SELECT t.id, t.conversation_id, t.status, t.created, t.assignee, t.priority, t.priority_by,
       t.version
FROM tickets t
"""

# The newest turns of several conversations (idx_turns_conversation_seq serves each).
_FACT_TURNS_SQL = """
SELECT u.conversation_id, u.seq, u.role, u.text, u.time, u.intent, u.confidence
FROM turns u
WHERE u.conversation_id IN ({marks}) AND u.role IN ('customer', 'agent')
  AND u.seq > (SELECT COALESCE(MAX(v.seq), 0) FROM turns v
               WHERE v.conversation_id = u.conversation_id) - ?
"""

# Bot replies and the customer message each answered; newest first along idx_turns_time, so
# a LIMIT stops the scan early on a large log.
_REVIEW_SQL = """
SELECT * FROM (
    SELECT q.id AS turn_id, r.id AS reply_turn_id, r.conversation_id, q.text, r.text AS reply,
           q.intent, q.confidence, r.source, r.time,
           (SELECT f.rating FROM feedback f WHERE f.turn_id = r.id
            ORDER BY f.time DESC, f.rowid DESC LIMIT 1) AS rating
    FROM turns r
    JOIN turns q ON q.conversation_id = r.conversation_id AND q.seq = r.seq - 1
    WHERE r.role = 'assistant' AND q.role = 'customer'
      AND NOT EXISTS (SELECT 1 FROM corrections c
                      WHERE c.turn_id IN (q.id, r.id) AND c.corrected_intent IS NOT NULL)
)
WHERE source IN ('clarify', 'oos') OR intent = 'oos' OR confidence < ? OR rating = -1
ORDER BY time DESC
LIMIT ?
"""


def model_labels(models_dir: str | Path) -> list[str]:
    """The intent labels of a model directory (`models_dir/intent/manifest.json`), without
    loading the model: what a correction may be (ModelError naming the file otherwise)."""
    from assistant.versions import resolve_model
    from kb.manifest import read_manifest

    # a models directory with versions: its current version's labels
    return list(read_manifest(resolve_model(models_dir, "intent"), "intent")["labels"])


# -- batch corrections from a file -----------------------------------------------------------

CSV_COLUMNS = ("turn_id", "intent", "agent")


def read_corrections(path: str | Path, default_agent: str = "") -> tuple[list, list[str]]:
    """The rows of a corrections CSV (header `turn_id,intent,agent`; `agent` may be empty,
    then `default_agent`), and where each came from ("file:line"). TicketError names the
    file, line and value of a malformed row."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TicketError(f"{path}: cannot read the corrections file ({exc}).") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None or [h.strip() for h in header][: len(CSV_COLUMNS)] != list(CSV_COLUMNS):
        raise TicketError(
            f"{path}:1: the header is {header!r}; it must be {','.join(CSV_COLUMNS)}."
        )
    rows, where = [], []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) < 2 or len(values) > len(CSV_COLUMNS):
            raise TicketError(
                f"{path}:{line}: {values!r} has {len(values)} columns; give turn_id,intent,agent."
            )
        turn_id, intent, agent = (v.strip() for v in [*values, ""][:3])
        if not turn_id:
            raise TicketError(f"{path}:{line}: the turn_id is empty.")
        agent = agent or default_agent
        if not agent:
            raise TicketError(
                f"{path}:{line}: no agent for turn {turn_id}; fill the agent column or pass "
                "--agent NAME."
            )
        rows.append((turn_id, intent, agent))
        where.append(f"{path}:{line}")
    return rows, where
