"""How a conversation's recent turns become one text for the response ranker.

Newest turn first, so that truncation to the model's token limit drops the oldest turns.
Training (`training/prepare.py`) and the runtime engine both use this one function.
"""

from __future__ import annotations

ROLE_TAGS = {"customer": "customer:", "agent": "agent:", "assistant": "agent:"}


def format_context(turns: list[tuple[str, str]]) -> str:
    """Join (role, text) turns, oldest first in the input, newest first in the output.

    >>> format_context([("customer", "my cam is offline"), ("agent", "Which model?"),
    ...                 ("customer", "the doorbell")])
    'customer: the doorbell | agent: Which model? | customer: my cam is offline'
    """
    return " | ".join(f"{ROLE_TAGS.get(role, role + ':')} {text}" for role, text in reversed(turns))
