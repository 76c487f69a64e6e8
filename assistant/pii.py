"""Finding personal data in text: e-mail addresses, phone numbers and payment card numbers.

One set of detectors for every place that looks for them: `assistant.redact` replaces what
they find before a turn reaches disk, and `assistant.placeholders` turns a customer's address
or number in an agent reply into `{email}` / `{phone}` and reads the values back from what the
customer wrote. Each `find_*` returns the (start, end) spans of its matches, left to right and
not overlapping; `replace_spans` puts a placeholder in their place:

    >>> text = "mail jo@example.com or call +44 20 7946 0958 about order NH-48213"
    >>> [text[start:end] for find in (find_emails, find_phones) for start, end in find(text)]
    ['jo@example.com', '+44 20 7946 0958']

They run on every turn, so the patterns are compiled once, each search is skipped when the
text cannot contain what it looks for (no `@`, fewer than 7 digits), and no pattern backtracks
more than linearly.

- E-mail: local part, `@`, a domain whose last label has two letters or more.
- Card: 13-19 digits, bare or in groups joined by single spaces or dashes, that pass the Luhn
  check, so a 16-digit order or tracking number that is not a card is left alone.
- Phone: 7-15 digits in a phone-like shape: a leading `+` (international, any country), a
  bracketed area code, US/NANP groups (`555-010-4242`), a 7-digit local number (`010-4242`),
  or a national number with a trunk 0 (`020 7946 0958`, `06 12 34 56 78`). Order numbers
  (`NH-48213`), ticket numbers (`T-90412`), dates (`01.05.2024`, `2024-05-01`), times,
  prices (`$1,299.00`), version numbers and short counts stay as written.
"""

from __future__ import annotations

import re

Span = tuple[int, int]  # [start, end) of a match in the text

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

# Dates written with separators look like trunk-prefixed phone numbers (01-05-2024, and with
# spaces when a year ends them: 01 05 2024).
_DATE = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}|\d{1,2} \d{1,2} (?:19|20)\d\d", re.ASCII)
_DIGIT = re.compile(r"\d", re.ASCII)
_MIN_DIGITS = 7  # the fewest digits of a phone number; a card has more


def find_emails(text: str) -> list[Span]:
    """Spans of e-mail addresses.

    >>> find_emails("jo@example.com, not jo@localhost")
    [(0, 14)]
    """
    if "@" not in text:
        return []
    return [m.span() for m in _EMAIL.finditer(text)]


def find_phones(text: str) -> list[Span]:
    """Spans of phone numbers, international and national formats.

    >>> find_phones("call 06 12 34 56 78, not order NH-48213 or 2024-05-01")
    [(5, 19)]
    """
    if len(_DIGIT.findall(text)) < _MIN_DIGITS:
        return []
    spans = []
    for m in _PHONE.finditer(text):
        number = m.group()
        if _MIN_DIGITS <= len(_DIGIT.findall(number)) <= 15 and not _DATE.fullmatch(number):
            spans.append(m.span())
    return spans


def find_cards(text: str) -> list[Span]:
    """Spans of Luhn-valid payment card numbers of 13-19 digits (spaces or dashes allowed).

    >>> find_cards("card 4111 1111 1111 1111 exp 12 25, order 4111 1111 1111 1112")
    [(5, 24)]
    """
    if len(_DIGIT.findall(text)) < 13:
        return []
    spans = []
    for run in _DIGIT_RUN.finditer(text):
        groups = [g.span() for g in _DIGIT_GROUP.finditer(run.group())]
        if sum(end - start for start, end in groups) < 13:
            continue
        spans += [(run.start() + start, run.start() + end) for start, end in _cards_in(run, groups)]
    return spans


def _cards_in(run: re.Match[str], groups: list[Span]) -> list[Span]:
    """A run can hold a card plus neighbouring numbers ("4111 1111 1111 1111 12 25"): take,
    left to right, the longest Luhn-valid window of whole groups with 13-19 digits."""
    found = []
    text = run.group()
    i = 0
    while i < len(groups):
        best = None
        digits = ""
        for j in range(i, len(groups)):
            digits += text[groups[j][0] : groups[j][1]]
            if len(digits) > 19:
                break
            if len(digits) >= 13 and _luhn_ok(digits):
                best = j
        if best is None:
            i += 1
            continue
        found.append((groups[i][0], groups[best][1]))
        i = best + 1
    return found


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


def replace_spans(text: str, spans: list[Span], placeholder: str) -> str:
    """`text` with each span (left to right, not overlapping) replaced by `placeholder`.

    >>> replace_spans("a 12 b 34", [(2, 4), (7, 9)], "#")
    'a # b #'
    """
    out = []
    last = 0
    for start, end in spans:
        out += [text[last:start], placeholder]
        last = end
    out.append(text[last:])
    return "".join(out)


__all__ = ["Span", "find_cards", "find_emails", "find_phones", "replace_spans"]
