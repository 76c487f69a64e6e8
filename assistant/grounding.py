"""Grounded replies: every specific a sent reply states comes from this conversation or the KB.

A reply mined from the company's history may carry another customer's facts ("I've updated the
address on order NH-11176 to 298 Maple Street"). Before the bot sends a bank reply, the engine
lists the reply's *specifics* and checks that each one was written by this customer or is held
by the knowledge base; one that is not makes the reply ineligible.

Specifics (`specifics`):

    number  every token holding a digit: order, ticket and confirmation numbers, amounts
            ($129.99), times (11:30, 7am-10pm), house numbers, counts, "30-day"
    email   e-mail addresses; phone numbers (`assistant.pii` detectors), compared by digits
    date    a month name with its day ("September 3") and weekday names
    name    a run of capitalised words that is not just a sentence's first word ("Maple
            Street", "Bird Dog", "San Jose", "Nimbus Plus"); the words "I", "I'm"... and
            all-caps acronyms of up to four letters (ET, PIN, USB) are not names

Matching is on normalised tokens (case-folded, dashes unified, "$" and a possessive "'s"
dropped; digit tokens compared without separators, so NH-12345 matches "nh12345"), as a run
of words inside one customer message or KB passage: "maple street" is grounded by "I live on
Maple Street" but not by "Maple Road".

Known gaps (documented, not hidden): a one-word name that opens a sentence ("Bazille is
nice") is seen as a name only when a vocabulary of common words is given (training has one:
the words its corpus writes in lower case), and a number written in words ("three days") is
not a number.

    >>> g = Grounds.of(["I live at 742 Birch Road, my email is jo@example.com"])
    >>> ungrounded("I've noted 742 Birch Road and jo@example.com.", g)
    []
    >>> ungrounded("Done — the new address is 298 Maple Street, Arlington.", g)
    ['298', 'Maple Street', 'Arlington']
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from assistant.pii import find_emails, find_phones

_DASH_PAIRS = (("–", "-"), ("—", "-"), ("‑", "-"), ("‒", "-"), ("’", "'"), ("‘", "'"))
# A token: a word, a number, an address or an amount, with inner punctuation kept
# ("30-day", "11:30", "1,299.00", "jo@example.com", "7am-10pm").
_TOKEN = re.compile(r"\$?\w+(?:[.:'@/,+-]\w+)*")
_MONTHS = (
    "january february march april may june july august september october november december"
).split()
_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
# Capitalised words that are never a name on their own (pronoun forms, greetings).
_NOT_NAME = {"i", "i'm", "i've", "i'll", "i'd", "ok", "okay"}
# Words that open a sentence and are not part of the name after them ("Your Nimbus Cam").
_OPENERS = set(
    """a absolutely after all alright also an and any anything are as at before but by bye
    can certainly could dear do does done each enjoy every for from glad good goodbye got
    great happy have hello here hey hi how i if in is it its just let many may maybe my no
    not now of oh ok okay on once one our please perfect right see since so sorry sure
    thank thanks that the then there these they this those to unfortunately we welcome what
    when where which while who why will with would yes yup you your yours""".split()
)
# A list bullet at the end of the text before a word: "- ", "* ", "2. ".
_BULLET = re.compile(r"(?:^|\n)[ \t]*(?:[-*•]|\d+[.)])$")
_SEP = " | "  # between two texts in `Grounds.text`: no token is "|", so no run crosses it


def normalise(text: str) -> str:
    """Case-folded text with unified dashes and quotes.

    >>> normalise("Mon–Fri, 9am—6pm ET")
    'mon-fri, 9am-6pm et'
    """
    return _unify(text).casefold()


def _unify(text: str) -> str:
    """Dashes as "-" and curly quotes as "'" (chained `replace`: much faster than
    `str.translate` with a dict on long texts)."""
    for old, new in _DASH_PAIRS:
        if old in text:
            text = text.replace(old, new)
    return text


_DIGIT = re.compile(r"\d")
_NOT_ALNUM = re.compile(r"[^0-9a-z]")


def _key(token: str) -> str:
    """How a token is compared: digit tokens without separators, words without "'s"."""
    if token[0] == "$":
        token = token[1:]
    if "@" not in token and _DIGIT.search(token):
        return _NOT_ALNUM.sub("", token)
    return token[:-2] if token.endswith("'s") else token


def tokens(text: str) -> list[str]:
    """The comparison keys of `text`'s tokens, in order.

    >>> tokens("Order NH-12345 costs $1,299.00; Lina's cam")
    ['order', 'nh12345', 'costs', '129900', 'lina', 'cam']
    """
    return [_key(t) for t in _TOKEN.findall(normalise(text))]


@dataclass(frozen=True)
class Specific:
    """One specific a text states: its kind, its surface form, and the keys that must occur."""

    kind: str  # "number" | "email" | "phone" | "date" | "name"
    surface: str  # as written in the text
    keys: tuple[str, ...]  # comparison keys (see `tokens`); a phone is its digits


def specifics(text: str, common: Collection[str] | None = None) -> list[Specific]:
    """The specifics `text` states, left to right (see the module docstring).

    `common`: words known in lower case (case-folded), e.g. every word a corpus writes in lower
    case somewhere. With it, a capitalised word that opens a sentence and is not common is a
    name too ("Furusato is a nice restaurant").

    >>> [(s.kind, s.surface) for s in specifics("Your Nimbus Cam ships Wednesday, "
    ...     "September 3 to 12 Oak Lane; call 555-010-4242.")]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('name', 'Nimbus Cam'), ('date', 'Wednesday'), ('date', 'September 3'), ('number', '12'),
     ('name', 'Oak Lane'), ('phone', '555-010-4242')]
    """
    text = _unify(text)
    found: list[tuple[int, Specific]] = []
    taken: list[tuple[int, int]] = []
    for start, end in find_emails(text):
        surface = text[start:end]
        found.append((start, Specific("email", surface, (surface.replace(" ", "").lower(),))))
        taken.append((start, end))
    for start, end in find_phones(text):
        surface = text[start:end]
        found.append((start, Specific("phone", surface, (re.sub(r"\D", "", surface),))))
        taken.append((start, end))
    words = [m for m in _TOKEN.finditer(text) if not any(a <= m.start() < b for a, b in taken)]
    i = 0
    while i < len(words):
        m = words[i]
        word = m.group(0)
        low = word.casefold()
        if low in _MONTHS and i + 1 < len(words) and words[i + 1].group(0).isdigit():
            day = words[i + 1]
            if text[m.end() : day.start()].strip() == "":
                found.append(
                    (m.start(), Specific("date", text[m.start() : day.end()], (low, day.group(0))))
                )
                i += 2
                continue
        if low in _WEEKDAYS or low in _MONTHS:
            found.append((m.start(), Specific("date", word, (low,))))
            i += 1
            continue
        if any(ch.isdigit() for ch in word):
            found.append((m.start(), Specific("number", word, (_key(low),))))
            i += 1
            continue
        if _capitalised(word):
            j = i + 1  # a run of capitalised words, adjacent (one space or hyphen between)
            while (
                j < len(words)
                and _capitalised(words[j].group(0))
                and words[j].group(0).casefold() not in _MONTHS + _WEEKDAYS
                and text[words[j - 1].end() : words[j].start()] in (" ", "-")
            ):
                j += 1
            run = words[i:j]
            if _opens_sentence(text[: m.start()]):
                # The first word of a sentence is capitalised anyway: a name only when more
                # capitalised words follow it, and then without an ordinary opener word.
                if len(run) == 1 and (common is None or low in _OPENERS or _key(low) in common):
                    i = j
                    continue
                first = run[0].group(0).casefold()
                if len(run) > 1 and (first in _OPENERS or (common and _key(first) in common)):
                    run = run[1:]
            if run:
                surface = text[run[0].start() : run[-1].end()]
                keys = tuple(_key(w.group(0).casefold()) for w in run)
                found.append((run[0].start(), Specific("name", surface, keys)))
            i = j
            continue
        i += 1
    return [s for _, s in sorted(found, key=lambda p: p[0])]


def _opens_sentence(prefix: str) -> bool:
    """Whether a word after `prefix` starts a sentence: at the start, after . ! ? : ; or a
    line break, or after a list bullet (opening quotes, brackets and Markdown marks skipped)."""
    p = prefix.rstrip(" \t\"'“‘*_([")
    return not p or p[-1] in ".!?:;\n" or bool(_BULLET.search(p))


def _capitalised(word: str) -> bool:
    if not word[:1].isupper() or word.casefold() in _NOT_NAME:
        return False
    letters = [c for c in word if c.isalpha()]
    # ET, PIN, USB, FAQ: acronyms, not somebody's name or address
    return not (letters and all(c.isupper() for c in letters) and len(letters) <= 4)


MEMO_LIMIT = 100_000  # look-ups a base remembers before it starts over


@dataclass
class Grounds:
    """What a reply may state: the token runs of the customer's messages and the KB passages,
    plus the e-mail addresses and phone numbers (by digits) found there.

    Each text is kept as its comparison keys joined by spaces, the texts separated by a mark
    no key can match, so a run of words is looked for with one substring search (a whole
    KB is a few hundred kilobytes: microseconds per look-up, milliseconds to build)."""

    text: str = _SEP  # " key key | key key | " ...
    contacts: set[str] = field(default_factory=set)  # e-mail addresses, phone digits
    base: Grounds | None = None  # more grounds consulted too (a whole KB's, built once)
    # answers of `holds` when these grounds are another's `base`: a KB's are asked the same
    # few thousand look-ups turn after turn (the bank's specifics); emptied by `add`
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, texts: Iterable[str]) -> Grounds:
        """Grounds made of `texts` (customer messages, KB passages)."""
        g = cls()
        g.add(texts)
        return g

    def add(self, texts: Iterable[str]) -> Grounds:
        """Add the runs and contacts of `texts`; returns self."""
        self._memo.clear()
        parts = [self.text]
        for text in texts:
            parts.append(" ".join(tokens(text)) + _SEP)
            if "@" in text:
                for start, end in find_emails(text):
                    self.contacts.add(text[start:end].replace(" ", "").lower())
            for start, end in find_phones(text):
                self.contacts.add(re.sub(r"\D", "", text[start:end]))
        self.text = "".join(parts)
        return self

    def __bool__(self) -> bool:
        return self.text != _SEP or bool(self.contacts)

    def holds(self, s: Specific) -> bool:
        """Whether `s` occurs in the grounds (or in `base`)."""
        return self._holds(s) or (self.base is not None and self.base._remembered(s))

    def _remembered(self, s: Specific) -> bool:
        """`holds(s)`, remembered (these grounds are a base: they do not change between turns)."""
        key = (s.kind, s.keys)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            found = self._memo[key] = self.holds(s)
        return found

    def _holds(self, s: Specific) -> bool:
        if s.kind == "phone":  # with or without the country code
            return any(_same_number(s.keys[0], c) for c in self.contacts)
        if s.kind == "email" and s.keys[0] in self.contacts:
            return True
        return f" {' '.join(s.keys)} " in self.text


KB_READ_WHOLE = 30_000  # passages, at most, for a KB read whole (one search, one SQL query)


def kb_grounds(kb) -> Grounds:
    """Grounds of every passage of a knowledge base (`kb.KnowledgeBase`), read once through its
    public search: a dense search for all `len(kb)` passages. Empty for an object that cannot
    be searched that way (a test's stand-in) or a KB larger than `KB_READ_WHOLE`: the engine
    then grounds replies in the passages retrieved for each message."""
    import numpy as np

    search = getattr(kb, "search_embedding", None)
    n = len(kb) if hasattr(kb, "__len__") else 0
    if search is None or not n or n > KB_READ_WHOLE:
        return Grounds()
    probe = np.zeros(int(kb.dimension), dtype=np.float32)
    probe[0] = 1.0  # any unit vector: every passage comes back
    return Grounds.of(f"{p.title}. {p.section}. {p.text}" for p in search(probe, k=n))


def _same_number(a: str, b: str) -> bool:
    """Digit strings of one phone number, with or without the country code."""
    if a == b:
        return True
    long_enough = a.isdigit() and b.isdigit() and min(len(a), len(b)) >= 7
    return long_enough and (a.endswith(b) or b.endswith(a))


def ungrounded(text: str, grounds: Grounds, vouched: str = "") -> list[str]:
    """The surface forms of the specifics in `text` that `grounds` does not hold.

    `vouched`: text whose specifics a person approved (a reviewed bank entry); they pass.
    """
    ok = {s.keys for s in specifics(vouched)} if vouched else set()
    return [s.surface for s in specifics(text) if s.keys not in ok and not grounds.holds(s)]


__all__ = ["Grounds", "Specific", "kb_grounds", "normalise", "specifics", "tokens", "ungrounded"]
