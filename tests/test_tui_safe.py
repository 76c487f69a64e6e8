"""assistant/tui/safe.py: crash reports without customer text, a safe input box, plain text."""

from __future__ import annotations

import asyncio
import codecs

import pytest

pytest.importorskip("textual")

from chat_helpers import asynchronous  # noqa: E402
from hostile import HOSTILE, screen_unsafe, unsafe_chars  # noqa: E402
from rich.text import Text  # noqa: E402
from textual import events  # noqa: E402
from textual.app import ComposeResult  # noqa: E402
from textual.widgets import Static  # noqa: E402

from assistant.tui.safe import (  # noqa: E402
    SHOWN_CHARS,
    SafeApp,
    SafeInput,
    cell,
    plain,
    replace_undecodable_input,
)
from assistant.untrusted import inert  # noqa: E402

SECRET = "my card is 4111 1111 1111 1111"


class Crashy(SafeApp[None]):
    """F9 raises with customer text in the message and in a local variable."""

    CRASH_NAME = "The test app"
    BINDINGS = [("f9", "boom", "Boom")]

    def compose(self) -> ComposeResult:
        yield SafeInput(id="box")
        yield Static(id="out")

    def action_boom(self) -> None:
        customer_text = SECRET
        raise RuntimeError(f"customer said {customer_text}")


async def press_f9(app: Crashy) -> None:
    async with app.run_test() as pilot:
        await pilot.press("f9")
        await pilot.pause()


def test_a_crash_exits_1_with_a_report_that_quotes_nothing(capsys, monkeypatch):
    monkeypatch.delenv("ASSISTANT_DEBUG", raising=False)
    app = Crashy()
    with pytest.raises(RuntimeError):  # Pilot re-raises the app's error for the test
        asyncio.run(press_f9(app))
    assert app.return_code == 1
    err = capsys.readouterr().err
    assert "The test app stopped after an internal error: RuntimeError" in " ".join(err.split())
    assert "4111" not in err and "customer_text" not in err and "locals" not in err


def test_debug_shows_the_traceback_but_no_locals(capsys, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DEBUG", "1")
    app = Crashy()
    with pytest.raises(RuntimeError):
        asyncio.run(press_f9(app))
    assert app.return_code == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError" in err
    assert "locals" not in err  # Textual's own report has a locals panel per frame


def test_a_dead_input_thread_exits_1_without_its_traceback(capsys, monkeypatch):
    """Textual panics with a Rich traceback (and exit 0) when its input thread dies."""
    from rich.traceback import Traceback

    async def run() -> None:
        async with app.run_test():
            try:
                b"\xff order".decode("utf-8")
            except UnicodeDecodeError:
                app.panic(Traceback())  # the app closes: nothing more to wait for

    monkeypatch.delenv("ASSISTANT_DEBUG", raising=False)
    app = Crashy()
    asyncio.run(run())
    assert app.return_code == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "stopped after an internal error: UnicodeDecodeError at " in err
    assert "order" not in err and "0xff" not in err


def test_terminal_input_decodes_invalid_utf8_as_replacement():
    import textual.drivers.linux_driver as linux_driver

    replace_undecodable_input()
    replace_undecodable_input()  # idempotent
    decode = linux_driver.getincrementaldecoder("utf-8")().decode
    assert decode(b"my order \xff\xfe is late", final=True) == "my order \ufffd\ufffd is late"
    # Split multi-byte characters across reads still decode (it is still incremental).
    assert decode(b"caf\xc3") + decode(b"\xa9", final=True) == "café"
    assert codecs.getincrementaldecoder("utf-8")().errors == "strict"  # nothing else changed


@asynchronous
async def test_safe_input_keeps_pasted_and_set_text_inert():
    app = Crashy()
    async with app.run_test() as pilot:
        box = app.query_one("#box", SafeInput)
        box.focus()
        box.post_message(events.Paste("hi \x1b]0;pwned\x07\t\u202eyo [/]\udcff"))
        await pilot.pause()
        assert box.value == "hi ␛]0;pwned␇ yo [/]\ufffd"
        assert box.cursor_position == len(box.value)
        box.value = "x\x00\x1b[2J\ny"
        assert box.value == "x␛[2J y"
        assert not screen_unsafe(app)


def test_plain_and_cell_are_inert_and_never_markup():
    for text in HOSTILE.values():
        content = plain(text)
        assert not unsafe_chars(content.plain)
        assert content.plain == inert(text[:SHOWN_CHARS]) or len(text) > SHOWN_CHARS
        table_cell = cell(text)
        assert isinstance(table_cell, Text) and not table_cell.spans  # no markup styling
        assert not unsafe_chars(table_cell.plain, multiline=False)
    assert plain("[bold red]x[/]").plain == "[bold red]x[/]"
    long = plain("x" * (SHOWN_CHARS + 5)).plain
    assert long.endswith("… (5 more characters not shown)")
