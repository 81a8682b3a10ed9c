"""CouponClient against the sandbox, in process and over loopback HTTP (uvicorn).

Each test runs twice: with the sandbox's in-process transport and against a real server on
a free loopback port. Waits the client would make (backoff, Retry-After) go to a fake sleep,
so the tests stay fast; the sandbox's own timeouts are real but short.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.client import BatchSizeLearned, ClientEvent, CouponClient, Retrying
from reconciler.client.credentials import Credentials
from reconciler.errors import AmbiguousCreate, AuthError
from reconciler.sandbox import Sandbox, create_app, inprocess_transport, running_server

pytestmark = pytest.mark.anyio

SEEDED = (520591, 698948)
NEW_SERIES: dict[str, Any] = {
    "description": "Diwali 10% off",
    "discountCode": "DIWALI10",
    "validTillDate": "2030-12-31T23:59:59+05:30",
    "anyUser": True,
    "smsTemplate": "Hi {{first_name}}, your voucher {{voucher}}",
    "discountValue": 10,
    "clientHandlingType": "DISC_CODE",
    "expiryStrategyType": "SERIES_EXPIRY",
    "expiryStrategyValue": 1,
    "discountType": "PERC",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Target:
    kind: str
    base_url: str
    transport: httpx.AsyncBaseTransport | None
    sandbox: Sandbox
    sleeps: list[float]
    events: list[ClientEvent]

    def client(self, **kwargs: Any) -> CouponClient:
        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            await asyncio.sleep(0)

        options: dict[str, Any] = {
            "credentials": Credentials.sandbox(environ={}),
            "sleep": sleep,
            "rate_limit_per_minute": 1000,
            "timeout_seconds": 5.0,
            "on_event": self.events.append,
            **kwargs,
        }
        return CouponClient(base_url=self.base_url, transport=self.transport, **options)


@pytest.fixture(params=["inprocess", "http"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    app = create_app(db_path=tmp_path / "sandbox.db")
    sandbox: Sandbox = app.state.sandbox
    try:
        if request.param == "inprocess":
            yield Target("inprocess", "http://localhost", inprocess_transport(app), sandbox, [], [])
        else:
            with running_server(app) as url:
                yield Target("http", url, None, sandbox, [], [])
    finally:
        sandbox.close()


@pytest.mark.parametrize("auth", ["basic", "oauth"])
async def test_reads_the_seeded_series_both_auth_kinds(target: Target, auth: str) -> None:
    async with target.client(auth=auth) as client:
        result = await client.get_series([*SEEDED, 1])
        assert client.tokens_generated == (1 if auth == "oauth" else 0)
    assert sorted(result.found) == list(SEEDED)
    assert result.found[520591]["id"] == 520591
    assert result.missing == (1,)
    assert any("707" in str(w) for w in result.warnings)


@pytest.mark.parametrize("auth", ["basic", "oauth"])
async def test_wrong_credentials_are_an_auth_error(target: Target, auth: str) -> None:
    wrong = Credentials(
        username="sandbox.till", password="wrong", oauth_key="sandbox-key", oauth_secret="wrong"
    )
    async with target.client(auth=auth, credentials=wrong) as client:
        with pytest.raises(AuthError) as caught:
            await client.get_series(list(SEEDED))
    assert caught.value.status == 401
    assert "wrong" not in str(caught.value)


async def test_batches_within_the_servers_max_batch_size(target: Target) -> None:
    target.sandbox.configure(max_batch_size=2)
    ids = [*SEEDED, 3, 4, 5]
    async with target.client(batch_size=2, concurrency=2) as client:
        result = await client.get_series(ids)
    assert sorted(result.found) == list(SEEDED)
    assert result.missing == (3, 4, 5)
    assert not [e for e in target.events if isinstance(e, BatchSizeLearned)]
    async with target.client(batch_size=4) as client:
        result = await client.get_series(ids)  # refused for 4 ids: split to the 2 allowed
        assert client.batch_limit == 2 and client.effective_batch_size == 2
    assert sorted(result.found) == list(SEEDED)
    assert result.missing == (3, 4, 5)
    (learned,) = [e for e in target.events if isinstance(e, BatchSizeLearned)]
    assert (learned.batch_size, learned.refused_size) == (2, 4)
    assert "At most 2 ids" in learned.reason


async def test_create_update_and_list(target: Target) -> None:
    async with target.client(auth="oauth") as client:
        created = await client.create_series(NEW_SERIES)
        new_id = created["id"]
        changed = {**NEW_SERIES, "seriesCode": created["seriesCode"], "description": "changed"}
        updated = await client.update_series(new_id, changed, org_id=created["orgId"])
        listed = await client.list_series()
        read = await client.get_series([new_id])
    assert updated["id"] == new_id
    assert read.found[new_id]["description"] == "changed"
    by_id = {item.series_id: item for item in listed.series}
    assert set(by_id) == {*SEEDED, new_id}
    assert by_id[new_id].discount_code == "DIWALI10"


@pytest.mark.parametrize("mode", ["503", "reset"])
async def test_get_retried_after_a_failure(target: Target, mode: str) -> None:
    target.sandbox.fail_next_call(mode, method="GET")
    async with target.client() as client:
        result = await client.get_series(list(SEEDED))
    assert sorted(result.found) == list(SEEDED)
    retries = [e for e in target.events if isinstance(e, Retrying)]
    assert len(retries) == 1
    assert len(target.sleeps) == 1


async def test_post_timeout_after_is_ambiguous_and_creates_exactly_one(target: Target) -> None:
    target.sandbox.configure(hang_seconds=0.6)
    target.sandbox.fail_next_call("timeout_after", method="POST")
    before = target.sandbox.count_series()
    # Basic auth: with OAuth the token call, a POST too, would take the scripted failure.
    async with target.client(auth="basic", timeout_seconds=0.2) as client:
        with pytest.raises(AmbiguousCreate, match="may or may not exist") as caught:
            await client.create_series(NEW_SERIES)
    assert caught.value.method == "POST"
    assert not [e for e in target.events if isinstance(e, Retrying)]
    assert target.sandbox.count_series() == before + 1
    async with target.client() as client:
        listed = await client.list_series()
    assert [s.discount_code for s in listed.series].count("DIWALI10") == 1


async def test_post_reset_is_ambiguous_and_not_retried(target: Target) -> None:
    target.sandbox.fail_next_call("reset", method="POST")
    before = target.sandbox.count_series()
    async with target.client(auth="basic") as client:
        with pytest.raises(AmbiguousCreate):
            await client.create_series(NEW_SERIES)
    assert target.sandbox.count_series() == before  # the sandbox dropped it unserved


@pytest.mark.parametrize("mode", ["503", "503_after"])
async def test_post_503_is_ambiguous_and_never_resent(target: Target, mode: str) -> None:
    """A 503 does not say whether the series was made (503_after: it was): never resent."""
    target.sandbox.fail_next_call(mode, method="POST")
    before = target.sandbox.count_series()
    async with target.client(auth="basic") as client:
        with pytest.raises(AmbiguousCreate, match="503") as caught:
            await client.create_series(NEW_SERIES)
        listed = await client.list_series()
    assert caught.value.status == 503 and not caught.value.answer_lost
    made = 1 if mode == "503_after" else 0
    assert target.sandbox.count_series() == before + made
    assert [s.discount_code for s in listed.series].count("DIWALI10") == made
    assert target.sleeps == []


async def test_post_acted_on_late_is_ambiguous_and_made_once(target: Target) -> None:
    """The server acts on the POST after the client gave up: one series, no resend."""
    target.sandbox.configure(post_act_delay_seconds=0.5)
    before = target.sandbox.count_series()
    async with target.client(auth="basic", timeout_seconds=0.2) as client:
        with pytest.raises(AmbiguousCreate) as caught:
            await client.create_series(NEW_SERIES)
    assert caught.value.answer_lost
    assert target.sandbox.settle(timeout=5.0)
    assert target.sandbox.count_series() == before + 1


async def test_429_with_retry_after_is_honoured(target: Target) -> None:
    sandbox = target.sandbox
    sandbox.configure(rate_limit_per_minute=2)
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        sandbox.configure(rate_limit_per_minute=None)  # as if the minute had passed

    def clock() -> float:  # the client's clock moves with its waits
        return time.monotonic() + sum(waited)

    async with target.client(sleep=sleep, clock=clock) as client:
        for _ in range(3):
            result = await client.get_series(list(SEEDED))
    assert sorted(result.found) == list(SEEDED)
    (wait,) = waited
    assert 1 <= wait <= 60 and wait == int(wait)  # the server's Retry-After, in seconds
    (retry,) = [e for e in target.events if isinstance(e, Retrying)]
    assert retry.reason.startswith("429")
    assert retry.delay_seconds == wait


async def test_token_call_retried_after_a_503(target: Target) -> None:
    target.sandbox.fail_next_call("503", method="POST")  # taken by the token call
    async with target.client(auth="oauth") as client:
        result = await client.get_series(list(SEEDED))
        assert client.tokens_generated == 1
    assert sorted(result.found) == list(SEEDED)
    assert len(target.sleeps) == 1
