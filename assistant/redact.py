"""Redaction of personal data before a conversation turn reaches disk.

`redact` replaces e-mail addresses with `[EMAIL]`, phone numbers with `[PHONE]` and payment card
numbers with `[CARD]`, and reports which kinds it found:

    >>> redact("Card 4111 1111 1111 1111, mail jo@example.com, order NH-48213")
    ('Card [CARD], mail [EMAIL], order NH-48213', ['email', 'card'])

What counts as each kind is decided in `assistant.pii`, the detectors that reply templates
(`assistant.placeholders`) use too: international and national phone formats, Luhn-valid
cards; order and ticket numbers, dates, prices and short counts stay as written.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from assistant.errors import ConfigError
from assistant.pii import find_cards, find_emails, find_phones, replace_spans

# The placeholder written in place of each kind, in the order the kinds are reported.
PLACEHOLDERS = {"email": "[EMAIL]", "phone": "[PHONE]", "card": "[CARD]"}


@dataclass(frozen=True)
class RedactionConfig:
    """Which kinds of personal data `redact` replaces; everything is on by default."""

    emails: bool = True  # replace e-mail addresses with [EMAIL]
    phones: bool = True  # replace phone numbers (international and US formats) with [PHONE]
    cards: bool = True  # replace Luhn-valid card numbers of 13-19 digits with [CARD]

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, bool):
                raise ConfigError(f"RedactionConfig.{f.name}={value!r}: expected True or False.")


def redact(text: str, config: RedactionConfig | None = None) -> tuple[str, list[str]]:
    """Return `text` with personal data replaced, and the kinds found ("email", "phone", "card").

    `config` chooses the kinds (default: all). Kinds are listed once each, in the order
    email, phone, card. Redacting an already redacted text changes nothing.
    """
    config = config or _DEFAULT
    found = set()
    # Cards before phones: a card number with spaces must not be half-taken as a phone number.
    for kind, find, on in (
        ("email", find_emails, config.emails),
        ("card", find_cards, config.cards),
        ("phone", find_phones, config.phones),
    ):
        spans = find(text) if on else []
        if spans:
            text = replace_spans(text, spans, PLACEHOLDERS[kind])
            found.add(kind)
    return text, [kind for kind in PLACEHOLDERS if kind in found]


_DEFAULT = RedactionConfig()

__all__ = ["PLACEHOLDERS", "RedactionConfig", "redact"]
