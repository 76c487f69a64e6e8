"""`LogWatcher`: notices that the log changed, whichever connection or process changed it.

SQLite cannot notify another process, so the watcher asks, every `interval` seconds, the
cheapest question SQLite answers: `PRAGMA data_version` on a connection of its own (a read of
the WAL index in shared memory, no table is touched), whose value moves whenever any other
connection commits. A chat keeps one watcher per open log; with the default 0.2 s a change made
by another process (an agent's reply, a hand-back) is noticed well within a second.

    watcher = LogWatcher(log)
    seen = 0
    while open:
        seen = watcher.wait(seen, timeout=0.5)     # returns early when the log changed
        ...                                        # re-read what is on screen
    watcher.close()
"""

from __future__ import annotations

import sqlite3
import threading
from time import monotonic

from assistant.errors import LogError
from assistant.log.store import BUSY_TIMEOUT_MS, ConversationLog

WATCH_INTERVAL_S = 0.2  # how often the watcher looks; a change is seen within this


class LogWatcher:
    """Counts the commits to a log made by any connection since the watcher started.

    Thread-safe; `close()` wakes every waiting thread. A ":memory:" log has one connection in
    one process, so its watcher counts that connection's changes instead.
    """

    def __init__(self, log: ConversationLog, interval: float = WATCH_INTERVAL_S) -> None:
        self.log = log
        self.interval = interval
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._count = 0
        self._conn: sqlite3.Connection | None = None
        if log.path is not None:
            try:
                self._conn = sqlite3.connect(
                    log.path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
                )
            except sqlite3.Error as exc:
                raise LogError(f"Cannot watch the conversation log {log.name}: {exc}.") from exc
        self._last = self._probe()

    def _probe(self) -> int:
        """A number that moves whenever the log's data changed."""
        if self._conn is None:
            return self.log.total_changes
        try:
            return int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error as exc:
            raise LogError(f"Watching the conversation log {self.log.name} failed: {exc}.") from exc

    def _poll(self) -> int:
        with self._lock:
            if not self._stop.is_set():
                value = self._probe()
                if value != self._last:
                    self._last = value
                    self._count += 1
            return self._count

    @property
    def changes(self) -> int:
        """How many times the log was seen to change so far (looks now, does not wait)."""
        return self._poll()

    def wait(self, after: int, timeout: float | None = None) -> int:
        """Wait until the change count differs from `after`, or `timeout` seconds pass.

        Returns the change count: pass it back as `after` next time. Returns at once when the
        log changed since `after`, and when the watcher is closed.
        """
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            count = self._poll()
            if count != after or self._stop.is_set():
                return count
            step = self.interval if deadline is None else min(self.interval, deadline - monotonic())
            if step <= 0 or self._stop.wait(step):
                return self._poll()

    def close(self) -> None:
        """Stop watching and wake every waiter. Idempotent."""
        self._stop.set()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> LogWatcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
