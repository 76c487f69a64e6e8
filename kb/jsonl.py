"""Reading text and JSON Lines files with errors that name the file and line.

Shared by the knowledge base (JSONL documents, evaluation questions) and training (dialogue
files). Each caller passes the error class it reports with (`DataError` by default).

>>> list(parse_jsonl('{"a": 1}\\n\\n{"a": 2}', "x.jsonl"))
[(1, {'a': 1}), (3, {'a': 2})]
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kb.errors import AssistantError, DataError


def read_text(
    path: str | os.PathLike, error: type[AssistantError] = DataError, allow_empty: bool = False
) -> str:
    """The UTF-8 text of `path` (a leading BOM dropped).

    Raises `error` when the file is missing, is a folder, is not UTF-8 (naming the line and
    byte) or, unless `allow_empty`, holds only whitespace.
    """
    path = Path(path)
    if not path.exists():
        raise error(f"{path}: file not found. Check the path.")
    if path.is_dir():
        raise error(f"{path}: is a directory; give a file.")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(
            f"{path}:{line}: not valid UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start}). "
            "Re-save the file as UTF-8."
        ) from None
    if not allow_empty and not text.strip():
        raise error(f"{path}: the file is empty.")
    return text


def parse_jsonl(
    text: str, source: str | os.PathLike, error: type[AssistantError] = DataError
) -> Iterator[tuple[int, Any]]:
    """(line number, value) for each non-blank line of JSON Lines `text` read from `source`.

    Raises `error` naming `source:line`, the column and the start of the line at the first
    line that is not valid JSON.
    """
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(
                f"{source}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno}): "
                f"{line[:80]!r}. Each line must be one JSON value."
            ) from None
        yield lineno, value


def read_jsonl(
    path: str | os.PathLike, error: type[AssistantError] = DataError, allow_empty: bool = False
) -> list[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSON Lines file of objects.

    Raises `error` naming the file and line of the first line that is not a JSON object (and
    as `read_text` for an unreadable file).
    """
    out = []
    for lineno, value in parse_jsonl(read_text(path, error, allow_empty), path, error):
        if not isinstance(value, dict):
            raise error(f"{path}:{lineno}: expected a JSON object, got {type(value).__name__}.")
        out.append((lineno, value))
    return out


__all__ = ["read_text", "parse_jsonl", "read_jsonl"]
