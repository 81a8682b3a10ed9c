"""A client-side rate limit that the server's count can never exceed.

The server counts a call when it *arrives*; a client that counts when it *sends* drifts from
that count by however long the bytes take to get there (a busy event loop, a slow network, a
proxy queue), and at a limit equal to the server's it draws 429s (8 of 509 calls, measured at
100 a minute). So this limiter counts each call from its send until its answer, and the
window from the answer:

- a call holds a *slot* from the moment it may be sent until ``window + margin`` seconds
  after its answer (or its failure) came back; at most ``limit`` slots are held at once;
- the server received the call at some moment between the send and the answer, so the next
  call that takes the slot is sent at least ``window + margin`` after that arrival, and
  arrives later still: any ``window`` seconds of the server's clock see at most ``limit`` of
  our calls, however their travel times vary, and whether the server slides its window or
  counts whole minutes (a fixed minute is one of the windows a sliding count covers);
- ``margin`` (1 s by default) covers a server that rounds its timestamps to whole seconds.

The cost: each call's slot lasts its own duration longer than the window (50 ms a call: 100
calls take 60.05 + 1 s, not 60 s; under 2 % at 100 a minute). With at most ``limit`` slots in
any window the server's count is never reached, so the default rate limit can equal the
server's documented one (docs/performance.md has the measurement).

``hold_until`` makes every call wait until a moment the server named (a 429's
``Retry-After``): one call told to wait is a sign that the next ones would be refused too.

Every concurrent call shares one limiter; waiters are served in arrival order (the lock is
held while one of them waits). Time comes from the injected ``clock``; the waits go through
``pause`` (the session's, which reports them), so that tests run without real waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections.abc import AsyncIterator, Awaitable, Callable

# Seconds added to the window after each answer (see the module docstring).
ARRIVAL_MARGIN_SECONDS = 1.0

Pause = Callable[[float], Awaitable[None]]


class RateLimiter:
    """At most ``limit`` calls in any ``window`` seconds, counted from each call's answer."""

    def __init__(
        self,
        *,
        limit: int,
        window: float = 60.0,
        margin: float = ARRIVAL_MARGIN_SECONDS,
        clock: Callable[[], float],
        sleep: Pause,
    ) -> None:
        if limit < 1:
            raise ValueError(f"a rate limit must allow at least 1 request, not {limit}")
        if window <= 0:
            raise ValueError(f"a rate limit window must be positive, not {window}")
        self.limit = limit
        self.window = window
        self.margin = max(0.0, margin)
        self._clock = clock
        self._sleep = sleep
        self._ends: list[float] = []  # a heap: when each answered call's slot frees
        self._in_flight = 0
        self._released = asyncio.Event()
        self._held_until = 0.0
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"RateLimiter({self.limit} per {self.window:g}s + {self.margin:g}s)"

    def hold_until(self, moment: float) -> None:
        """No call may start before ``moment`` (by the clock): the server asked to wait."""
        self._held_until = max(self._held_until, moment)

    @contextlib.asynccontextmanager
    async def slot(self, *, pause: Pause | None = None) -> AsyncIterator[float]:
        """Hold a slot for the block (the send until the answer); yields the seconds waited.

        ``pause`` waits out a delay instead of the plain ``sleep`` (to report it)."""
        waited = await self.acquire(pause=pause)
        try:
            yield waited
        finally:
            self.release()

    async def acquire(self, *, pause: Pause | None = None) -> float:
        """Wait until a call may start and take its slot; the seconds waited (by the clock).
        Every ``acquire`` is followed by one ``release`` when the call ends."""
        wait = pause or self._sleep
        async with self._lock:
            first = self._clock()
            while True:
                now = self._clock()
                while self._ends and self._ends[0] <= now:
                    heapq.heappop(self._ends)
                if now < self._held_until:
                    await wait(self._held_until - now)
                    continue
                if len(self._ends) + self._in_flight < self.limit:
                    self._in_flight += 1
                    return now - first
                if self._ends:
                    await wait(self._ends[0] - now)
                else:  # every slot is a call still in flight: the first answer frees one
                    self._released.clear()
                    await self._released.wait()

    def release(self) -> None:
        """A call holding a slot ended (answered or failed): its slot frees a window later."""
        self._in_flight = max(0, self._in_flight - 1)
        heapq.heappush(self._ends, self._clock() + self.window + self.margin)
        self._released.set()
