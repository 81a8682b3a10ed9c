"""Who hears what a client reports when the command that built it names no one.

The CLI makes its status line (``cli.activity``) the listener of the whole command; the one
place a client is built (``workspace``) hands it the events of every client whose command
did not route them itself. So every command that talks to the API (``list``, ``import``,
``adopt``, ``state rebuild``, not only ``plan`` and ``apply``) says what it waits for: the
rate limit, a retry, an answer that does not come. A context variable, so that a test or a
library caller that sets nothing hears nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

Listener = Callable[[Any], None]

_LISTENER: ContextVar[Listener | None] = ContextVar("reconciler_listener", default=None)


def current() -> Listener | None:
    """The listener of the command running now, if any."""
    return _LISTENER.get()


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Make ``listener`` hear the client events of the block's clients."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)
