"""Redaction of personal data before a conversation turn reaches disk.

`redact` replaces e-mail addresses with `[EMAIL]`, phone numbers with `[PHONE]` and payment card
numbers with `[CARD]`, and reports which kinds it found:

    >>> redact("Card 4111 1111 1111 1111, mail jo@example.com, order NH-48213")
    ('Card [CARD], mail [EMAIL], order NH-48213', ['email', 'card'])

It runs on every turn, so the patterns are compiled once, each pass is skipped when the text
cannot contain what it looks for (no `@`, fewer than 7 digits), and no pattern backtracks more
than linearly. Card numbers must pass the Luhn check, so a 16-digit order or tracking number that
is not a card is left alone. Phone numbers need a phone-like shape (a leading `+`, a bracketed
area code, or digit groups joined by spaces, dots or dashes such as `555-010-4242`), so order
numbers (`NH-48213`), ticket numbers (`T-90412`), dates, prices and short counts stay as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from assistant.errors import ConfigError

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


_EMAIL = re.compile(
    # Starts only at a token boundary, so a long word without "@" is scanned once, not per letter.
    r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])"
)

# A maximal run of digit groups joined by single spaces or dashes: the only shape a card takes.
_DIGIT_RUN = re.compile(r"(?<!\d)\d++(?:[ -]\d++)*+", re.ASCII)
_DIGIT_GROUP = re.compile(r"\d+", re.ASCII)

_PHONE = re.compile(
    # Not inside a word, not after "+" or "/", and not the tail of a longer number ("4111 1111").
    r"(?<![\w+/-])(?<!\d[ .-])"
    r"(?:"
    # International: +CC then digits, bare or in groups, with an optional bracketed part.
    r"\+\d{7,15}+"
    r"|\+\d{1,3}+(?:(?:[ .-]|[ .-]?\(\d{1,4}+\)[ .-]?)\d{1,8}+){1,6}+"
    # US / NANP: optional 1, area code (bracketed or followed by a separator), 3 + 4 digits.
    r"|(?:1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}"
    # Local 7-digit number: 010-4242, 555.0199.
    r"|\d{3}[.-]\d{4}"
    # National numbers with a trunk 0: 020 7946 0958, 06 12 34 56 78, 030 1234567.
    r"|0\d{1,4}+(?:[ .-]\d{2,8}+){1,4}+"
    r")"
    # Not followed by more of the same number, a word character or a time ("01.05.2024 10:30").
    r"(?![\w/])(?![ .-]?\d)(?!:\d)",
    re.ASCII,
)

# Dates written with separators look like trunk-prefixed phone numbers (01-05-2024).
_DATE = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}", re.ASCII)
_DIGIT = re.compile(r"\d", re.ASCII)


def _luhn_ok(digits: str) -> bool:
    """True when `digits` passes the Luhn checksum used by every payment card number."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _redact_cards(text: str) -> tuple[str, bool]:
    """Replace every Luhn-valid 13-19 digit number (spaces or dashes allowed) with [CARD]."""
    out: list[str] = []
    last = 0
    found = False
    for run in _DIGIT_RUN.finditer(text):
        groups = list(_DIGIT_GROUP.finditer(run.group()))
        if sum(len(g.group()) for g in groups) < 13:
            continue
        # A run can hold a card plus neighbouring numbers ("4111 1111 1111 1111 12 25"): take,
        # left to right, the longest Luhn-valid window of whole groups with 13-19 digits.
        i = 0
        while i < len(groups):
            best = None
            digits = ""
            for j in range(i, len(groups)):
                digits += groups[j].group()
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and _luhn_ok(digits):
                    best = j
            if best is None:
                i += 1
                continue
            start = run.start() + groups[i].start()
            end = run.start() + groups[best].end()
            out.append(text[last:start])
            out.append(PLACEHOLDERS["card"])
            last = end
            found = True
            i = best + 1
    if not found:
        return text, False
    out.append(text[last:])
    return "".join(out), True


def _phone_or_keep(match: re.Match[str]) -> str:
    """The [PHONE] placeholder for a phone-shaped match, or the match itself when it is not one."""
    s = match.group()
    n_digits = len(_DIGIT.findall(s))
    if not 7 <= n_digits <= 15 or _DATE.fullmatch(s):
        return s
    return PLACEHOLDERS["phone"]


def redact(text: str, config: RedactionConfig | None = None) -> tuple[str, list[str]]:
    """Return `text` with personal data replaced, and the kinds found ("email", "phone", "card").

    `config` chooses the kinds (default: all). Kinds are listed once each, in the order
    email, phone, card. Redacting an already redacted text changes nothing.
    """
    config = config or _DEFAULT
    kinds: list[str] = []
    if config.emails and "@" in text:
        text, n = _EMAIL.subn(PLACEHOLDERS["email"], text)
        if n:
            kinds.append("email")
    # Cards before phones: a card number with spaces must not be half-taken as a phone number.
    card_found = False
    if (config.cards or config.phones) and len(_DIGIT.findall(text)) >= 7:
        if config.cards:
            text, card_found = _redact_cards(text)
        if config.phones:
            new = _PHONE.sub(_phone_or_keep, text)
            if new != text:
                kinds.append("phone")
                text = new
    if card_found:
        kinds.append("card")
    return text, kinds


_DEFAULT = RedactionConfig()

__all__ = ["PLACEHOLDERS", "RedactionConfig", "redact"]
