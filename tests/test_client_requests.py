"""The requests the client sends, in the forms the vendor's pages document (issue 21, 24.1).

- reads by id: ``?ids=520591``, "Example: ``?ids=18426&ids=84516``" (the Get page); never the
  comma list ``ids=1,2`` no page shows;
- a PUT carries the live series' ``orgId`` (the Update page's error table: "Verify that the
  series ID is a valid long integer and orgId is provided"; both its examples send it);
- a batch limit learned from a refusal applies to the batches already queued.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from reconciler.client import CallDone, ClientEvent, CouponClient
from reconciler.client.credentials import Credentials
from reconciler.client.session import Call
from reconciler.errors import BadResponse
from reconciler.model.settings import DEFAULT_BATCH_SIZE, Environment

pytestmark = pytest.mark.anyio

BASE = "https://eu.api.capillarytech.com"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def client_for(handler: Any, **kwargs: Any) -> CouponClient:
    async def no_sleep(seconds: float) -> None:
        await asyncio.sleep(0)

    return CouponClient(
        base_url=BASE,
        credentials=Credentials(username="till", password="pw"),
        transport=httpx.MockTransport(handler),
        sleep=no_sleep,
        rate_limit_per_minute=10**6,
        **kwargs,
    )


async def test_reads_repeat_the_ids_key() -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        ids = [int(i) for i in request.url.params.get_list("ids")]
        return httpx.Response(200, json={"entity": [{"id": i} for i in ids], "warnings": []})

    async with client_for(handler, batch_size=3) as client:
        result = await client.get_series([18426, 84516, 3, 4])
    assert sorted(result.found) == [3, 4, 18426, 84516]
    queries = sorted(r.url.query.decode() for r in seen)
    assert queries == ["ids=18426&ids=84516&ids=3", "ids=4"]
    assert all("," not in q and "%2C" not in q for q in queries)


def test_messages_show_a_long_read_briefly() -> None:
    call = Call("GET", "/v2/coupon/series", params={"ids": [str(i) for i in range(1, 101)]})
    assert call.shown == "/v2/coupon/series?ids=1&ids=2&ids=3&... (100 ids)"
    assert Call("GET", "/x", params={"ids": ["7"], "format": "json"}).shown == "/x?ids=7"


def test_the_default_batch_is_near_the_largest_a_server_was_seen_to_take() -> None:
    assert DEFAULT_BATCH_SIZE == 100
    assert Environment(name="e").batch_size == DEFAULT_BATCH_SIZE
    client = CouponClient(base_url=BASE, credentials=Credentials(username="u", password="p"))
    assert client.batch_size == DEFAULT_BATCH_SIZE


@pytest.mark.parametrize(("batch", "limit", "concurrency"), [(20, 10, 2), (200, 100, 4)])
async def test_a_learned_limit_applies_to_the_batches_already_queued(
    batch: int, limit: int, concurrency: int
) -> None:
    """Issue 24.1: with 200 against a 100-id limit every queued batch was refused first."""
    refused = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal refused
        ids = [int(i) for i in request.url.params.get_list("ids")]
        await asyncio.sleep(0.001)  # the queued batches wait for a slot meanwhile
        if len(ids) > limit:
            refused += 1
            body = {"errors": [{"code": 400, "message": f"At most {limit} ids per call"}]}
            return httpx.Response(400, json=body)
        return httpx.Response(200, json={"entity": [{"id": i} for i in ids], "warnings": []})

    events: list[ClientEvent] = []
    ids = list(range(1, 50 * batch + 1))
    async with client_for(
        handler, batch_size=batch, concurrency=concurrency, on_event=events.append
    ) as client:
        result = await client.get_series(ids)
        assert client.batch_limit == limit
    assert len(result.found) == len(ids)
    assert 1 <= refused <= concurrency  # one per slot in flight, not one per batch (50)
    good = [e for e in events if isinstance(e, CallDone) and e.status == "200"]
    assert len(good) == len(ids) // limit


async def test_a_put_carries_the_org_id_it_is_given() -> None:
    bodies: list[Any] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"id": 877510, "orgId": 100737})

    async with client_for(handler) as client:
        await client.update_series(877510, {"description": "d"}, org_id=100737)
    assert bodies == [{"CouponSeriesV2": {"description": "d", "orgId": 100737}}]


@pytest.mark.parametrize("org_id", [None, "100737", True])
async def test_a_put_without_an_org_id_is_not_sent(org_id: Any) -> None:
    calls: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"id": 1})

    async with client_for(handler) as client:
        with pytest.raises(BadResponse, match="orgId"):
            await client.update_series(1, {"description": "d"}, org_id=org_id)
    assert calls == []
