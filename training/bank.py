"""The response bank: the company's reusable agent replies, built from training dialogues.

Agent turns are turned into templates (names, order numbers... become placeholders),
deduplicated, and kept with how often they were used and which intents they answered.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from assistant.placeholders import templatize
from training.data import Dialogue


def build_bank(
    dialogues: list[Dialogue], max_entries: int = 5000, min_count: int = 1
) -> list[dict]:
    """Bank entries, most used first: `{"text", "count", "intents": {intent: n}}`.

    The intents of a reply are those of the latest customer turn with an intent before it.

    >>> from training.data import Turn
    >>> d = Dialogue("c1", [Turn("customer", "refund?", "refund_status"),
    ...                     Turn("agent", "Hi Sam, refunds take 5-10 days.")])
    >>> build_bank([d])[0]["text"]
    'Hi {name}, refunds take 5-10 days.'
    """
    counts: Counter[str] = Counter()
    intents: dict[str, Counter[str]] = defaultdict(Counter)
    for d in dialogues:
        last_intent = None
        for i, t in enumerate(d.turns):
            if t.role == "customer":
                last_intent = t.intent or last_intent
                continue
            if i == 0 or d.turns[i - 1].role != "customer":
                continue
            text = templatize(t.text)
            counts[text] += 1
            if last_intent:
                intents[text][last_intent] += 1
    entries = [
        {"text": text, "count": n, "intents": dict(intents[text].most_common())}
        for text, n in counts.most_common()
        if n >= min_count
    ]
    return entries[:max_entries]
