"""What a long-running backend must tell its user, from any thread, to whoever listens.

The chat's service (a busy log, a spooled exchange, a model version switched) and the triage
console's desk (a model version switched or failed to load) are told things from worker
threads before any screen is listening; what comes before is kept and handed over first.

>>> notices = Notices(["log was repaired"])
>>> notices.tell("models: now version 2")
>>> seen = []
>>> notices.listen(seen.append)
>>> notices.tell("saved")
>>> seen
['log was repaired', 'models: now version 2', 'saved']
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable


class Notices:
    """A backlog of texts until `listen` is called, then a callback (any thread)."""

    def __init__(self, backlog: Iterable[str] = ()) -> None:
        self._listener: Callable[[str], None] | None = None
        self._backlog: list[str] = list(backlog)  # kept until someone listens
        self._lock = threading.Lock()

    def listen(self, callback: Callable[[str], None]) -> None:
        """Send every notice to `callback` from now on, starting with the backlog."""
        with self._lock:
            self._listener = callback
            backlog, self._backlog = self._backlog, []
        for text in backlog:
            callback(text)

    def tell(self, text: str) -> None:
        """Hand `text` to the listener, or keep it until there is one. A listener that fails
        (a screen that is gone) never fails the thread that tells."""
        with self._lock:
            listener = self._listener
            if listener is None:
                self._backlog.append(text)
                return
        try:
            listener(text)
        except Exception:  # noqa: BLE001 - a display that is gone must not fail the caller
            pass
