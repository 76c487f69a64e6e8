"""Finding personal data in text: e-mail addresses, phone numbers, payment cards, IBANs, SSNs.

One set of detectors for every place that looks for them: `assistant.redact` replaces what
they find before a turn reaches disk, and `assistant.placeholders` turns a customer's address
or number in an agent reply into `{email}` / `{phone}` and reads the values back from what the
customer wrote. Each `find_*` returns the (start, end) spans of its matches, left to right and
not overlapping; `replace_spans` puts a placeholder in their place:

    >>> text = "mail jo@example.com or call +44 20 7946 0958 about order NH-48213"
    >>> [text[start:end] for find in (find_emails, find_phones) for start, end in find(text)]
    ['jo@example.com', '+44 20 7946 0958']

They run on every string the log stores, so the patterns are compiled once, each search is
skipped when the text cannot contain what it looks for (no `@`, too few digits), the digit
detectors share one scan for "number stretches" and try their full patterns only inside them
(a pattern that opens with a lookbehind is tried at every position of a long message), e-mail
addresses are looked for only around each `@`, and no pattern backtracks more than linearly.

- E-mail: local part, `@` (spaces around it allowed: `jo @ example.com`), a domain whose last
  label has two letters or more.
- Card: 13-19 digits that pass the Luhn check and do not start with 0, 1, 20 or 21 (no card
  network issues those), bare or in groups of 4 or more digits (the last group may be shorter)
  joined by a space, two spaces, `-`, `.`, `/`, or `" - "` / `" / "`; a 16-digit order or
  tracking number that fails the Luhn check is left alone.
- IBAN: a country code, two check digits and the account part, bare or in groups of four
  (`GB82 WEST 1234 5698 7654 32`), with the length of that country's IBAN and a valid
  mod-97 checksum (ISO 13616), any letter case.
- US social security number (and ITIN): `123-45-6789` or `123 45 6789`; the numbers the SSA
  never issues (area 000 or 666, group 00, serial 0000) are not taken. Nine bare digits are not.
- Phone: 7-15 digits in a phone-like shape: a leading `+` (international, any country), a
  bracketed area code, US/NANP groups (`555-010-4242`, `555-0104242`), a 7-digit local number
  (`010-4242`), a national number with a trunk 0 (`020 7946 0958`, `06 12 34 56 78`), or a
  bare 10-digit NANP number (`5550104242`, `15550104242`) or 10-11 digits with a trunk 0
  (`07700900123`) unless a label such as "order", "ticket", "invoice", "tracking" or `#` comes
  right before it. Order numbers (`NH-48213`), ticket numbers (`T-90412`), dates
  (`01.05.2024`, `2024-05-01`), times, prices (`$1,299.00`), version numbers, IP addresses and
  short counts stay as written.
"""

from __future__ import annotations

import functools
import re

Span = tuple[int, int]  # [start, end) of a match in the text

# -- e-mail -----------------------------------------------------------------------------------

# The part after "@": optional spaces ("jo @ example.com"), labels, a last label of 2+ letters.
_EMAIL_DOMAIN = re.compile(r" {0,2}+[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
# The part before "@", matched on the reversed text from the "@" leftwards: optional spaces,
# then the whole local part (possessive: it stops where the address starts).
_EMAIL_LOCAL_REVERSED = re.compile(r" {0,2}+([\w.%+-]++)")

# -- digits and number stretches ----------------------------------------------------------------


def _digit_count(text: str) -> int:
    """ASCII digits in `text` (the digits every pattern here means by `\\d`).

    bytes.translate deletes in C at memory speed: tens of times faster than a regex findall on a
    long message, and a fraction of a microsecond on a short one.
    """
    data = text.encode("utf-8", "surrogatepass")
    return len(data) - len(data.translate(None, b"0123456789"))


# A stretch of the characters a card, SSN or phone number is written with, starting on a digit,
# "(" or "+". Every such number lies inside one stretch, and an IBAN's check digits start one
# ("GB82 WEST ...": the letters before them end the previous stretch). The digit detectors look
# only inside stretches: scanning a long message once with a pattern that opens on a character
# class is cheap, trying the full patterns (which open with lookbehinds) at every position is not.
_STRETCH = re.compile(r"[\d(+][\d()+ ./-]*", re.ASCII)


@functools.lru_cache(maxsize=4)
def _stretches(text: str) -> tuple[Span, ...]:
    """Spans of the number stretches of `text`, shared by the detectors that run on the same
    text one after the other (`redact` calls four of them; most texts hold no personal data, so
    they all see the same string)."""
    return tuple(m.span() for m in _STRETCH.finditer(text))


# -- cards ------------------------------------------------------------------------------------

# A maximal run of digit groups joined by card separators: one or two spaces, or "-", "." or
# "/" with at most a space on each side. Searched inside a stretch, finditer starts each run on
# its first digit (the previous run took every digit before it), so no lookbehind is needed.
_CARD_SEP = r"(?: {1,2}|(?: ?[-./] ?))"
_DIGIT_RUN = re.compile(rf"\d++(?:{_CARD_SEP}\d++)*+", re.ASCII)
_DIGIT_GROUP = re.compile(r"\d+", re.ASCII)
_CARD_MIN_GROUP = 4  # every group of a written card but its last has 4 or more digits
# No card network issues numbers starting with these (0: none; 1: airline UATP only; 20, 21:
# unassigned, below Mir's 2200 and Mastercard's 2221); it keeps "2023 2024 2025 2026" as written.
_NOT_CARD_PREFIXES = ("0", "1", "20", "21")

# -- IBAN -------------------------------------------------------------------------------------

# IBAN length per country (SWIFT IBAN registry). A code not listed is not taken as an IBAN.
# fmt: off
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}
# fmt: on
# A country code at a word start, right before a stretch that opens with the check digits.
_IBAN_COUNTRY = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d\d", re.ASCII)
# Up to 34 characters in tokens joined by single spaces, from the country code on.
_IBAN_RUN = re.compile(r"[A-Za-z0-9]++(?: [A-Za-z0-9]++){0,8}+", re.ASCII)

