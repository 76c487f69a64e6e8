"""assistant/untrusted.py: text made valid at the edge and inert where it is shown.

Worked cases for each kind of hostile character, then properties over generated text
(hypothesis, a bounded number of examples) that must hold for any input at all.
"""

from __future__ import annotations

import doctest
import json
import unicodedata

import pytest
from hostile import HOSTILE, hostile_text, unsafe_chars
from hypothesis import given, settings
from hypothesis import strategies as st

import assistant.untrusted
from assistant.untrusted import (
    BIDI_CONTROLS,
    REPLACEMENT,
    clean,
    clip,
    decode,
    inert,
    json_dumps,
    one_line,
)

PROPERTY = settings(max_examples=100, deadline=None)


def test_doctests():
    assert doctest.testmod(assistant.untrusted).failed == 0


# -- clean: the edge ---------------------------------------------------------------------------


def test_clean_replaces_undecodable_bytes_and_keeps_the_rest():
    # What Python makes of `assistant ask $'my order \xff\xfe is late'` (surrogateescape).
    argv = b"my order \xff\xfe is late".decode("utf-8", "surrogateescape")
    assert clean(argv) == "my order \ufffd\ufffd is late"
    assert clean("a\x00b\r\nc\rd\u2028e") == "ab\nc\nd\ne"
    # Everything else is the customer's and stays, escape codes and markup included.
    kept = "\x1b]0;pwned\x07 [bold red]x[/] \u202eevil 📦 café"
    assert clean(kept) == kept


def test_decode_replaces_invalid_utf8():
    assert decode(b"caf\xc3\xa9 \xff\xfe\x00ok") == "café \ufffd\ufffdok"


# -- inert: where text is shown ----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("\x1b]0;pwned\x07", "␛]0;pwned␇"),  # OSC: set the terminal title
        ("\x1b[2J\x1b[H", "␛[2J␛[H"),  # CSI: clear the screen, cursor home
        ("\x1bP1$r\x1b\\", "␛P1$r␛\\"),  # DCS with its string terminator
        ("\x9b31m\x9d0;x\x9c", f"{REPLACEMENT}31m{REPLACEMENT}0;x{REPLACEMENT}"),  # 8-bit C1
        ("abc\u202edcba\u202c \u2066x\u2069", "abcdcba x"),  # bidi overrides and isolates go
        ("ok\x00\x08\x7f", "ok␀␈␡"),
        ("approved\rdenied", "approved\ndenied"),  # a CR cannot overwrite what is shown
        ("lone \udcff", f"lone {REPLACEMENT}"),
        # Markup, emoji, combining marks and right-to-left text are unchanged.
        ("[bold red]x[/] [/] [link=https://e.vil]y[/link]", None),
        ("emoji 👩\u200d💻 and é (e\u0301) ar \u200fعربي", None),
    ],
)
def test_inert_examples(raw, shown):
    assert inert(raw) == (raw if shown is None else shown)


def test_one_line_fits_a_table_cell():
    assert one_line("a\tb\n\nc  d\x1b[2J", limit=8) == "a b c d…"
    assert one_line("[/]") == "[/]"


def test_clip_counts_what_it_leaves_out():
    assert clip("x" * 10, 10) == "x" * 10
    assert clip("x" * 1_000_000, 3) == "xxx… (999,997 more characters not shown)"


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_hostile_sample_is_made_inert(name):
    shown = inert(HOSTILE[name])
    assert not unsafe_chars(shown), name
    assert not unsafe_chars(one_line(HOSTILE[name]), multiline=False), name


# -- properties --------------------------------------------------------------------------------


@PROPERTY
@given(hostile_text())
def test_clean_gives_text_sqlite_and_utf8_accept(text):
    cleaned = clean(text)
    cleaned.encode("utf-8")  # no lone surrogates left
    assert "\x00" not in cleaned and "\r" not in cleaned
    assert clean(cleaned) == cleaned


@PROPERTY
@given(hostile_text())
def test_inert_leaves_nothing_that_drives_a_terminal(text):
    shown = inert(text)
    assert not unsafe_chars(shown)
    assert "\x1b" not in shown
    shown.encode("utf-8")
    assert inert(shown) == shown
    line = inert(text, multiline=False)
    assert not unsafe_chars(line, multiline=False)
    assert "\n" not in line and "\t" not in line


@PROPERTY
@given(st.text(alphabet=st.characters(categories=("L", "M", "N", "P", "S", "Zs"))))
def test_printable_text_is_unchanged(text):
    assert clean(text) == text
    if not any(c in BIDI_CONTROLS for c in text):
        assert inert(text) == text


@PROPERTY
@given(hostile_text(), st.integers(min_value=1, max_value=60))
def test_one_line_respects_its_limit(text, limit):
    line = one_line(text, limit)
    assert len(line) <= limit
    assert not unsafe_chars(line, multiline=False)


@PROPERTY
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | hostile_text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text(), inner),
        max_leaves=6,
    ),
    st.sampled_from([None, 2]),
)
def test_json_dumps_keeps_the_value_and_prints_inert(value, indent):
    out = json_dumps(value, indent=indent)
    # The real text: what the standard encoder gives (a surrogate pair reads back joined).
    assert json.loads(out) == json.loads(json.dumps(value))
    assert inert(out) == out  # nothing in the output itself needs escaping
    out.encode("utf-8")


def test_json_dumps_keeps_readable_text_readable():
    assert json_dumps({"t": "café 📦"}) == '{"t": "café 📦"}'
    assert json_dumps({"t": "\u202e\x9b"}) == '{"t": "\\u202e\\u009b"}'


def test_control_pictures_are_single_width():
    # Tables and wrapping count cells: a picture takes the control's place one for one.
    for code in range(0x20):
        assert unicodedata.east_asian_width(chr(0x2400 + code)) == "N"


@PROPERTY
@given(hostile_text(), st.integers(min_value=1, max_value=12), st.integers(1, 40))
def test_one_line_of_a_long_text_reads_only_a_prefix_with_the_same_result(text, limit, times):
    text = text * times  # long enough, often, for the prefix shortcut
    whole = " ".join(inert(text, multiline=False).split())
    expected = whole if len(whole) <= limit else whole[: limit - 1].rstrip() + "…"
    assert one_line(text, limit) == expected
