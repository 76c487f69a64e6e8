"""Helpers for driving the Textual chat with Pilot: wait on the app's state, never sleep."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable


def asynchronous(test):
    """Run an async Pilot test with `asyncio.run` (no pytest async plugin needed)."""

    @functools.wraps(test)
    def run() -> None:
        asyncio.run(test())

    return run


async def until(pilot, condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait until `condition()` is true, re-checking whenever the chat's state moves.

    The chat's public state wakes the check: `busy` (a backend call started or ended),
    `status` and `conversation_id` (what is on screen), `log_synced` (the screen caught up with
    the log) and Textual's `screen_change_signal` (a dialog opened or closed). Fails the test
    after `timeout` seconds.
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
    while True:
        moved.clear()
        await pilot.pause()  # let posted messages and mounts land
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
