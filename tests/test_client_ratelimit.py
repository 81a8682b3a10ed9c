"""The default rate limit against the sandbox's own rate limiter, over loopback HTTP (24.4).

The tool's default limit equals the documented one (100 calls a minute) and the sandbox
refuses the 101st call that *arrives* within 60 s, with a 429 and ``Retry-After``, as the
issue measured (8 of 509 calls refused when the client counted at the send). A client at
every default setting reads more than a minute's worth of calls, with 50 ms added to each
call: not one 429. The test waits out one real window (about a minute, mostly asleep).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.client import CallDone, ClientEvent, CouponClient, RateLimitWait, Retrying
from reconciler.client.credentials import SANDBOX_PASSWORD, SANDBOX_USERNAME, Credentials
from reconciler.model.settings import Environment
from reconciler.sandbox import Faults, Sandbox, create_app, running_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[str, Sandbox]]:
    defaults = Environment(name="x")
    app = create_app(
        db_path=tmp_path / "sandbox.db",
        credentials=Credentials.sandbox(environ={}),
        faults=Faults(rate_limit_per_minute=defaults.rate_limit_per_minute, latency_seconds=0.05),
        seed=False,
    )
    sandbox: Sandbox = app.state.sandbox
    try:
        with running_server(app) as url:
            yield url, sandbox
    finally:
        sandbox.close()


def body(n: int) -> dict[str, Any]:
    return {
        "description": f"rate {n}",
        "discountCode": f"RATE{n}",
        "discountType": "ABS",
        "discountValue": 5,
        "anyUser": True,
        "smsTemplate": "x {{voucher}}",
        "clientHandlingType": "DISC_CODE",
        "expiryStrategyType": "SERIES_EXPIRY",
        "validTillDate": "2030-01-01T00:00:00Z",
    }


async def test_no_429_at_the_default_settings(limited: tuple[str, Sandbox]) -> None:
    url, sandbox = limited
    environment = Environment(name="x", base_url=url)
    limit = environment.rate_limit_per_minute
    reads = limit + 10  # one window's worth and then some
    # One series a read: the calls of a large org's reads (at the default batch of 100,
    # 11,000 series) without making the stand-in list 11,000 series twice.
    ids = sandbox.preload([body(n) for n in range(reads)])
    events: list[ClientEvent] = []
    environ = {"CAPILLARY_USERNAME": SANDBOX_USERNAME, "CAPILLARY_PASSWORD": SANDBOX_PASSWORD}
    async with CouponClient.from_environment(
        environment, environ=environ, on_event=events.append
    ) as client:
        listed = await client.list_series()  # two calls: expired=false, expired=true
        results = await asyncio.gather(*(client.get_series([i]) for i in ids))
    assert len(listed.series) == len(ids)
    assert sorted(i for r in results for i in r.found) == sorted(ids)
    answered = [e.status for e in events if isinstance(e, CallDone)]
    assert len(answered) == reads + 2
    assert "429" not in answered, [e for e in events if isinstance(e, Retrying)]
    # The limit held the calls past the first window, and said so.
    assert [e for e in events if isinstance(e, RateLimitWait) and e.left_seconds is None]
