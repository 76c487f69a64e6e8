"""Limits on what a customer can send: message length, blank messages, conversation ids.

    >>> is_blank(" \\u200b\\u2060 ")                    # zero-width characters only
    True
    >>> cut("Hello there", 5)                          # (what the models see, characters left out)
    ('Hello', 6)
    >>> check_conversation_id_format("NH-48213")
    'NH-48213'

- A message is cut to `MAX_MESSAGE_CHARS` characters: the models see (and the log stores) the
  first part only, and the log records how many characters were left out (`turns.cut_chars`).
  The models read at most 128 tokens of a message, so a longer one only costs time (a 100,000
  character message took 3-4 s to answer).
- A message with nothing visible in it (whitespace, zero-width and other format characters,
  control characters) is refused: it is neither answered nor logged.
- A conversation id a caller chooses (`assistant ask --conversation ID`) has 1 to
  `MAX_CONVERSATION_ID_CHARS` characters from `A-Z a-z 0-9 . _ : -`, starting with a letter or
  digit. It is a key, stored and printed as it is, so nothing else is accepted; a refused id is
  shown escaped (`safe_repr`), never as it was typed.
"""

from __future__ import annotations

import re
import unicodedata

from assistant.errors import ConfigError

MAX_MESSAGE_CHARS = 2000  # characters of a customer message the models see and the log keeps
MAX_CONVERSATION_ID_CHARS = 64  # a uuid4 hex is 32; order and ticket numbers are far shorter

_CONVERSATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
# Letters Unicode draws as blank space although they are not whitespace or format characters.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _invisible(char: str) -> bool:
    return (
        char.isspace()
        or char in _BLANK_LETTERS
        or unicodedata.category(char) in ("Cc", "Cf")  # controls; zero-width and bidi marks
    )


def is_blank(text: str) -> bool:
    """True when `text` shows nothing: only whitespace, zero-width, format or control characters.

    >>> is_blank("\\ufeff\\u200d\\t"), is_blank("ok\\u200b")
    (True, False)
    """
    return all(_invisible(char) for char in text)


def cut(text: str, limit: int = MAX_MESSAGE_CHARS) -> tuple[str, int]:
    """`text` cut to at most `limit` characters, and how many characters were left out.

    A cut never ends inside a redaction placeholder such as "[EMAIL]" (it stops before it), so
    cut text that was redacted stays redacted; it also keeps a surrogate pair whole.

    >>> cut("card [CARD] ok", 8)
    ('card ', 9)
    """
    if len(text) <= limit:
        return text, 0
    end = limit
    opening = text.rfind("[", max(0, end - 8), end)
    if opening != -1 and "]" not in text[opening:end]:
        end = opening  # "[CAR" would be neither the placeholder nor the text
    if end and "\ud800" <= text[end - 1] <= "\udbff":
        end -= 1
    return text[:end], len(text) - end


def safe_repr(value: str, limit: int = 40) -> str:
    """`value` quoted for an error message: escape codes and invisible characters escaped.

    Python's `repr` escapes every non-printable character (`\\x1b`, `\\u202e`, ...), so what a
    caller typed cannot drive the terminal it is echoed to; a long value is shortened.

    >>> safe_repr("\\x1b]0;pwned\\x07")
    "'\\\\x1b]0;pwned\\\\x07'"
    """
    if len(value) > limit:
        return repr(value[:limit]) + f"… ({len(value)} characters)"
    return repr(value)


def check_conversation_id_format(conversation_id: object) -> str:
    """Return `conversation_id`, or raise `ConfigError` when it is not a valid id.

    Valid: 1 to `MAX_CONVERSATION_ID_CHARS` characters from `A-Z a-z 0-9 . _ : -`, starting
    with a letter or digit (uuid hex, "NH-48213", "web:2024-05-01:17").
    """
    if not isinstance(conversation_id, str):
        raise ConfigError(f"Conversation id must be text, got {type(conversation_id).__name__}.")
    if len(conversation_id) > MAX_CONVERSATION_ID_CHARS or not _CONVERSATION_ID.fullmatch(
        conversation_id
    ):
        raise ConfigError(
            f"Conversation id {safe_repr(conversation_id)} is not valid: use 1 to "
            f"{MAX_CONVERSATION_ID_CHARS} characters from A-Z, a-z, 0-9 and . _ : - starting "
            "with a letter or digit (for example a ticket or order number such as NH-48213), "
            "or leave the id out to start a new conversation."
        )
    return conversation_id


__all__ = [
    "MAX_CONVERSATION_ID_CHARS",
    "MAX_MESSAGE_CHARS",
    "check_conversation_id_format",
    "cut",
    "is_blank",
    "safe_repr",
]
