"""Redaction of personal data before a conversation turn reaches disk.

`redact` replaces e-mail addresses with `[EMAIL]`, phone numbers with `[PHONE]`, payment card
numbers with `[CARD]`, IBANs with `[IBAN]` and US social security numbers with `[SSN]`, and
reports which kinds it found:

    >>> redact("Card 4111 1111 1111 1111, mail jo@example.com, order NH-48213")
    ('Card [CARD], mail [EMAIL], order NH-48213', ['email', 'card'])

What counts as each kind is decided in `assistant.pii`, the detectors that reply templates
(`assistant.placeholders`) use too: international and national phone formats, Luhn-valid
cards, IBANs with a valid checksum; order and ticket numbers, dates, prices and short counts
stay as written. docs/privacy.md has the table of what is and is not redacted.

Conversation ids are keys, stored and shown as they are, so `check_conversation_id` refuses
an id chosen by a caller (`assistant ask --conversation ID`) that holds personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from assistant.errors import ConfigError
from assistant.limits import MAX_CONVERSATION_ID_CHARS, check_conversation_id_format
from assistant.pii import (
    find_cards,
    find_emails,
    find_ibans,
    find_phones,
    find_ssns,
    replace_spans,
)

# The placeholder written in place of each kind, in the order the kinds are reported.
PLACEHOLDERS = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "card": "[CARD]",
    "iban": "[IBAN]",
    "ssn": "[SSN]",
}


@dataclass(frozen=True)
class RedactionConfig:
    """Which kinds of personal data `redact` replaces; everything is on by default."""

    emails: bool = True  # replace e-mail addresses with [EMAIL]
    phones: bool = True  # replace phone numbers (international and US formats) with [PHONE]
    cards: bool = True  # replace Luhn-valid card numbers of 13-19 digits with [CARD]
    ibans: bool = True  # replace IBANs with a valid mod-97 checksum with [IBAN]
    ssns: bool = True  # replace US social security numbers (123-45-6789) with [SSN]

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, bool):
                raise ConfigError(f"RedactionConfig.{f.name}={value!r}: expected True or False.")


def redact(text: str, config: RedactionConfig | None = None) -> tuple[str, list[str]]:
    """Return `text` with personal data replaced, and the kinds found.

    `config` chooses the kinds (default: all). Kinds are listed once each, in the order
    email, phone, card, iban, ssn. Redacting an already redacted text changes nothing.
    """
    config = config or _DEFAULT
    found = set()
    # Longest shapes first: an IBAN's digits must not be half-taken as a card, and a card or
    # an SSN must not be half-taken as a phone number.
    for kind, find, on in (
        ("email", find_emails, config.emails),
        ("iban", find_ibans, config.ibans),
        ("card", find_cards, config.cards),
        ("ssn", find_ssns, config.ssns),
        ("phone", find_phones, config.phones),
    ):
        spans = find(text) if on else []
        if spans:
            text = replace_spans(text, spans, PLACEHOLDERS[kind])
            found.add(kind)
    return text, [kind for kind in PLACEHOLDERS if kind in found]


_DEFAULT = RedactionConfig()

# The ids the log makes itself (`new_id`: uuid4 hex) hold no personal data even when a run of
# their digits happens to pass a checksum, so they are not inspected.
_GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def check_conversation_id(conversation_id: str, config: RedactionConfig | None = None) -> str:
    """Return `conversation_id` unchanged, or raise `ConfigError` when it holds personal data.

    A conversation id is a key: it is stored, exported and printed as it is, never redacted
    (two addresses would otherwise become the same "[EMAIL]" conversation). An id that is an
    e-mail address, phone number, card, IBAN or SSN is therefore refused before anything is
    written. The message shows the id redacted, so the refusal does not print it either.

    An id must also have the form `assistant.limits.check_conversation_id_format` allows.

    >>> check_conversation_id("NH-48213")
    'NH-48213'
    """
    if _GENERATED_ID.fullmatch(conversation_id):
        return conversation_id
    # Personal data first: the format check below echoes the id (escaped), this one does not.
    shown, kinds = redact(conversation_id[: 4 * MAX_CONVERSATION_ID_CHARS], config)
    if kinds:
        raise ConfigError(
            f"Conversation id {shown!r} contains personal data ({', '.join(kinds)}). "
            "Conversation ids are stored in clear in the log, so this one was refused; "
            "use an id without an e-mail address, phone, card, IBAN or SSN (for example a "
            "ticket or order number), or leave the id out to start a new conversation."
        )
    return check_conversation_id_format(conversation_id)


__all__ = ["PLACEHOLDERS", "RedactionConfig", "check_conversation_id", "redact"]
