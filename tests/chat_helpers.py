"""Helpers for driving the Textual chat with Pilot: wait on the app's state, never sleep."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from weakref import WeakKeyDictionary

_waiting: WeakKeyDictionary = WeakKeyDictionary()  # app -> the events of `until` calls on it


def asynchronous(test):
    """Run an async Pilot test with `asyncio.run` (no pytest async plugin needed)."""

    @functools.wraps(test)
    def run() -> None:
        asyncio.run(test())

    return run


def run_chat(app, **options):
    """`app.run_test(**options)`, with every message the app receives waking `until`."""

    def poke(_message: object) -> None:
        for event in _waiting.get(app, ()):
            event.set()

    return app.run_test(message_hook=poke, **options)


async def until(pilot, condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait until `condition()` is true, re-checking whenever the chat's state moves.

    The check runs again whenever the app receives a message (apps started with `run_chat`)
    and whenever the chat's public state moves: `busy` (a backend call started or ended),
    `status` and `conversation_id` (what is on screen), `log_synced` (the screen caught up with
    the log) and Textual's `screen_change_signal` (a dialog opened or closed); the last ones
    also cover results a worker hands over with `call_from_thread`. Fails the test after
    `timeout` seconds.
    """
    app = pilot.app
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    moved = asyncio.Event()

    def wake(*_: object) -> None:
        moved.set()

    for attribute in ("busy", "status", "conversation_id"):
        app.watch(app, attribute, wake, init=False)
    app.log_synced.subscribe(app, wake, immediate=True)
    app.screen_change_signal.subscribe(app, wake, immediate=True)
    _waiting.setdefault(app, set()).add(moved)
    try:
        await _until(pilot, condition, moved, loop, deadline, timeout)
    finally:
        _waiting[app].discard(moved)


async def _until(pilot, condition, moved, loop, deadline, timeout) -> None:
    while True:
        await pilot.pause()  # let posted messages and mounts land
        moved.clear()  # what moves from here on wakes the wait below
        if condition():
            return
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"the chat never reached the expected state in {timeout} s")
        try:
            await asyncio.wait_for(moved.wait(), remaining)
        except TimeoutError:
            if not condition():
                raise AssertionError(
                    f"the chat never reached the expected state in {timeout} s"
                ) from None
