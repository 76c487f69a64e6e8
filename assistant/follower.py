"""The engine a long-running process answers with, kept on the models directory's current version.

The chat (`assistant.service.AssistantService`) and the triage console
(`assistant.tui.triage.TicketDesk`) run for hours while `assistant models promote`,
`assistant models rollback` or `assistant retrain` switch the current version. Both hold their
engine in a `ModelFollower`:

- `engine` is the engine in use; callers take it once per turn (the chat) or per suggestion
  (the console) and keep that reference to the end of it, so one turn is answered by one
  version and a switch never waits for a turn;
- `follow` starts a daemon thread that stats the pointer once per `interval`
  (`assistant.versions.PointerWatch`); when it names another version, the thread loads it with
  the process's own `load` (same KB, same config) and swaps it in, then says so to `notice`.
  Nothing waits for the load: the loaded version answers until the new one is ready;
- a version that cannot be loaded is reported, and the loaded one answers on.

The conversation is in the log, not in the engine, so it goes on across a switch.

    follower = ModelFollower(load_in_background(load), notice=print)
    follower.follow("models", load)     # `assistant models promote 3` elsewhere ...
    follower.engine.model_version       # ... "3" within a second or two (once loaded)

No torch here (the load function brings it): the chat and `ask` import this at start-up.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

FOLLOW_EVERY_S = 1.0  # the pointer is checked this often (one stat)


def load_in_background(load: Callable[[], Any], name: str = "load-models") -> Future:
    """Run `load()` in a daemon thread; the Future holds its engine or what it raised."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(load())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the engine
            future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


def version_of(engine: Any) -> str | None:
    """The models directory's version an engine was loaded from (None: not versioned)."""
    return getattr(engine, "model_version", None)


class ModelFollower:
    """Holds the engine in use and swaps in the models directory's current version (see the
    module doc). `engine` may be a `DialogueEngine`, a `Future` of one still loading, or None
    (no models: nothing to follow)."""

    def __init__(self, engine: Any, notice: Callable[[str], None] | None = None) -> None:
        self._engine = engine
        self._notice = notice or (lambda text: None)
        self._changed = threading.Condition()  # guards `_engine`; notified on every swap
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.load: Callable[[], Any] | None = None  # how `follow` loads a version
        self.switches = 0  # versions swapped in since start (tests and the console read it)
        if isinstance(engine, Future):  # `wait_for_version` wakes when the first one is loaded
            engine.add_done_callback(lambda _: self._wake())

    # -- the engine in use ---------------------------------------------------------------------
    @property
    def engine(self) -> Any:
        """The engine in use: waits while the first one loads (and raises what loading
        raised); None without models."""
        with self._changed:
            engine = self._engine
        if isinstance(engine, Future):
            loaded = engine.result()
            with self._changed:
                if self._engine is engine:  # not replaced meanwhile
                    self._engine = loaded
                else:
                    loaded = self._engine
            engine = loaded
        return engine

    def loaded(self) -> Any:
        """The engine in use if it is loaded, else None (never waits)."""
        with self._changed:
            engine = self._engine
        if isinstance(engine, Future):
            if not engine.done() or engine.exception() is not None:
                return None
            engine = engine.result()
        return engine

    @property
    def version(self) -> str | None:
        """The version in use, without waiting (None while loading, or not versioned)."""
        return version_of(self.loaded())

    def _wake(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def wait_for_version(self, version: str, timeout: float) -> bool:
        """Block until `version` is in use or `timeout` seconds passed; whether it is."""
        with self._changed:
            return self._changed.wait_for(lambda: self.version == version, timeout)

    # -- following the pointer -----------------------------------------------------------------
    def follow(
        self,
        models_dir: str | os.PathLike,
        load: Callable[[], Any] | None = None,
        interval: float = FOLLOW_EVERY_S,
    ) -> None:
        """Follow `models_dir`'s current version: checked every `interval` seconds, loaded with
        `load` (default: the one given before) in this follower's thread, swapped in once
        loaded. Calling it again restarts the thread (another interval, say)."""
        from assistant.versions import PointerWatch

        load = load or self.load
        if load is None:
            raise ValueError("ModelFollower.follow needs `load` the first time it is called.")
        self.stop()
        self.load = load
        self._stop = stop = threading.Event()
        # check_now: the engine may have been loaded (or be loading) from a pointer that was
        # switched before the watch began.
        watch = PointerWatch(models_dir, None, check_now=True)
        self._thread = threading.Thread(
            target=self._run, args=(watch, load, interval, stop), name="follow-models", daemon=True
        )
        self._thread.start()

    def _run(self, watch, load: Callable[[], Any], interval: float, stop: threading.Event) -> None:
        wanted: str | None = None  # the current version, once the pointer named another one
        while not stop.wait(interval):
            watch.version = self.version
            if watch.version is None:
                continue  # still loading (or not versioned): compare once something is in use
            changed = watch.changed()
            if changed is not None:
                wanted = changed
            if wanted is None or wanted == watch.version:
                continue
            target, wanted = wanted, None
            try:
                engine = load()  # the current version, whatever it is by now
            except Exception as exc:  # noqa: BLE001 - reported; the loaded version answers on
                self._notice(
                    f"Model version {target} could not be loaded ({exc}); still using version "
                    f"{watch.version}."
                )
                continue
            if stop.is_set():
                return  # closed while loading: nobody needs it
            self._swap(engine)

    def _swap(self, engine: Any) -> None:
        with self._changed:
            old = version_of(self.loaded())
            new = version_of(engine)
            if new == old:
                return  # switched there and back while loading: nothing changes
            self._engine = engine
            self.switches += 1
            self._changed.notify_all()
        self._notice(f"Models: now version {new} (was {old}).")

    def stop(self) -> None:
        """Stop following (a load in progress finishes and is dropped)."""
        self._stop.set()


__all__ = ["FOLLOW_EVERY_S", "ModelFollower", "load_in_background", "version_of"]