# -- SSN --------------------------------------------------------------------------------------

# 3-2-4 digits with one kind of separator, not inside a longer number or word.
_SSN = re.compile(r"(?<![\w-])(?<!\d[ .-])\d{3}([ -])\d\d\1\d{4}(?![\w-])(?![ .]?\d)", re.ASCII)

# -- phones -----------------------------------------------------------------------------------

_PHONE = re.compile(
    # Not inside a word, not after "+" or "/", and not the tail of a longer number ("4111 1111").
    r"(?<![\w+/-])(?<!\d[ .-])"
    r"(?:"
    # International: +CC then digits, bare or in groups, with an optional bracketed part.
    r"\+\d{7,15}+"
    r"|\+\d{1,3}+(?:(?:[ .-]|[ .-]?\(\d{1,4}+\)[ .-]?)\d{1,8}+){1,6}+"
    # US / NANP: optional 1, area code (bracketed or followed by a separator), 3 + 4 digits,
    r"|(?:1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}"
    # or 3 + 7 digits: 555-0104242.
    r"|(?:1[ .-]?)?\d{3}[ .-]\d{7}"
    # Local 7-digit number: 010-4242, 555.0199.
    r"|\d{3}[.-]\d{4}"
    # National numbers with a trunk 0: 020 7946 0958, 06 12 34 56 78, 030 1234567.
    r"|0\d{1,4}+(?:[ .-]\d{2,8}+){1,4}+"
    # Bare digits: NANP 5550104242 / 15550104242, or a trunk 0 and 9-10 digits.
    r"|(?P<bare>1?[2-9]\d{9}|0[1-9]\d{8,9})"
    r")"
    # Not followed by more of the same number, a word character or a time ("01.05.2024 10:30").
    r"(?![\w/])(?![ .-]?\d)(?!:\d)",
    re.ASCII,
)
# Bare digits right after one of these are a reference, not a phone: "order 5550104242",
# "tracking no. 9400111899", "#2025010001".
_REFERENCE_LABEL = re.compile(
    r"(?:\b(?:order|ticket|invoice|tracking|parcel|package|shipment|booking|confirmation"
    r"|reference|ref|serial|sku|model|case|po)(?:\W{1,3}(?:number|no|num|nr|id|code)\b)?"
    r"|\#)\W{0,3}$",
    re.IGNORECASE,
)
_LABEL_WINDOW = 40  # characters before a bare number searched for a reference label

# Dates written with separators look like trunk-prefixed phone numbers (01-05-2024, and with
# spaces when a year ends them: 01 05 2024).
_DATE = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}|\d{1,2} \d{1,2} (?:19|20)\d\d", re.ASCII)
_MIN_DIGITS = 7  # the fewest digits of a phone number; a card or IBAN has more


def find_emails(text: str) -> list[Span]:
    """Spans of e-mail addresses, also with spaces around the `@`.

    >>> find_emails("jo@example.com, ann @ example.org, not jo@localhost")
    [(0, 14), (16, 33)]
    """
    at = text.find("@")
    if at < 0:
        return []
    reversed_text = text[::-1]
    n = len(text)
    spans: list[Span] = []
    while at >= 0:
        local = _EMAIL_LOCAL_REVERSED.match(reversed_text, n - at)
        domain = _EMAIL_DOMAIN.match(text, at + 1)
        start = at - (local.end() - local.start()) if local else at
        if local and domain and (not spans or start >= spans[-1][1]):
            spans.append((start, domain.end()))
            at = text.find("@", domain.end())
        else:
            at = text.find("@", at + 1)
    return spans


