"""Pure, seeded data preparation: dialogues in, training examples out."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.context import format_context
from training.data import Dialogue


@dataclass(frozen=True)
class RankExample:
    """One (context, reply) pair for the response ranker."""

    dialogue_id: str
    context: str  # formatted context, newest turn first (see assistant.context)
    reply: str  # the agent turn that followed
    intents: tuple[str, ...] = field(
        default_factory=tuple
    )  # intents of the customer turns in context


def ranking_examples(dialogues: list[Dialogue], context_turns: int) -> list[RankExample]:
    """Every agent turn that follows a customer turn is a target for the turns before it.

    >>> from training.data import Turn
    >>> d = Dialogue("c1", [Turn("customer", "hi", "greeting"), Turn("agent", "Hello!")])
    >>> ranking_examples([d], 3)[0].reply
    'Hello!'
    """
    out = []
    for d in dialogues:
        for i, t in enumerate(d.turns):
            if t.role != "agent" or i == 0 or d.turns[i - 1].role != "customer":
                continue
            ctx = d.turns[max(0, i - context_turns) : i]
            out.append(
                RankExample(
                    dialogue_id=d.id,
                    context=format_context([(c.role, c.text) for c in ctx]),
                    reply=t.text,
                    intents=tuple(c.intent for c in ctx if c.role == "customer" and c.intent),
                )
            )
    return out
