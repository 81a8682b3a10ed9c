"""The client-side rate limit against a server that counts calls when they arrive (24.4).

With the tool's limit equal to the server's, counting at the send drew 8 429s in 509 calls:
the server counts at arrival, and travel times vary. The limiter holds each call's slot from
its send until a window (plus a margin) after its answer; a simulated server that counts
arrivals with a sliding window, fed calls with random travel times, never sees more than
the limit in any window. A limiter that counted at the send (the old one, simulated by
releasing at the send) does, on the same draws: the test can fail.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from reconciler.client.ratelimit import ARRIVAL_MARGIN_SECONDS, RateLimiter

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Sim:
    """Simulated time: ``sleep`` advances it for the sleeper's own task (an event queue)."""

    now: float = 0.0
    wakeups: list[tuple[float, int, asyncio.Future[None]]] = field(default_factory=list)
    _order: int = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._order += 1
        self.wakeups.append((self.now + max(seconds, 0.0), self._order, future))
        await future

    async def run(self, work: Awaitable[object]) -> None:
        """Run ``work``, advancing time to the next wake-up whenever every task waits."""
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(50):  # let every runnable task run
                await asyncio.sleep(0)
            if task.done() or not self.wakeups:
                continue
            self.wakeups.sort()
            at, _, future = self.wakeups.pop(0)
            self.now = max(self.now, at)
            future.set_result(None)
        task.result()


def over_limit(arrivals: list[float], *, limit: int, window: float) -> int:
    """Calls a server counting arrivals in a sliding ``window`` would refuse."""
    ordered = sorted(arrivals)
    refused = 0
    for i, at in enumerate(ordered):
        if sum(1 for t in ordered[:i] if at - t < window - 1e-9) >= limit:
            refused += 1
    return refused


async def traffic(
    sim: Sim,
    *,
    acquire: Callable[[], Awaitable[float]],
    release: Callable[[], None],
    calls: int,
    concurrency: int,
    seed: int,
) -> list[float]:
    """``calls`` calls, ``concurrency`` at a time, each arriving after a random transit (up to
    1.5 s: a busy event loop, a slow proxy) and answered 50 ms later."""
    rng = random.Random(seed)
    arrivals: list[float] = []
    queue = list(range(calls))

    async def worker() -> None:
        while queue:
            queue.pop()
            await acquire()
            transit = rng.choice([0.01, 0.05, 0.3, 1.5])
            await sim.sleep(transit)
            arrivals.append(sim.now)
            await sim.sleep(0.05)
            release()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return arrivals


@pytest.mark.parametrize("seed", range(5))
async def test_a_server_counting_arrivals_never_refuses(seed: int) -> None:
    sim = Sim()
    limiter = RateLimiter(limit=10, window=60.0, clock=sim.clock, sleep=sim.sleep)
    arrivals: list[float] = []

    async def go() -> None:
        arrivals.extend(
            await traffic(
                sim,
                acquire=limiter.acquire,
                release=limiter.release,
                calls=60,
                concurrency=4,
                seed=seed,
            )
        )

    await sim.run(go())
    assert len(arrivals) == 60
    assert over_limit(arrivals, limit=10, window=60.0) == 0
    # The cost: each window of 10 calls takes about 60 s + the margin + the calls' durations.
    assert sim.now < 6 * (60 + ARRIVAL_MARGIN_SECONDS + 2 * 1.55) + 2


async def counted_at_the_send(seed: int) -> tuple[list[float], list[float]]:
    """The old limiter (a slot from the send only) under ``traffic``: sends and arrivals."""
    sim = Sim()
    limiter = RateLimiter(limit=10, window=60.0, margin=0.0, clock=sim.clock, sleep=sim.sleep)
    sent: list[float] = []
    arrivals: list[float] = []

    async def acquire() -> float:
        waited = await limiter.acquire()
        limiter.release()  # counted at the send, as before
        sent.append(sim.now)
        return waited

    async def go() -> None:
        arrivals.extend(
            await traffic(
                sim, acquire=acquire, release=lambda: None, calls=60, concurrency=4, seed=seed
            )
        )

    await sim.run(go())
    return sent, arrivals


async def test_counting_at_the_send_draws_refusals_on_the_same_traffic() -> None:
    refused = 0
    for seed in range(5):
        sent, arrivals = await counted_at_the_send(seed)
        assert over_limit(sent, limit=10, window=60.0) == 0  # fine by the client's count
        refused += over_limit(arrivals, limit=10, window=60.0)
    assert refused > 0


async def test_a_retry_after_holds_every_call() -> None:
    sim = Sim()
    limiter = RateLimiter(limit=100, window=60.0, clock=sim.clock, sleep=sim.sleep)
    starts: list[float] = []

    async def call() -> None:
        async with limiter.slot():
            starts.append(sim.now)

    async def go() -> None:
        await call()
        limiter.hold_until(sim.now + 7.5)  # a 429 said: Retry-After 7.5
        await asyncio.gather(call(), call(), call())

    await sim.run(go())
    assert starts == [0.0, 7.5, 7.5, 7.5]


async def test_with_every_slot_in_flight_the_next_call_waits_a_window_after_an_answer() -> None:
    sim = Sim()
    limiter = RateLimiter(limit=2, window=60.0, clock=sim.clock, sleep=sim.sleep)
    starts: list[float] = []

    async def call(duration: float) -> None:
        async with limiter.slot():
            starts.append(sim.now)
            await sim.sleep(duration)

    async def go() -> None:
        await asyncio.gather(call(10.0), call(20.0), call(1.0))

    await sim.run(go())
    # The third call takes the slot that the first call's answer (at 10 s) frees 61 s later.
    assert starts == [0.0, 0.0, 10.0 + 60.0 + ARRIVAL_MARGIN_SECONDS]


async def test_waits_go_through_the_pause_given() -> None:
    sim = Sim()
    limiter = RateLimiter(limit=1, window=60.0, margin=0.0, clock=sim.clock, sleep=sim.sleep)
    paused: list[float] = []

    async def pause(seconds: float) -> None:
        paused.append(seconds)
        await sim.sleep(seconds)

    async def go() -> None:
        async with limiter.slot(pause=pause):
            pass
        async with limiter.slot(pause=pause):
            pass

    await sim.run(go())
    assert paused == [60.0]


def test_limits_are_checked() -> None:
    async def sleep(_: float) -> None: ...

    with pytest.raises(ValueError):
        RateLimiter(limit=0, clock=lambda: 0.0, sleep=sleep)
    with pytest.raises(ValueError):
        RateLimiter(limit=1, window=0, clock=lambda: 0.0, sleep=sleep)