def find_phones(text: str) -> list[Span]:
    """Spans of phone numbers, international and national formats.

    >>> find_phones("call 06 12 34 56 78, not order NH-48213 or 2024-05-01")
    [(5, 19)]
    """
    if _digit_count(text) < _MIN_DIGITS:
        return []
    spans = []
    n = len(text)
    for start, end in _stretches(text):
        if end - start < _MIN_DIGITS:
            continue
        # The lookarounds see the real text around the stretch: two characters past its end
        # are enough for the trailing checks.
        for m in _PHONE.finditer(text, start, min(n, end + 2)):
            number = m.group()
            if not _MIN_DIGITS <= _digit_count(number) <= 15 or _DATE.fullmatch(number):
                continue
            if m.group("bare") and _REFERENCE_LABEL.search(
                text, max(0, m.start() - _LABEL_WINDOW), m.start()
            ):
                continue
            spans.append(m.span())
    return spans


def find_cards(text: str) -> list[Span]:
    """Spans of Luhn-valid payment card numbers of 13-19 digits.

    >>> find_cards("card 4111.1111.1111.1111 exp 12/25, order 4111 1111 1111 1112")
    [(5, 24)]
    """
    if _digit_count(text) < 13:
        return []
    spans = []
    for start, end in _stretches(text):
        if end - start < 13:
            continue
        for run in _DIGIT_RUN.finditer(text, start, end):
            spans += _cards_in(run)
    return spans


def _cards_in(run: re.Match[str]) -> list[Span]:
    """A run can hold a card plus neighbouring numbers ("4111 1111 1111 1111 12 25"): take,
    left to right, the longest Luhn-valid window of whole groups with 13-19 digits in which
    every group but the last has 4 or more digits (dates and amounts have shorter groups)."""
    if run.end() - run.start() < 13:
        return []
    groups = [g.span() for g in _DIGIT_GROUP.finditer(run.group())]
    if sum(end - start for start, end in groups) < 13:
        return []
    found = []
    text = run.group()
    i = 0
    while i < len(groups):
        best = None
        digits = ""
        for j in range(i, len(groups)):
            if j > i and groups[j - 1][1] - groups[j - 1][0] < _CARD_MIN_GROUP:
                break
            digits += text[groups[j][0] : groups[j][1]]
            if len(digits) > 19:
                break
            if len(digits) >= 13 and _luhn_ok(digits) and not digits.startswith(_NOT_CARD_PREFIXES):
                best = j
        if best is None:
            i += 1
            continue
        found.append((run.start() + groups[i][0], run.start() + groups[best][1]))
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


def find_ibans(text: str) -> list[Span]:
    """Spans of IBANs with a valid length for their country and a valid mod-97 checksum.

    >>> find_ibans("IBAN GB82 WEST 1234 5698 7654 32, or DE89370400440532013000.")
    [(5, 32), (37, 59)]
    """
    if len(text) < 15:
        return []
    spans: list[Span] = []
    for digits, _ in _stretches(text):
        start = digits - 2
        if start < 0 or (spans and start < spans[-1][1]):
            continue
        if _IBAN_COUNTRY.match(text, start):
            end = _iban_end(text, start)
            if end:
                spans.append((start, end))
    return spans


def _iban_end(text: str, start: int) -> int | None:
    """End of the IBAN starting at `start`, or None: one bare token, or groups of four with a
    shorter last group, exactly as long as the country's IBAN."""
    run = _IBAN_RUN.match(text, start)
    if run is None:
        return None
    tokens = run.group().split(" ")
    length = IBAN_LENGTHS.get(tokens[0][:2].upper())
    if length is None:
        return None
    if len(tokens[0]) == length:
        return start + length if _iban_ok(tokens[0]) else None
    if len(tokens[0]) != 4:
        return None
    compact = ""
    end = start - 1  # each token adds a separator before it
    for token in tokens:
        if len(compact) % 4 or len(token) > 4:  # a short group must be the last one
            return None
        compact += token
        end += 1 + len(token)
        if len(compact) >= length:
            return end if len(compact) == length and _iban_ok(compact) else None
    return None


def _iban_ok(iban: str) -> bool:
    """The ISO 13616 check: country code and check digits moved to the end, letters as 10-35,
    the number modulo 97 is 1."""
    moved = (iban[4:] + iban[:4]).upper()
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def find_ssns(text: str) -> list[Span]:
    """Spans of US social security numbers (and ITINs) written 3-2-4 with dashes or spaces.

    >>> find_ssns("SSN 123-45-6789, not 000-12-3456 or 123456789")
    [(4, 15)]
    """
    if _digit_count(text) < 9:
        return []
    spans = []
    n = len(text)
    for start, end in _stretches(text):
        if end - start < 11:
            continue
        for m in _SSN.finditer(text, start, min(n, end + 2)):
            area, group, serial = m.group()[:3], m.group()[4:6], m.group()[7:]
            if area not in ("000", "666") and group != "00" and serial != "0000":
                spans.append(m.span())
    return spans


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


__all__ = [
    "IBAN_LENGTHS",
    "Span",
    "find_cards",
    "find_emails",
    "find_ibans",
    "find_phones",
    "find_ssns",
    "replace_spans",
]
