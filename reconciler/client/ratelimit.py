"""A client-side rate limit: at most ``limit`` requests in any ``window`` seconds.

A sliding window of the start times of the last ``limit`` requests: a request may start
when fewer than ``limit`` started in the ``window`` seconds before it. Unlike a token bucket
that starts full, no window of that length ever holds more than ``limit`` requests, so a
burst stays under what the server counts however it aligns its minutes.

Every concurrent call shares one limiter; waiters are served in arrival order (the lock is
held while one of them waits). Time comes from the injected ``clock`` and ``sleep`` so that
tests run without real waiting.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable


class RateLimiter:
    """At most ``limit`` acquisitions in any ``window`` seconds."""

    def __init__(
        self,
        *,
        limit: int,
        window: float = 60.0,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        on_wait: Callable[[float], None] | None = None,
    ) -> None:
        if limit < 1:
            raise ValueError(f"a rate limit must allow at least 1 request, not {limit}")
        if window <= 0:
            raise ValueError(f"a rate limit window must be positive, not {window}")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._on_wait = on_wait
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"RateLimiter({self.limit} per {self.window:g}s)"

    async def acquire(self) -> float:
        """Wait until a request may start; return the seconds waited (by the clock)."""
        async with self._lock:
            first = self._clock()
            while True:
                now = self._clock()
                while self._starts and now - self._starts[0] >= self.window:
                    self._starts.popleft()
                if len(self._starts) < self.limit:
                    self._starts.append(now)
                    return now - first
                delay = self._starts[0] + self.window - now
                if self._on_wait is not None:
                    self._on_wait(delay)
                await self._sleep(delay)
