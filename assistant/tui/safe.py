"""The parts every Textual app of ours shares so that untrusted text stays data.

- `SafeApp`: a crash exits with status 1 and a short report naming where it happened, never
  a traceback with local variables (Textual's default shows them, customer text included);
  undecodable bytes from the terminal (a paste from a Latin-1 terminal) become U+FFFD instead
  of killing Textual's input thread.
- `SafeInput`: an `Input` whose value is always valid, inert, one-line text, whether typed,
  pasted or set by code.
- `plain` and `cell`: stored or customer text as Textual `Content` / a Rich `Text` table cell,
  inert and never parsed as markup, so `[bold red]` shows as typed and a stored `[/]` cannot
  raise `MarkupError`.

The chat (`assistant.tui.app.ChatApp`) uses them; so should every new screen (the triage
console shows agents every customer's text).
"""

from __future__ import annotations

import codecs
import functools
import importlib
import sys
from typing import Any

from rich.console import RenderableType
from rich.text import Text
from rich.traceback import Traceback
from textual.app import App, ReturnType
from textual.content import Content
from textual.widgets import Input

from assistant.crash import crash_report, debug_enabled, describe, explain
from assistant.untrusted import clean, clip, inert, one_line

# Textual's drivers that read the terminal through a strict UTF-8 decoder (Textual 8.x): one
# invalid byte raises UnicodeDecodeError in the input thread, which dies and leaves the app
# deaf (Textualize/textual#6456, open at the time of writing).
_INPUT_DRIVERS = (
    "textual.drivers.linux_driver",
    "textual.drivers.linux_inline_driver",
    "textual.drivers.web_driver",
)


def _replacing_decoder(encoding: str) -> Any:
    """`codecs.getincrementaldecoder`, with invalid input decoded as U+FFFD instead of raising."""
    return functools.partial(codecs.getincrementaldecoder(encoding), errors="replace")


def replace_undecodable_input() -> None:
    """Make Textual's terminal drivers decode invalid UTF-8 as U+FFFD (idempotent).

    The drivers look `getincrementaldecoder` up in their module when their input thread
    starts, so replacing that name is enough; an explicit `errors=` from a later Textual
    still wins over ours.
    """
    for name in _INPUT_DRIVERS:
        try:
            module = importlib.import_module(name)
        except ImportError:  # e.g. a driver needing a platform module we do not have
            continue
        if getattr(module, "getincrementaldecoder", None) is codecs.getincrementaldecoder:
            module.getincrementaldecoder = _replacing_decoder


# The most characters of one text a widget shows; the rest is counted, not laid out (a 1 MB
# message takes ~10 s to wrap). The log keeps the text whole.
SHOWN_CHARS = 10_000


def plain(text: str, *, multiline: bool = True, limit: int = SHOWN_CHARS) -> Content:
    """Untrusted `text` as Textual content: inert (see `assistant.untrusted`), never markup.

    Text beyond `limit` characters is left out and counted (`assistant.untrusted.clip`).
    """
    return Content(inert(clip(text, limit), multiline=multiline))


def key_table(rows, key_style: str) -> Content:
    """(key, value) rows as aligned lines for a help screen, each value inert on one line."""
    rows = list(rows)
    width = max(len(key) for key, _ in rows) + 2
    return Content("\n").join(
        Content.assemble((key.ljust(width), key_style), one_line(str(value))) for key, value in rows
    )


def cell(text: str) -> Text:
    """Untrusted `text` as a `DataTable` cell: one inert line, never markup.

    A plain `str` cell would be parsed as Rich markup by `DataTable`.
    """
    return Text(inert(clip(text, SHOWN_CHARS), multiline=False), no_wrap=True, end="")


class SafeInput(Input):
    """An `Input` holding only valid, inert, one-line text (see `assistant.untrusted`).

    A paste can carry escape sequences, NUL, tabs, line breaks or undecodable bytes; they are
    made visible or replaced as the text arrives, so the box shows exactly what will be sent.
    """

    def replace(self, text: str, start: int, end: int) -> None:
        """Replace `value[start:end]` with `text` made safe (typing and pasting come here)."""
        super().replace(inert(clean(text), multiline=False), start, end)

    def validate_value(self, value: str) -> str:
        """Values set by code pass the same filter as typed ones."""
        return inert(clean(value), multiline=False)


class SafeApp(App[ReturnType]):
    """A Textual app whose crash reports hold no customer text and exit with status 1.

    Textual reports an unhandled exception with a traceback that shows local variables (the
    messages and turns being handled) and, when its input thread dies, exits with status 0.
    Here a crash ends the app with `return_code` 1 and one paragraph naming the error's type
    and place (`assistant.crash`); ASSISTANT_DEBUG=1 shows the traceback, without locals.
    """

    # How the crash report names the app: "<CRASH_NAME> stopped after an internal error ..."
    CRASH_NAME = "The app"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        replace_undecodable_input()

    def _fatal_error(self) -> None:
        """Textual's hook for an unhandled exception: report it without locals or messages."""
        error = sys.exc_info()[1] or self._exception
        self.bell()
        if error is not None and debug_enabled():
            self.panic(Traceback.from_exception(type(error), error, error.__traceback__))
        elif error is not None:
            self.panic(Text(crash_report(error, self.CRASH_NAME)))
        else:
            self.panic(Text(explain("unknown error", self.CRASH_NAME)))

    def panic(self, *renderables: RenderableType) -> None:
        """Exit with status 1 and `renderables`, any traceback or exception among them summed up.

        Textual calls this too: with an exception that renders itself, and with a traceback
        when its input thread dies.
        """
        if not self._return_code:  # Textual leaves it at None (exit 0) for an input-thread panic
            self._return_code = 1
        super().panic(*(self._without_text(r) for r in renderables))

    def _without_text(self, renderable: RenderableType) -> RenderableType:
        """A traceback or exception as a short report naming its place only."""
        if isinstance(renderable, BaseException):
            if debug_enabled():
                return Traceback.from_exception(
                    type(renderable), renderable, renderable.__traceback__
                )
            return Text(crash_report(renderable, self.CRASH_NAME))
        if isinstance(renderable, Traceback):
            if debug_enabled():
                for stack in renderable.trace.stacks:  # the debug view leaves variables out too
                    for frame in stack.frames:
                        frame.locals = None
                return renderable
            stack = renderable.trace.stacks[-1] if renderable.trace.stacks else None
            if stack is None:
                return Text(explain("unknown error", self.CRASH_NAME))
            frame = stack.frames[-1] if stack.frames else None
            where = describe(
                stack.exc_type,
                frame.filename if frame else None,
                frame.lineno if frame else None,
                frame.name if frame else None,
            )
            return Text(explain(where, self.CRASH_NAME))
        return renderable


__all__ = ["SHOWN_CHARS", "SafeApp", "SafeInput", "cell", "plain", "replace_undecodable_input"]
