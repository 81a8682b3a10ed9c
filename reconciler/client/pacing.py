"""Saying what a call waits for while it waits: a tick about once a second.

A wait that says nothing for a minute looks like a hang. While a call waits (for the rate
limit, before a retry, or for an answer that does not come) a timer of the event loop calls
``tick`` after ``first_after`` seconds and then every ``every`` seconds, until the wait ends;
the session turns each tick into an event (``events``) that the terminal shows as a
countdown. A timer, not a task: a call that is answered at once costs one timer handle.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator

# How long a call may wait for its answer before the terminal says so, and how often after.
NOTICE_AFTER_SECONDS = 3.0
TICK_SECONDS = 1.0


@contextlib.contextmanager
def ticking(*, first_after: float, every: float, tick: Callable[[], None]) -> Iterator[None]:
    """Call ``tick`` after ``first_after`` seconds, then every ``every`` seconds, until the
    block ends (however it ends). A ``tick`` that raises is not called again."""
    loop = asyncio.get_running_loop()
    handle: asyncio.TimerHandle | None = None

    def fire() -> None:
        nonlocal handle
        handle = None
        tick()
        handle = loop.call_later(every, fire)

    handle = loop.call_later(first_after, fire)
    try:
        yield
    finally:
        if handle is not None:
            handle.cancel()
