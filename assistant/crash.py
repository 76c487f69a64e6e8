"""Crash reports that hold no customer text.

An unexpected error's message and a traceback's local variables can quote whatever the code
was handling: a customer's message, a stored turn, a conversation id. So a crash is reported
by where it happened (the exception's type, file, line and function) and nothing else; the
person who needs the whole traceback asks for it with ASSISTANT_DEBUG=1 (still without local
variables, which Python never prints and the Textual apps are told not to).

    >>> try:
    ...     {}["jo@example.com"]
    ... except KeyError as exc:
    ...     print(crash_report(exc, "`assistant ask`"))  # doctest: +ELLIPSIS
    `assistant ask` stopped after an internal error: KeyError at <doctest ...>:2 in <module>. ...
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

DEBUG_ENV = "ASSISTANT_DEBUG"  # set to 1 to see full tracebacks (they may quote customer text)


def debug_enabled() -> bool:
    """True when the user asked for full tracebacks with ASSISTANT_DEBUG=1."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def code_path(filename: str) -> str:
    """A source file's path as a developer reads it: relative to its `sys.path` entry.

    "/usr/lib/python3.11/site-packages/textual/app.py" -> "textual/app.py"; a file outside
    every entry (or a pseudo-file like "<doctest>") is returned as given.
    """
    path = Path(filename)
    roots = sorted((Path(p).resolve() for p in sys.path if p), key=lambda p: -len(p.parts))
    try:
        resolved = path.resolve()
    except OSError:
        return filename
    for root in roots:
        if resolved.is_relative_to(root) and resolved != root:
            return resolved.relative_to(root).as_posix()
    return filename


def describe(exc_type: str, filename: str | None, lineno: int | None, function: str | None) -> str:
    """The error's type and innermost frame: "KeyError at assistant/tui/app.py:512 in _open"."""
    if filename is None:
        return exc_type
    return f"{exc_type} at {code_path(filename)}:{lineno} in {function}"


def crash_report(exc: BaseException, what: str) -> str:
    """The message shown when `what` ("`assistant ask`", "the chat") crashed with `exc`.

    It names the error's type and where it was raised, never the error's message or any
    variable: those may quote conversation text.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    where = describe(
        type(exc).__qualname__,
        last.filename if last else None,
        last.lineno if last else None,
        last.name if last else None,
    )
    return explain(where, what)


def explain(where: str, what: str) -> str:
    """The crash message around `where` (see `describe`)."""
    return (
        f"{what} stopped after an internal error: {where}. "
        "The error's own message is not shown because it may quote conversation text; "
        f"run again with {DEBUG_ENV}=1 to see the full traceback, and please report it."
    )


__all__ = ["DEBUG_ENV", "code_path", "crash_report", "debug_enabled", "describe", "explain"]
