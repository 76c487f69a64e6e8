"""Hostile text for the tests: named samples, a hypothesis strategy and the checks.

`HOSTILE` holds one sample of each attack or accident (escape sequences, markup, bidi
overrides, surrogates, NUL, zero-width, a megabyte); `hostile_text()` mixes their pieces
with arbitrary characters. `unsafe_chars` finds what must never reach a terminal, and
`rendered` reads what a Textual app puts on screen, segment by segment.
PYTEST_DONT_REWRITE
"""

from __future__ import annotations

from hypothesis import strategies as st

from assistant.untrusted import BIDI_CONTROLS

HOSTILE = {
    "osc title": "my order \x1b]0;pwned\x07 is late",
    "osc title st": "\x1b]2;pwned\x1b\\hello",
    "osc hyperlink": "\x1b]8;;https://e.vil\x07click\x1b]8;;\x07",
    "clear screen": "\x1b[2J\x1b[3J\x1b[H where is my refund",
    "cursor and colours": "\x1b[31;1mred\x1b[0m \x1b[10A\x1b[2K up",
    "dcs": "\x1bP+q544e\x1b\\ request",
    "8-bit csi": "\x9b2J\x9d0;pwned\x9c",
    "bell and backspace": "approved\x08\x08\x08\x08\x08\x08\x08\x08denied\x07",
    "carriage return": "refund approved\rrefund denied  ",
    "rich markup": "[bold red]x[/] [reverse]inverted[/reverse]",
    "closing tag only": "[/]",
    "stray closing tags": "[/] [/bold] [/link]",
    "link markup": "[link=https://e.vil]click[/link]",
    "textual action": "[@click=app.quit]quit[/]",
    "markdown": "# Title\n**bold** [x](https://e.vil) `code`",
    "bidi override": "invoice \u202egnp.exe\u202c total",
    "bidi isolates": "\u2066abc\u2069 \u2067def\u2069 \u2068ghi\u2069",
    "lone surrogates": "order \udcff\udcfe\ud800 late",
    "nul": "abc\x00def\x00",
    "zero width": "\u200b\u200c\u200d\u2060\ufeff",
    "line separators": "one\u2028two\u2029three\x85four",
    "del and c1": "\x7f\x80\x85\x9f",
    "emoji and combining": "👩\u200d💻 e\u0301\u0301\u0301 z\u0336\u0336",
    "megabyte": ("where is my order \x1b[2J [/] \u202e " * 40_000)[:1_000_000],
}

# Pieces the strategy strings together (the samples above, minus the megabyte).
_FRAGMENTS = [text for name, text in HOSTILE.items() if name != "megabyte"] + [
    "\x1b",
    "\x1b[",
    "\x1b]",
    "[",
    "]",
    "[/",
    "[b]",
    "\\",
    "\n",
    "\t",
    "\r\n",
]


def hostile_text(max_pieces: int = 8) -> st.SearchStrategy[str]:
    """Strings mixing hostile fragments, control, format and surrogate characters, and text."""
    piece = st.one_of(
        st.sampled_from(_FRAGMENTS),
        st.characters(categories=("Cc", "Cf", "Cs", "Zl", "Zp")),
        st.text(max_size=6),
    )
    return st.lists(piece, max_size=max_pieces).map("".join)


def unsafe_chars(text: str, multiline: bool = True) -> list[str]:
    """The characters of `text` that must not reach a terminal (controls, bidi, surrogates).

    With `multiline`, "\\n" and "\\t" are allowed.
    """
    allowed = {"\n", "\t"} if multiline else set()
    return [
        c
        for c in text
        if c not in allowed
        and (
            ord(c) < 0x20
            or 0x7F <= ord(c) < 0xA0
            or c in BIDI_CONTROLS
            or 0xD800 <= ord(c) < 0xE000
            or c in "\u2028\u2029"
        )
    ]


def rendered(app) -> list[str]:
    """The lines of text the app's current screen (dialogs over the chat included) shows.

    Read from the compositor's strips, segment by segment: the text Textual would write
    between its own escape codes.
    """
    lines = []
    for strip in app.screen._compositor.render_strips():
        lines.append("".join(segment.text for segment in strip if not segment.control))
    return lines


def screen_unsafe(app) -> list[str]:
    """`unsafe_chars` over everything on screen, one line at a time."""
    return [c for line in rendered(app) for c in unsafe_chars(line, multiline=False)]
