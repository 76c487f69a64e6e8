"""Ids and timestamps of log rows, made in Python so a caller knows them before the write."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime


def new_id() -> str:
    """A fresh random id (uuid4 hex), generated in Python so callers know it before the write."""
    return uuid.uuid4().hex


def utc_now() -> str:
    """The current time as ISO-8601 UTC with milliseconds, e.g. "2026-05-01T09:30:00.123Z"."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def pick_ticket_id(taken: Callable[[str], bool]) -> str:
    """A ticket id like "T-90412" that `taken` says is free; a uuid once those get scarce."""
    for _ in range(20):
        candidate = f"T-{10000 + secrets.randbelow(90000)}"
        if not taken(candidate):
            return candidate
    return new_id()
