"""`LogWriter`: ConversationLog writes on a background thread, so callers never wait on disk.

    writer = LogWriter(log)
    cid = new_id()                                       # ids are made by the caller ...
    writer.submit(ConversationLog.new_conversation, "chat", conversation_id=cid)
    writer.submit(ConversationLog.add_feedback, turn_id, 1, feedback_id=new_id())
    writer.flush(timeout=5)                              # ... so nothing waits for the write
    writer.close()                                       # writes everything queued, then stops

The writer knows no write by name: `submit` queues one call of a `ConversationLog` write method
(one of `WRITE_METHODS`), checked against that method's signature at the call site, and the
thread makes the call on its own connection. Nothing is lost: a write that fails (after retrying
a locked database) is kept in `failed` and raised again by the next `flush()` or `close()`, and
`close()` (also run at interpreter exit) writes everything queued before it returns.
"""

from __future__ import annotations

import atexit
import inspect
import queue
import sqlite3
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic, sleep
from typing import Any, Concatenate, ParamSpec

from assistant.errors import LogError
from assistant.log.store import WRITE_METHODS, ConversationLog

P = ParamSpec("P")
_STOP = object()
_SIGNATURES = {name: inspect.signature(getattr(ConversationLog, name)) for name in WRITE_METHODS}


@dataclass
class FailedWrite:
    """A write the background thread could not make; kept so nothing is silently lost."""

    method: str  # ConversationLog method name
    args: tuple  # its positional arguments (may hold unredacted text: never print them)
    kwargs: dict  # its keyword arguments
    error: BaseException  # what went wrong

    def __repr__(self) -> str:  # without the arguments, which may hold customer data
        return f"FailedWrite({self.method}, {self.error!r})"


def _is_busy(exc: BaseException) -> bool:
    cause = exc.__cause__ if isinstance(exc, LogError) else exc
    return isinstance(cause, sqlite3.OperationalError) and (
        "locked" in str(cause) or "busy" in str(cause)
    )


class LogWriter:
    """Runs `ConversationLog` write methods in submission order on a background thread.

    Reads go to `writer.log` directly; they see a write once it is done (`flush()` first to
    read your own writes). For a file log the thread uses its own connection, so readers never
    wait on the writer (WAL). Do not mutate objects (metadata, replies) after submitting them:
    they are serialised in the thread.
    """

    def __init__(self, log: ConversationLog, *, retries: int = 2) -> None:
        """Start the writer thread for `log` (which stays open and owned by the caller)."""
        self.log = log
        self.retries = retries  # extra attempts when the database stays locked past the timeout
        if log.path is None:
            self._target = log  # ":memory:" cannot be opened twice; share it under its lock
        else:
            self._target = ConversationLog(log.path, log.redaction, synchronous=log.synchronous)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._pending = 0
        self._failed: list[FailedWrite] = []
        self._reported = 0
        self._closed = False  # no more submissions
        self._released = False  # thread stopped, own connection closed
        self._thread = threading.Thread(
            target=self._run, name="conversation-log-writer", daemon=True
        )
        self._thread.start()
        atexit.register(self._close_at_exit)

    def submit(
        self,
        write: Callable[Concatenate[ConversationLog, P], object],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        """Queue `write(log, *args, **kwargs)`, e.g. `submit(ConversationLog.hand_back, cid)`.

        `write` must be one of the `ConversationLog` write methods (`WRITE_METHODS`); the
        arguments are checked against its signature here, so a wrong call raises `LogError` at
        the call site. Pass pre-generated ids (`new_id()`) to know them before the write.
        """
        name = getattr(write, "__name__", "")
        if name not in WRITE_METHODS or getattr(ConversationLog, name) is not write:
            raise LogError(
                f"LogWriter.submit: {getattr(write, '__qualname__', write)!r} is not a "
                "ConversationLog write method; use one of "
                + ", ".join(f"ConversationLog.{m}" for m in WRITE_METHODS)
                + "."
            )
        try:
            _SIGNATURES[name].bind(self._target, *args, **kwargs)
        except TypeError as exc:  # the message names parameters, never values
            raise LogError(f"LogWriter.submit(ConversationLog.{name}, ...): {exc}.") from None
        with self._cond:
            if self._closed:
                raise LogError(f"LogWriter for {self.log.name} is closed; {name} not written.")
            self._pending += 1
            self._queue.put((name, args, kwargs))

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is _STOP:
                return
            name, args, kwargs = job
            error: BaseException | None = None
            for attempt in range(self.retries + 1):
                try:
                    getattr(self._target, name)(*args, **kwargs)
                    error = None
                    break
                except Exception as exc:  # kept and re-raised on flush/close
                    error = exc
                    if not _is_busy(exc) or attempt == self.retries:
                        break
                    sleep(0.05 * 2**attempt)  # back off before retrying a locked database
            with self._cond:
                if error is not None:
                    self._failed.append(FailedWrite(name, args, kwargs, error))
                self._pending -= 1
                self._cond.notify_all()

    def _raise_failures(self) -> None:
        """Raise LogError for failures not yet reported (call with self._cond held)."""
        new = self._failed[self._reported :]
        if not new:
            return
        self._reported = len(self._failed)
        first = new[0]
        raise LogError(
            f"{len(new)} conversation-log write(s) to {self.log.name} failed; first: "
            f"{first.method}: {first.error}. They are kept in LogWriter.failed for a retry."
        ) from first.error

    @property
    def failed(self) -> list[FailedWrite]:
        """Every write that failed so far (oldest first)."""
        with self._cond:
            return list(self._failed)

    @property
    def pending(self) -> int:
        """How many submitted writes are not written yet."""
        with self._cond:
            return self._pending

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every submitted write is done; re-raise failures as LogError.

        Raises LogError if writes are still pending after `timeout` seconds (they keep going).
        """
        deadline = None if timeout is None else monotonic() + timeout
        with self._cond:
            while self._pending:
                remaining = None if deadline is None else deadline - monotonic()
                if remaining is not None and remaining <= 0:
                    raise LogError(
                        f"{self._pending} conversation-log write(s) still pending after "
                        f"{timeout} s; they are still being written. Call flush() again."
                    )
                self._cond.wait(remaining)
            self._raise_failures()

    def close(self, timeout: float | None = None) -> None:
        """Write everything queued, stop the thread, re-raise failures. Idempotent.

        The wrapped log stays open (its owner closes it).
        """
        with self._cond:
            if not self._closed:
                self._closed = True
                self._queue.put(_STOP)  # after every accepted job: submissions hold this lock
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise LogError(
                f"{self.pending} conversation-log write(s) still pending after {timeout} s; "
                "the writer keeps going. Call close() again to wait for it."
            )
        if not self._released:
            self._released = True
            atexit.unregister(self._close_at_exit)
            if self._target is not self.log:
                self._target.close()
        with self._cond:
            self._raise_failures()

    def _close_at_exit(self) -> None:
        try:
            self.close()
        except LogError as exc:
            print(f"assistant: {exc}", file=sys.stderr)

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
