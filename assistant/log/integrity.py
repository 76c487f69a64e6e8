"""Is a log file damaged? And if so, set it aside so a fresh one can start.

    problem = header_problem(path) or quick_check(sqlite3.connect(path))   # None: looks whole
    if problem:                            # e.g. "Page 6076: btreeInitPage() returns error code 11"
        moved = set_aside(path)            # conversations.db.damaged-20261124T101500123456Z

`ConversationLog` runs this on every file it opens (see its `check` argument), so a damaged log
is never silently written into: a log damaged in the middle or cut short is renamed with a
timestamp, together with its `-wal` and `-shm` files (SQLite finds a WAL by the database's name),
and the assistant starts a fresh one and says where the old one went.

The check is SQLite's `PRAGMA quick_check` (every page and b-tree is read, ~230 MB/s here) under a
time budget (`CHECK_BUDGET_S`), so a big log costs at most that much at start-up; a log too big to
be read whole in the budget is checked as far as the budget goes (SQLite still refuses damaged
pages when they are read later, and every write then fails with a message saying so), and cheap
checks of the header and the file size catch a file cut short at any size.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic

SQLITE_MAGIC = b"SQLite format 3\x00"
CHECK_BUDGET_S = 0.5  # longest time a start-up check may read the file (~100 MB in full here)
SIDE_FILES = ("-wal", "-shm", "-journal")  # SQLite's companions of a database file

_DAMAGE_WORDS = ("malformed", "corrupt", "not a database", "disk image")


def is_damage(exc: BaseException) -> bool:
    """True when an sqlite3 error means the file itself is damaged (not busy, not read-only)."""
    return isinstance(exc, sqlite3.DatabaseError) and any(
        word in str(exc).lower() for word in _DAMAGE_WORDS
    )


def looks_like_sqlite(path: Path) -> bool:
    """True when `path` starts like an SQLite database (or is a cut-short start of one).

    A file that is not SQLite at all (a text file passed as `--db` by mistake) is not ours to
    set aside: it is refused instead.
    """
    with open(path, "rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    return head == SQLITE_MAGIC[: len(head)]


def header_problem(path: Path) -> str | None:
    """What the 100-byte header and the file size say is wrong (None when nothing).

    Catches a file cut short at any size without reading it: the size must be whole pages,
    and, with no write-ahead log waiting to be checkpointed, as many pages as the header counts.
    """
    size = path.stat().st_size
    if size == 0:
        return None  # SQLite's own empty database: a fresh log is made in it
    with open(path, "rb") as fh:
        header = fh.read(100)
    if len(header) < 100:
        return f"the file is only {size} bytes long, shorter than an SQLite header"
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return f"the header's page size ({page_size}) is not valid"
    if size % page_size:
        return f"the file size ({size} bytes) is not a whole number of {page_size}-byte pages"
    change_counter, pages, valid_for = (
        struct.unpack(">I", header[24:28])[0],
        struct.unpack(">I", header[28:32])[0],
        struct.unpack(">I", header[92:96])[0],
    )
    wal = Path(f"{path}-wal")
    wal_pending = wal.exists() and wal.stat().st_size > 32  # frames not yet checkpointed
    if change_counter == valid_for and not wal_pending and size < pages * page_size:
        return (
            f"the file is cut short: {size} bytes, but its header counts {pages} pages of "
            f"{page_size} bytes"
        )
    return None


def quick_check(conn: sqlite3.Connection, budget_s: float = CHECK_BUDGET_S) -> str | None:
    """SQLite's `quick_check` on an open connection: None when it found nothing wrong.

    Stops after `budget_s` seconds (what it read by then was fine: None). Raises nothing for a
    damaged file; the problem comes back as text.
    """
    deadline = monotonic() + budget_s
    conn.set_progress_handler(lambda: int(monotonic() > deadline), 10_000)
    try:
        rows = conn.execute("PRAGMA quick_check(5)").fetchall()
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc).lower():
            return None  # out of time; what was read is whole
        if is_damage(exc):
            return str(exc)
        raise
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.set_progress_handler(None, 0)
    found = [str(row[0]) for row in rows]
    if found == ["ok"]:
        return None
    return "; ".join(" ".join(line.split()) for line in found)[:300]


def set_aside(path: Path) -> Path:
    """Rename a damaged log and its `-wal`/`-shm` files with a timestamp; return the new name.

    `conversations.db` becomes `conversations.db.damaged-20261124T101500Z` and its WAL
    `conversations.db.damaged-20261124T101500Z-wal`, so SQLite (or `sqlite3 FILE .recover`) still
    reads the two together. Nothing is deleted.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    os.replace(path, target)
    for suffix in SIDE_FILES:
        try:
            os.replace(Path(f"{path}{suffix}"), Path(f"{target}{suffix}"))
        except FileNotFoundError:
            continue  # no such side file
    return target


__all__ = [
    "CHECK_BUDGET_S",
    "SQLITE_MAGIC",
    "header_problem",
    "is_damage",
    "looks_like_sqlite",
    "quick_check",
    "set_aside",
]
