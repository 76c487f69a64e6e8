"""A conversation's state, derived from its stored rows in one way for every reader.

The log is the one source of truth for a conversation: the service reads this state before
every message, whether the conversation started in this process, in another one (`assistant ask
--conversation`, an agent's console) or before a restart. Nothing here is kept in memory between
messages, so an agent's reply or a hand-back made elsewhere counts at once.

The rule for history: the engine sees the text **as stored**, that is after redaction, live and
after a reload alike. Slots the customer gave survive (names, order and ticket numbers are not
redacted); e-mail addresses, phone numbers and the other kinds the log redacts reach the engine
as placeholders such as `[EMAIL]`, so the bot never repeats personal data the log would not keep,
and it sees the same text the retraining export gives the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.reply import TurnRecord
from assistant.signals import customer_signal

HISTORY_TURNS = 100  # the engine sees at most this many stored turns (one bounded read a message)


def history_of(turns: Sequence[TurnRecord]) -> list[tuple[str, str]]:
    """The (role, text) turns the engine sees: every stored turn the customer saw, oldest first.

    Muted assistant turns (never shown) and empty texts are left out.

    >>> history_of([TurnRecord("1", "customer", "hi", ""), TurnRecord("2", "assistant", "", "")])
    [('customer', 'hi')]
    """
    return [(t.role, t.text) for t in turns if t.text and t.source != "muted"]


# Replies that count as unhelpful (as `assistant.engine.UNHELPFUL_SOURCES`).
UNHELPFUL_SOURCES = ("clarify", "fallback", "oos")


def unhelpful_streak(turns: Sequence[TurnRecord]) -> int:
    """Unhelpful exchanges in a row at the end of `turns` (the engine's handoff counter).

    An exchange (a customer message and the bot's reply) is unhelpful when the reply asked to
    clarify, fell back or said out of scope, when the customer rated it bad, or when the
    customer's message was the same question again or frustration
    (`assistant.signals.customer_signal`, the test the engine applies live). Any other reply
    ends the run, and so do a handoff, an agent's turn and a muted one (a person had the
    conversation), so a hand-back starts from zero.

    >>> def t(role, source=None, text="...", rating=None):
    ...     return TurnRecord("", role, text, "", source=source, rating=rating)
    >>> unhelpful_streak([t("assistant", "ranker"), t("customer"), t("assistant", "clarify"),
    ...                   t("customer"), t("assistant", "oos"), t("customer")])
    2
    >>> unhelpful_streak([t("assistant", "clarify"), t("agent"), t("customer")])
    0
    >>> unhelpful_streak([t("customer", text="where is my order"), t("assistant", "ranker"),
    ...                   t("customer", text="where is my order?"), t("assistant", "ranker"),
    ...                   t("customer", text="hi"), t("assistant", "kb", rating=-1)])
    2
    """
    streak = 0
    previous: str | None = None  # the customer's message before the current one
    signal: str | None = None  # what the current customer message says
    for turn in turns:
        if turn.role == "customer":
            signal = customer_signal(turn.text, previous, streak)
            previous = turn.text
        elif turn.role != "assistant" or turn.source in ("handoff", "muted"):
            streak, signal = 0, None  # a person answered, has the conversation, or was called
        else:
            unhelpful = turn.source in UNHELPFUL_SOURCES or turn.rating == -1 or signal
            streak = streak + 1 if unhelpful else 0
            signal = None
    return streak


# The name this counter had when it counted clarifying replies only.
low_confidence_streak = unhelpful_streak


@dataclass(frozen=True)
class ConversationState:
    """What the assistant knows of one conversation, derived from the log alone."""

    status: str | None  # "bot" | "human" | "closed"; None when the log has no such conversation
    history: list[tuple[str, str]] = field(default_factory=list)  # what the engine sees
    low_streak: int = 0  # unhelpful exchanges in a row at the end (`unhelpful_streak`)
    last_seq: int = 0  # seq of the newest stored turn (0 without turns)

    @classmethod
    def from_rows(cls, status: str | None, turns: Sequence[TurnRecord]) -> ConversationState:
        """The state of a conversation with `status` whose newest stored turns are `turns`."""
        return cls(
            status=status,
            history=history_of(turns),
            low_streak=unhelpful_streak(turns),
            last_seq=turns[-1].seq if turns else 0,
        )
