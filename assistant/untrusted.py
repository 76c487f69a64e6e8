"""Untrusted text: what a customer typed, what the log stored, what a file or an id holds.

Such text is data. Two steps keep it that way, and every front end (the chat, the CLI, the
triage console) uses the same two:

- `clean` at the edge, where text comes in (command-line arguments, the chat's input box,
  `AssistantService.respond`): it becomes valid Unicode that SQLite, the tokenizer and JSON
  accept. Undecodable bytes and lone surrogates become U+FFFD, NUL is dropped and line ends
  become "\\n"; everything else is kept as the customer sent it, so the turn is stored, not lost.

      >>> clean("my order \\udcff\\udcfe is late\\x00\\r\\n")
      'my order \\ufffd\\ufffd is late\\n'

- `inert` where text is shown (a terminal, a Textual widget, a CLI line): it cannot drive the
  terminal. Control characters become visible pictures (ESC is shown as "␛", so `ESC ] 0 ; pwned
  BEL`, a title change, reads "␛]0;pwned␇" and does nothing), C1 controls and lone surrogates
  become U+FFFD and bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069, the
  "Trojan Source" characters) are removed so text is shown in the order it was stored.

      >>> inert("\\x1b]0;pwned\\x07 \\x1b[2J hi \\u202eevil")
      '␛]0;pwned␇ ␛[2J hi evil'

`inert` does not escape Rich or Textual markup: markup is a question of how text is handed
to a widget, and untrusted text is always handed over as plain text (`rich.text.Text`,
`textual.content.Content`, or `markup=False`), never as a markup string.

`json_dumps` writes JSON whose strings hold the real text while the output itself stays
inert: the characters `inert` would change are written as `\\uXXXX` escapes, which any JSON
parser reads back as the original characters.
"""

from __future__ import annotations

import json
import re
from typing import Any

REPLACEMENT = "\ufffd"  # what undecodable bytes, lone surrogates and C1 controls become

# Explicit bidirectional formatting: embeddings, overrides (U+202A-U+202E) and isolates
# (U+2066-U+2069). They reorder the characters around them on screen, so what an agent reads
# can differ from what is stored; the implicit marks (LRM, RLM, ALM) stay, they reorder nothing.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

_LINE_ENDS = re.compile(r"\r\n?|[\x85\u2028\u2029]")


def _display_table(multiline: bool) -> dict[str, str]:
    """What `inert` shows in place of each character it changes ("" removes it)."""
    table: dict[int, str] = {}
    for code in range(0x20):  # C0: shown as the Unicode control pictures U+2400-U+241F
        table[code] = chr(0x2400 + code)
    table[0x7F] = "\u2421"  # DEL: ␡
    for code in range(0x80, 0xA0):  # C1: CSI (U+009B), OSC (U+009D) ... on 8-bit terminals
        table[code] = REPLACEMENT
    for code in range(0xD800, 0xE000):  # lone surrogates cannot be written as UTF-8
        table[code] = REPLACEMENT
    for char in BIDI_CONTROLS:
        table[ord(char)] = ""
    if multiline:
        del table[ord("\n")], table[ord("\t")]
    else:  # one line: a table cell, a notification title, a CLI field
        table[ord("\n")] = " "
        table[ord("\t")] = " "
    return {chr(code): shown for code, shown in table.items()}


def _pattern(table: dict[str, str]) -> re.Pattern[str]:
    """One character class of the table's keys: a regex scan is fast on text with none."""
    return re.compile("[" + "".join(re.escape(char) for char in sorted(table)) + "]")


_MULTILINE = _display_table(multiline=True)
_ONE_LINE = _display_table(multiline=False)
_UNSAFE_MULTILINE = _pattern(_MULTILINE)
_UNSAFE_ONE_LINE = _pattern(_ONE_LINE)
_SURROGATES = re.compile("[\ud800-\udfff]")


def decode(data: bytes) -> str:
    """Bytes from outside (stdin, a pipe, a terminal) as text: invalid UTF-8 becomes U+FFFD.

    >>> decode(b"caf\\xc3\\xa9 \\xff")
    'café \\ufffd'
    """
    return clean(data.decode("utf-8", errors="replace"))


def clean(text: str) -> str:
    """`text` made valid for storing and answering, changed as little as possible.

    Lone surrogates (Python's stand-in for undecodable bytes in `sys.argv` and file names)
    become U+FFFD, NUL characters are dropped (C tools and SQLite's own shell stop reading at
    them) and "\\r\\n", "\\r" and the Unicode line separators become "\\n". Nothing else is
    changed: showing the text safely is `inert`'s job.
    """
    if _SURROGATES.search(text):
        text = _SURROGATES.sub(REPLACEMENT, text)
    return _LINE_ENDS.sub("\n", text.replace("\x00", ""))


def inert(text: str, *, multiline: bool = True) -> str:
    """`text` safe to show: nothing in it can move the cursor, restyle or retitle a terminal.

    With `multiline=False`, newlines and tabs become spaces too (table cells, one-line fields).
    Printable text, including every script, emoji and combining mark, is unchanged.

    >>> inert("total:\\t9\\x08\\x085 EUR\\n", multiline=False)
    'total: 9␈␈5 EUR '
    """
    text = _LINE_ENDS.sub("\n", text)
    table, pattern = (_MULTILINE, _UNSAFE_MULTILINE) if multiline else (_ONE_LINE, _UNSAFE_ONE_LINE)
    return pattern.sub(lambda match: table[match.group()], text)


def one_line(text: str, limit: int | None = None) -> str:
    """`text` inert, on one line, runs of whitespace as one space, cut to `limit` with "…".

    >>> one_line("where  is\\nmy \\x1b[2Jorder?", limit=16)
    'where is my ␛[2…'
    """
    if limit is not None and len(text) > 4 * limit + 64:
        # A long text: lay out a prefix only, unless collapsing whitespace left it too short.
        head = one_line(text[: 4 * limit + 64])
        if len(head) > limit:
            return head[: max(0, limit - 1)].rstrip() + "…"
    text = " ".join(inert(text, multiline=False).split())
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)].rstrip() + "…"
    return text


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters for showing, saying how much was left out.

    A screen cannot show a megabyte sent as one message, and laying it out takes seconds.

    >>> clip("abcdef", 4)
    'abcd… (2 more characters not shown)'
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters not shown)"


# What `json_dumps` writes as \uXXXX: everything `inert` would change that JSON itself leaves
# raw (JSON already escapes C0), plus U+2028/U+2029, which end a line in JavaScript.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def json_dumps(obj: Any, **kwargs: Any) -> str:
    """`json.dumps(obj, ensure_ascii=False, **kwargs)`, with unsafe characters escaped.

    The JSON value is the same as `json.dumps` gives (a parser reads the real text back);
    only its spelling differs: readable non-ASCII text stays as it is, while controls, bidi
    overrides and lone surrogates are written as `\\uXXXX`, so printing the output to a terminal
    is safe and encoding it as UTF-8 cannot fail.

    >>> json_dumps({"text": "\\x1b[2J \\u202e é"})
    '{"text": "\\\\u001b[2J \\\\u202e é"}'
    """
    kwargs.setdefault("ensure_ascii", False)
    text = json.dumps(obj, **kwargs)
    # These characters can only occur inside JSON strings, where a \\u escape means the same.
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


__all__ = [
    "BIDI_CONTROLS",
    "REPLACEMENT",
    "clean",
    "clip",
    "decode",
    "inert",
    "json_dumps",
    "one_line",
]
