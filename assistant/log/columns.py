"""Python values as column values: free text redacted exactly once, structures as JSON.

Every string on its way to the log goes through `Scrubber`, which redacts it unless it is
already `Redacted` with the same configuration:

    >>> from assistant.redact import RedactionConfig
    >>> message = redact_once("mail jo@example.com", RedactionConfig())
    >>> message, message.kinds
    ('mail [EMAIL]', ('email',))
    >>> scrub = Scrubber(RedactionConfig())
    >>> scrub(message), scrub.found()            # stored as it is, not redacted a second time
    ('mail [EMAIL]', ['email'])
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields, is_dataclass
from typing import Any

from assistant.limits import cut
from assistant.redact import PLACEHOLDERS, RedactionConfig, redact


class Redacted(str):
    """Text that has been through redaction once, with the kinds of personal data found.

    Like markupsafe's `Markup` for HTML escaping: the log stores a `Redacted` made with its own
    `RedactionConfig` as it is, instead of redacting it again. String operations on it give a
    plain `str`, which the log then redacts on write, so the marker can only err on the safe side.
    Make one with `redact_once` (or `ConversationLog.redact`), never by hand.
    """

    config: RedactionConfig  # what was looked for
    kinds: tuple[str, ...]  # what was found, in PLACEHOLDERS order

    def __new__(cls, text: str, config: RedactionConfig, kinds: Iterable[str]) -> Redacted:
        self = super().__new__(cls, text)
        self.config = config
        self.kinds = tuple(kinds)
        return self


def redact_once(text: str, config: RedactionConfig) -> Redacted:
    """`text` redacted with `config`, or `text` itself when it already was."""
    if isinstance(text, Redacted) and text.config == config:
        return text
    out, kinds = _redact(str(text), config)
    return Redacted(out, config, kinds)


_CLEAN: OrderedDict[tuple[str, RedactionConfig], str] = OrderedDict()  # see `_redact`
_CLEAN_MAX = 2048  # texts remembered, the least recently used forgotten first
_CLEAN_CHARS = 2000  # longer texts are not remembered (memory stays under ~4 MB)
_CLEAN_LOCK = threading.Lock()


def _redact(text: str, config: RedactionConfig) -> tuple[str, tuple[str, ...]]:
    """`redact`, remembering texts in which it found nothing: an exchange stores ~50 strings,
    most of them the same bank replies, KB passages and intent names turn after turn (~80% of
    them found here: preparing an exchange 1.0 -> 0.84 ms p50). A text with personal data in
    it is never kept in memory this way."""
    key = (text, config)
    with _CLEAN_LOCK:
        if key in _CLEAN:
            _CLEAN.move_to_end(key)
            return _CLEAN[key], ()
    out, kinds = redact(text, config)
    if not kinds and len(text) <= _CLEAN_CHARS:
        with _CLEAN_LOCK:
            _CLEAN[key] = out
            if len(_CLEAN) > _CLEAN_MAX:
                _CLEAN.popitem(last=False)
    return out, tuple(kinds)


def _forget() -> None:
    """Forget the remembered texts (tests)."""
    with _CLEAN_LOCK:
        _CLEAN.clear()


def cut_redacted(text: Redacted, limit: int) -> tuple[Redacted, int]:
    """`text` cut to `limit` characters (`assistant.limits.cut`), still marked as redacted.

    Cut after redaction, so a card or an address split by the cut was already replaced whole.
    Returns the kept text and how many characters were left out.

    >>> kept, left_out = cut_redacted(redact_once("mail jo@example.com now", RedactionConfig()), 9)
    >>> kept, kept.kinds, left_out
    ('mail ', (), 11)
    """
    kept, left_out = cut(str(text), limit)
    if not left_out:
        return text, 0
    kinds = [kind for kind in text.kinds if PLACEHOLDERS[kind] in kept]
    return Redacted(kept, text.config, kinds), left_out


class Scrubber:
    """Redacts the strings of one row with one RedactionConfig and collects the kinds found."""

    def __init__(self, config: RedactionConfig) -> None:
        self.config = config
        self.kinds: set[str] = set()

    def __call__(self, text: str) -> str:
        out = redact_once(text, self.config)
        self.kinds.update(out.kinds)
        return str(out)

    def found(self) -> list[str]:
        """The kinds found so far, in PLACEHOLDERS order (the `redactions` column)."""
        return [kind for kind in PLACEHOLDERS if kind in self.kinds]


def plain(value: Any, scrub: Callable[[str], str] | None = None) -> Any:
    """`value` as plain JSON-ready Python (records, tuples, numpy values converted).

    Strings go through `scrub` when given; NaN and infinities become None. A record is stored as
    it is, not as a hand-picked copy: in its own JSON form when it has `to_dict()` (a cited
    `kb.Passage`), else with every dataclass field:

    >>> from assistant.reply import Candidate
    >>> plain([Candidate("It shipped.", 0.82, ["order_status"]), float("nan")])[0]["score"]
    0.82
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return scrub(value) if scrub else str(value)
    to_dict = getattr(value, "to_dict", None)  # a record with its own JSON form (kb.Passage)
    if callable(to_dict) and not isinstance(value, type):
        return plain(to_dict(), scrub)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name), scrub) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v, scrub) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(tolist):
        return plain(tolist(), scrub)
    return plain(str(value), scrub)


def to_json(value: Any, scrub: Callable[[str], str] | None = None) -> str | None:
    """`value` as JSON text (None stays None, for a NULL column)."""
    if value is None:
        return None
    return json.dumps(plain(value, scrub), ensure_ascii=False)


def finite(value: Any) -> float | None:
    """A REAL column value: a finite float, or None."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
