"""`LogWriter`: ConversationLog writes on a background thread, so callers never wait on disk.

    writer = LogWriter(log, on_failure=report)
    writer.submit(ConversationLog.add_feedback, turn_id, 1, feedback_id=new_id())
    writer.flush(timeout=5)                              # wait for everything queued
    writer.close()                                       # writes everything queued, then stops

The writer knows no write by name: `submit` queues one call of a `ConversationLog` write method
(one of `WRITE_METHODS`), checked against that method's signature at the call site, and the
thread makes the call on its own connection, in submission order. It is for writes nobody waits
for (a rating, a hand-back: the chat's UI thread must never wait on disk); an exchange, whose
reply may be shown only once it is stored, is written by its caller (`AssistantService`).

What happens to each write is known, never assumed:

- a write that fails is reported: to the `on_failure` callback at once, by the next `flush()`,
  and by every `close()` (so a command's exit status says a write was lost). It is not retried:
  the writer says what was not saved rather than keep it in memory that a crash or the end of
  the process would lose anyway.
- a busy log (another connection holds the write lock) is retried in slices of
  `BUSY_SLICE_MS`, for at most `busy_wait` seconds per write, then the write fails.
- the queue is bounded (`max_queued`): when it is full, `submit` waits up to `busy_wait` seconds
  for room and then raises LogError, so a log that does not keep up pushes back on its callers
  instead of growing memory without end.
"""

from __future__ import annotations

import atexit
import inspect
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic, sleep
from typing import Any, Concatenate, ParamSpec

from assistant.errors import LogError
from assistant.log.store import WRITE_METHODS, ConversationLog, is_busy

P = ParamSpec("P")
_STOP = object()
_SIGNATURES = {name: inspect.signature(getattr(ConversationLog, name)) for name in WRITE_METHODS}

BUSY_WAIT_S = 10.0  # longest a write waits for another connection's lock before it fails
BUSY_SLICE_MS = 200  # a busy write is retried this often (a wait can be announced this fast)
MAX_QUEUED = 1000  # writes waiting at most; more wait for room (back-pressure)


@dataclass
class FailedWrite:
    """A submitted write the background thread could not make (it was not saved)."""

    method: str  # ConversationLog method name
    args: tuple  # its positional arguments (may hold unredacted text: never print them)
    kwargs: dict  # its keyword arguments
    error: BaseException  # what went wrong

    def __repr__(self) -> str:  # without the arguments, which may hold customer data
        return f"FailedWrite({self.method}, {self.error!r})"


class LogWriter:
    """Runs `ConversationLog` write methods in submission order on a background thread.

    Reads go to `writer.log` directly; they see a write once it is done (`flush()` first to
    read your own writes). For a file log the thread uses its own connection, so readers never
    wait on the writer (WAL). Do not mutate objects (metadata, replies) after submitting them:
    they are serialised in the thread.
    """

    def __init__(
        self,
        log: ConversationLog,
        *,
        busy_wait: float = BUSY_WAIT_S,
        max_queued: int = MAX_QUEUED,
        on_failure: Callable[[FailedWrite], None] | None = None,
    ) -> None:
        """Start the writer thread for `log` (which stays open and owned by the caller).

        `on_failure` is called (on the writer thread) with each submitted write that failed.
        """
        self.log = log
        self.busy_wait = busy_wait
        self.max_queued = max_queued
        self.on_failure = on_failure
        if log.path is None:
            self._target = log  # ":memory:" cannot be opened twice; share it under its lock
        else:
            self._target = ConversationLog(
                log.path,
                log.redaction,
                synchronous=log.synchronous,
                check=False,  # the caller's log just checked the file
                busy_timeout_ms=min(BUSY_SLICE_MS, log.busy_timeout_ms),
            )
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._room = threading.BoundedSemaphore(max_queued)
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
        the call site. Pass pre-generated ids (`new_id()`) to know them before the write. A
        failure is reported (see the module docstring). When `max_queued` writes are waiting,
        this waits up to `busy_wait` seconds for room, then raises LogError.
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
        if self._closed:
            raise LogError(f"LogWriter for {self.log.name} is closed; {name} not written.")
        if not self._room.acquire(timeout=self.busy_wait):
            raise LogError(
                f"{self.max_queued} conversation-log writes are waiting for {self.log.name}, "
                f"and none finished in {self.busy_wait:g} s: {name} not queued. Is another "
                "program holding the log's write lock?"
            )
        with self._cond:
            if self._closed:
                self._room.release()
                raise LogError(f"LogWriter for {self.log.name} is closed; {name} not written.")
            self._pending += 1
            self._queue.put((name, args, kwargs))

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is _STOP:
                return
            name, args, kwargs = job
            error = self._attempt(name, args, kwargs)
            failure = None
            with self._cond:
                if error is not None:
                    failure = FailedWrite(name, args, kwargs, error)
                    self._failed.append(failure)
                self._pending -= 1
                self._room.release()
                self._cond.notify_all()
            if failure is not None and self.on_failure is not None:
                try:
                    self.on_failure(failure)
                except Exception:  # noqa: BLE001 - a reporting callback must not stop the writer
                    pass

    def _attempt(self, name: str, args: tuple, kwargs: dict) -> BaseException | None:
        """Make the write, retrying a busy log until `busy_wait` passes; the error, or None."""
        deadline = monotonic() + self.busy_wait
        while True:
            started = monotonic()
            try:
                getattr(self._target, name)(*args, **kwargs)
                return None
            except Exception as exc:  # reported: on_failure, flush, close
                if not is_busy(exc):
                    return exc
                if monotonic() >= deadline:
                    error = LogError(
                        f"{name}: the conversation log {self.log.name} stayed busy "
                        f"(another program held its write lock) for {self.busy_wait:g} s."
                    )
                    error.__cause__ = exc
                    return error
                if monotonic() - started < BUSY_SLICE_MS / 1000 / 2:
                    sleep(BUSY_SLICE_MS / 1000)  # SQLite gave up at once: wait a slice here

    def _failure_error(self, failures: list[FailedWrite]) -> LogError:
        first = failures[0]
        error = LogError(
            f"{len(failures)} conversation-log write(s) to {self.log.name} failed and were not "
            f"saved; first: {first.method}: {first.error}"
        )
        error.__cause__ = first.error
        return error

    @property
    def failed(self) -> list[FailedWrite]:
        """Every submitted write that failed so far (oldest first)."""
        with self._cond:
            return list(self._failed)

    @property
    def pending(self) -> int:
        """How many submitted writes are not written yet."""
        with self._cond:
            return self._pending

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every queued write is finished; False if some are left after `timeout`."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending, timeout)

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued write is finished; raise LogError for new failures.

        Raises LogError if writes are still pending after `timeout` seconds (they keep going),
        and for submitted writes that failed since the last `flush`.
        """
        if not self.wait(timeout):
            raise LogError(
                f"{self.pending} conversation-log write(s) still pending after "
                f"{timeout} s; they are still being written. Call flush() again."
            )
        with self._cond:
            new = self._failed[self._reported :]
            self._reported = len(self._failed)
        if new:
            raise self._failure_error(new)

    def close(self, timeout: float | None = None) -> None:
        """Write everything queued, stop the thread; raise LogError if any write ever failed.

        Every call raises while there are failures (a command's exit status must show them);
        the wrapped log stays open (its owner closes it).
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
        failures = self.failed
        if failures:
            raise self._failure_error(failures)

    def _close_at_exit(self) -> None:
        try:
            self.close()
        except LogError as exc:
            print(f"assistant: {exc}", file=sys.stderr)

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
