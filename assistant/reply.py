"""What the dialogue engine answers for one customer message, and the records the UI shows.

These plain dataclasses are the contract between the engine (`assistant/engine.py`), the
conversation log (`assistant/log.py`), the CLI (`assistant ask --json`) and the Textual chat.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Where a reply came from; recorded with every assistant turn.
SOURCES = ("ranker", "kb", "clarify", "handoff", "oos", "muted")


@dataclass
class Citation:
    """A knowledge-base passage the reply was drawn from."""

    article_id: str  # e.g. "billing/refunds"
    title: str  # article title
    section: str  # section heading ("" when the article has none)
    source: str  # source path relative to the docs folder
    score: float  # retrieval score (higher is better)
    text: str = ""  # the passage text


@dataclass
class Candidate:
    """A ranked reply from the response bank."""

    text: str  # the reply with placeholders filled where known
    score: float  # ranker score (cosine similarity)
    intents: list[str] = field(default_factory=list)  # intents this reply answered in training data


@dataclass
class Reply:
    """The engine's answer to one customer message."""

    reply: str  # text shown to the customer (Markdown)
    source: str  # one of SOURCES
    reason: str  # why the policy chose this source, e.g. "ranker score 0.82 >= 0.55"
    conversation_id: str
    turn_id: str  # id of the assistant turn in the log (feedback refers to it)
    intent: str | None = None  # predicted intent of the customer message ("oos" when out of scope)
    confidence: float = 0.0  # probability of `intent`
    top_intents: list[tuple[str, float]] = field(default_factory=list)  # top 3 (label, prob)
    citations: list[Citation] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    ticket_id: str | None = None  # set when this turn handed the conversation to a human
    latency_ms: float = 0.0
    redacted_text: str = ""  # the customer message as stored (after redaction)

    def to_json(self) -> dict:
        """The `assistant ask --json` object."""
        return {
            "reply": self.reply,
            "source": self.source,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "citations": [asdict(c) for c in self.citations],
            "candidates": [asdict(c) for c in self.candidates],
            "latency_ms": round(self.latency_ms, 2),
            "conversation_id": self.conversation_id,
            "reason": self.reason,
            "top_intents": [[label, round(p, 4)] for label, p in self.top_intents],
            "ticket_id": self.ticket_id,
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
