"""The passage store (SQLite) of an index directory.

An index directory holds `manifest.json` and four data files whose names carry a build id:
`passages.<id>.sqlite`, `embeddings.<id>.npy`, `index.<id>.faiss` and `keywords.<id>.npz`.
A build writes new data files next to the old ones and then atomically replaces
`manifest.json`, which names them: a build that fails at any point leaves the previous
manifest pointing at intact files (see `kb.manifest`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from kb.chunking import Chunk
from kb.errors import KBIndexError


def write_store(path: Path, chunks: Iterable[Chunk]) -> int:
    """Create the SQLite store at `path` (which must not exist); rowid i = embedding row i."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(
            """
            CREATE TABLE passages (
                id INTEGER PRIMARY KEY,
                article_id TEXT NOT NULL,
                title TEXT NOT NULL,
                section TEXT NOT NULL,
                source TEXT NOT NULL,
                position INTEGER NOT NULL,
                text TEXT NOT NULL
            );
            CREATE INDEX passages_source ON passages(source);
            """
        )
        count = 0
        for i, c in enumerate(chunks):
            conn.execute(
                "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?)",
                (i, c.article_id, c.title, c.section, c.source, c.position, c.text),
            )
            count += 1
        conn.commit()
        return count
    finally:
        conn.close()


class PassageStore:
    """Read access to a passage store; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise KBIndexError(f"passage store {path} is missing: rebuild the index")
        try:
            self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            self._count = self._conn.execute("SELECT count(*) FROM passages").fetchone()[0]
        except sqlite3.Error as exc:
            raise KBIndexError(
                f"passage store {path} is corrupted ({exc}): rebuild the index"
            ) from exc
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            with self._lock:
                return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise KBIndexError(f"passage store {self.path} cannot be read ({exc})") from exc

    def get(self, ids: list[int]) -> dict[int, tuple]:
        """Rows (article_id, title, section, source, position, text) by passage id."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._query(
            "SELECT id, article_id, title, section, source, position, text FROM passages "
            f"WHERE id IN ({marks})",
            tuple(int(i) for i in ids),
        )
        return {row[0]: row[1:] for row in rows}

    def rows(self) -> Iterator[tuple]:
        """Every row (id, article_id, title, section, source, position, text) in id order."""
        yield from self._query(
            "SELECT id, article_id, title, section, source, position, text FROM passages "
            "ORDER BY id"
        )

    def article_ids(self) -> set[str]:
        """The distinct article ids in the store."""
        return {row[0] for row in self._query("SELECT DISTINCT article_id FROM passages")}


__all__ = ["PassageStore", "write_store"]
