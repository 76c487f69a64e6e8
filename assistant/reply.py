"""What the dialogue engine answers for one customer message, and the records the UI shows.

These plain dataclasses are the contract between the engine (`assistant/engine.py`), the
conversation log (`assistant/log/`), the CLI (`assistant ask --json`) and the Textual chat.
A `Decision` is what the engine chose; a `Reply` is that decision as delivered (the same
fields, plus the conversation, the logged turn, the ticket and the latency). A `Citation` is
the knowledge base's own `Passage` record, with one JSON form from `kb search` to the log.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, asdict, dataclass, field, fields
from typing import Any

from kb.passage import Passage

# Where a reply came from; recorded with every assistant turn.
SOURCES = ("ranker", "kb", "clarify", "fallback", "handoff", "oos", "muted")

# A knowledge-base passage the reply was drawn from: the record `KnowledgeBase.search` returns.
Citation = Passage


@dataclass
class Candidate:
    """A ranked reply from the response bank."""

    text: str  # the reply with placeholders filled where known
    score: float  # ranker score (cosine similarity)
    intents: list[str] = field(default_factory=list)  # intents this reply answered in training data
    kind: str = "safe"  # the bank entry's kind: "safe" | "needs_slots" | "agent_only"
    sendable: bool = True  # the bot may send it here (False: a suggestion for a human agent)
    note: str = ""  # why it may not be sent here ("agent only: claims an action ...")
    entry_id: str = ""  # the bank entry's id (`assistant bank review --show ID`)


@dataclass
class Decision:
    """What the engine decided for one customer message (before it is logged)."""

    reply: str  # text shown to the customer (Markdown); may hold "{ticket_id}" for a handoff
    source: str  # one of SOURCES
    reason: str  # why the policy chose this source, e.g. "best reply scores 0.82 >= 0.55"
    _: KW_ONLY
    intent: str | None = None  # predicted intent of the customer message ("oos" when out of scope)
    confidence: float = 0.0  # probability of `intent`
    top_intents: list[tuple[str, float]] = field(default_factory=list)  # top 3 (label, prob)
    candidates: list[Candidate] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    handoff: bool = False  # open a ticket and mute the bot
    low_confidence: bool = False  # an unhelpful turn: counts towards the handoff streak


@dataclass
class Reply(Decision):
    """The engine's answer to one customer message, as delivered: a `Decision` plus where
    it went. Build one from a decision with `Reply.delivered`."""

    conversation_id: str
    turn_id: str  # id of the assistant turn in the log (feedback refers to it); "" when muted
    _: KW_ONLY
    message_turn_id: str | None = None  # id of the customer's turn in the log (None: no message)
    ticket_id: str | None = None  # set when this turn handed the conversation to a human
    latency_ms: float = 0.0
    redacted_text: str = ""  # the customer message as stored (after redaction)

    @classmethod
    def delivered(
        cls, decision: Decision, conversation_id: str, turn_id: str, **changes: Any
    ) -> Reply:
        """`decision` as delivered in `conversation_id` as turn `turn_id`.

        `changes` sets the delivery fields (`ticket_id`, `latency_ms`, `redacted_text`) and
        may replace a decision field (the reply text with the ticket number filled in).

        >>> d = Decision("Hi!", "ranker", "best reply scores 0.90 >= 0.55", intent="greeting")
        >>> r = Reply.delivered(d, "c1", "t1", latency_ms=12.0)
        >>> (r.reply, r.intent, r.conversation_id, r.latency_ms)
        ('Hi!', 'greeting', 'c1', 12.0)
        """
        decided = {f.name: getattr(decision, f.name) for f in fields(Decision)}
        return cls(**{**decided, **changes}, conversation_id=conversation_id, turn_id=turn_id)

    def to_json(self) -> dict:
        """The `assistant ask --json` object.

        Its "turn_id" is the customer's logged turn (what an agent corrects with `assistant log
        correct`) and "reply_turn_id" the assistant's (what a rating refers to); either is None
        when that turn was not logged (a muted reply, a handoff without a message).
        """
        return {
            "reply": self.reply,
            "source": self.source,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "citations": [c.to_dict() for c in self.citations],
            "candidates": [asdict(c) for c in self.candidates],
            "latency_ms": round(self.latency_ms, 2),
            "conversation_id": self.conversation_id,
            "reason": self.reason,
            "top_intents": [[label, round(p, 4)] for label, p in self.top_intents],
            "ticket_id": self.ticket_id,
            "turn_id": self.message_turn_id,
            "reply_turn_id": self.turn_id or None,
        }


@dataclass
class ConversationSummary:
    """One row of the conversation browser."""

    id: str
    started: str  # ISO-8601 UTC
    n_turns: int
    preview: str  # first customer message (redacted)
    status: str  # "bot" | "human" (handed off, bot muted) | "closed"


@dataclass
class TurnRecord:
    """One stored turn, as a transcript shows it."""

    id: str
    role: str  # "customer" | "assistant" | "agent"
    text: str  # as stored (redacted)
    time: str  # ISO-8601 UTC
    source: str | None = None
    intent: str | None = None
    confidence: float | None = None
    rating: int | None = None  # +1 good, -1 bad, None unrated
    seq: int = 0  # position in the conversation: 1, 2, 3, ... (0 when not from the log)
    agent: str | None = None  # who wrote an "agent" turn (None for other roles, older logs)


@dataclass
class ConversationView:
    """A conversation as the log has it now: its status and its turns (all, or the new ones)."""

    id: str
    status: str | None  # "bot" | "human" | "closed"; None when the log has no such conversation
    turns: list[TurnRecord] = field(default_factory=list)  # oldest first
