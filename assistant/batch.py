"""Many customer messages in one run (`assistant ask --batch FILE`): read them, answer them.

A batch file is either plain text or JSON lines, decided by its first non-blank line:

- plain text: one message per line; every line starts a new conversation;
- JSON lines (the first non-blank line starts with `{`): one object per line,
  `{"text": "...", "conversation_id": "..."}`. Lines with the same `conversation_id` are turns
  of one conversation, answered in file order, each with what came before as its history. The
  id is the log's conversation id, exactly as `ask --conversation ID` uses it (an id the log
  already has is continued). A line without `conversation_id` starts a new conversation.

Blank lines are skipped in both forms. The whole file is read and checked before any message is
answered, so a bad line stops the run before anything is logged; errors name file:line and the
offending value.

    >>> import io
    >>> [m.text for m in parse_batch(io.StringIO("where is my order?\\n\\nthx bye\\n"), "b.txt")]
    ['where is my order?', 'thx bye']
    >>> jl = '{"text": "hi", "conversation_id": "c1"}\\n{"text": "thx"}'
    >>> [(m.line, m.conversation_id) for m in parse_batch(io.StringIO(jl), "b.jsonl")]
    [(1, 'c1'), (2, None)]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from assistant.errors import ConfigError
from assistant.limits import is_blank, safe_repr
from assistant.redact import check_conversation_id
from assistant.untrusted import clean

_KEYS = ("text", "conversation_id")


@dataclass(frozen=True)
class BatchMessage:
    """One message of a batch file."""

    line: int  # 1-based line number in the file
    text: str  # the customer's message, as written (cleaned of undecodable bytes)
    conversation_id: str | None = None  # None: a new conversation


def _value(text: str) -> str:
    """A value quoted in an error: escaped and short (it may be customer text)."""
    return safe_repr(text, 60)


def parse_batch(lines: Iterable[str], name: str) -> list[BatchMessage]:
    """The messages of a batch file's `lines`; ConfigError naming `name`:line and the value."""
    messages: list[BatchMessage] = []
    is_jsonl: bool | None = None
    for lineno, raw in enumerate(lines, 1):
        line = clean(raw.rstrip("\r\n"))
        if is_blank(line):
            continue
        if is_jsonl is None:
            is_jsonl = line.lstrip().startswith("{")
        if not is_jsonl:
            messages.append(BatchMessage(lineno, line))
            continue
        messages.append(_json_line(line, lineno, name))
    return messages


def _json_line(line: str, lineno: int, name: str) -> BatchMessage:
    where = f"{name}:{lineno}"
    hint = 'each line must be an object such as {"text": "where is my order?"}'
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{where}: not valid JSON ({exc.msg} at column {exc.colno}): {_value(line)}; the "
            f"file's first line is JSON, so {hint}."
        ) from None
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: {_value(line)} is not a JSON object: {hint}.")
    unknown = sorted(set(obj) - set(_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(map(_value, unknown))}; the keys are "
            f'"text" and optionally "conversation_id".'
        )
    text = obj.get("text")
    if not isinstance(text, str):
        raise ConfigError(f'{where}: "text" must be a string, got {_value(json.dumps(text))}.')
    text = clean(text)
    if is_blank(text):
        raise ConfigError(f'{where}: "text" is empty: {hint}.')
    cid = obj.get("conversation_id")
    if cid is not None:
        if not isinstance(cid, str):
            raise ConfigError(
                f'{where}: "conversation_id" must be a string, got {_value(json.dumps(cid))}.'
            )
        try:
            check_conversation_id(cid)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return BatchMessage(lineno, text, cid)


def read_batch(path: str | Path, stream: TextIO | None = None) -> list[BatchMessage]:
    """The messages of the batch file at `path` (or of `stream`, named `path`, e.g. stdin)."""
    if stream is not None:
        return parse_batch(stream, str(path))
    p = Path(path)
    try:
        with open(p, encoding="utf-8", errors="surrogateescape") as fh:
            messages = parse_batch(fh, str(p))
    except FileNotFoundError:
        raise ConfigError(f"{p}: batch file not found.") from None
    except IsADirectoryError:
        raise ConfigError(f"{p} is a directory: give a file with one message per line.") from None
    except PermissionError:
        raise ConfigError(f"{p} cannot be read: permission denied.") from None
    if not messages:
        raise ConfigError(f"{p} holds no message: write one message per line.")
    return messages


def answer_batch(service, messages: Iterable[BatchMessage], channel: str = "cli") -> Iterator:
    """Answer each message with `service.respond`, in order; yields (message, Reply).

    Messages without a conversation id each start a new conversation.
    """
    for m in messages:
        cid = m.conversation_id or service.new_conversation(channel=channel)
        yield m, service.respond(cid, m.text)
