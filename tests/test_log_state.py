"""assistant/log/state.py: one derivation of a conversation's state from its stored turns."""

from __future__ import annotations

from assistant.log.state import ConversationState, history_of, low_confidence_streak
from assistant.reply import TurnRecord


def turn(seq: int, role: str, text: str = "...", source: str | None = None) -> TurnRecord:
    return TurnRecord(f"t{seq}", role, text, "2026-01-01T00:00:00.000Z", source=source, seq=seq)


def test_history_is_what_the_customer_saw_in_order():
    turns = [
        turn(1, "customer", "hi, I'm Ann"),
        turn(2, "assistant", "Hello Ann!", "ranker"),
        turn(3, "customer", "a person please"),
        turn(4, "assistant", "Handing you over.", "handoff"),
        turn(5, "customer", "hello?"),
        turn(6, "assistant", "(bot muted)", "muted"),  # never shown
        turn(7, "agent", "Hi, Ana here."),
        turn(8, "customer", ""),
    ]
    assert history_of(turns) == [
        ("customer", "hi, I'm Ann"),
        ("assistant", "Hello Ann!"),
        ("customer", "a person please"),
        ("assistant", "Handing you over."),
        ("customer", "hello?"),
        ("agent", "Hi, Ana here."),
    ]


def test_the_streak_counts_clarifications_in_a_row_at_the_end():
    clarify = "clarify"
    assert low_confidence_streak([]) == 0
    assert (
        low_confidence_streak(
            [
                turn(1, "customer"),
                turn(2, "assistant", source=clarify),
                turn(3, "customer"),
                turn(4, "assistant", source="ranker"),
                turn(5, "customer"),
                turn(6, "assistant", source=clarify),
                turn(7, "customer"),
                turn(8, "assistant", source=clarify),
                turn(9, "customer"),
            ]
        )
        == 2
    )
    # A handoff or an agent's reply ends the run: after a hand-back the count starts again.
    for breaker in (turn(3, "assistant", source="handoff"), turn(3, "agent")):
        turns = [turn(1, "assistant", source=clarify), turn(2, "customer"), breaker]
        assert low_confidence_streak(turns) == 0
        assert low_confidence_streak([*turns, turn(4, "assistant", source=clarify)]) == 1


def test_state_from_rows():
    turns = [turn(4, "customer", "huh"), turn(5, "assistant", "Which one?", "clarify")]
    assert ConversationState.from_rows("bot", turns) == ConversationState(
        status="bot",
        history=[("customer", "huh"), ("assistant", "Which one?")],
        low_streak=1,
        last_seq=5,
    )
    assert ConversationState.from_rows(None, []) == ConversationState(status=None)
