"""CouponClient against httpx.MockTransport: auth, batching, retries, rate limit, redaction.

Time is fake: the client gets a clock and a sleep that only move a number, so backoff,
Retry-After and the rate limit are checked exactly and without waiting.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import hashlib
import json
import logging
import time
import weakref
from collections.abc import Callable, Coroutine
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from reconciler.client import (
    AwaitingAnswer,
    BatchSizeLearned,
    CallDone,
    CallsPlanned,
    ClientEvent,
    CouponClient,
    FetchResult,
    RateLimitWait,
    Retrying,
    SeriesApi,
    SeriesReader,
    TokenGenerated,
)
from reconciler.client.credentials import Credentials
from reconciler.errors import (
    AmbiguousCreate,
    ApiError,
    AuthError,
    BadResponse,
    ConfigError,
    HttpStatusError,
    RateLimited,
    ReconcilerError,
    TransportError,
)
from reconciler.model.settings import Environment

pytestmark = pytest.mark.anyio

BASE = "https://eu.api.capillarytech.com"
PASSWORD = "s3cret-Passw0rd"
USERNAME = "till.mumbai.01"
OAUTH_KEY = "key-AbCdEf123"
OAUTH_SECRET = "oauth-SeCrEt-987"
BASIC = Credentials(username=USERNAME, password=PASSWORD)
OAUTH = Credentials(oauth_key=OAUTH_KEY, oauth_secret=OAUTH_SECRET)
MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()
BASIC_HEADER = "Basic " + base64.b64encode(f"{USERNAME}:{MD5}".encode()).decode()

Handler = Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]


def asked_ids(request: httpx.Request) -> list[int]:
    """The ids of a read, in the documented form only (``ids=1&ids=2``: the Get page)."""
    values = request.url.params.get_list("ids")
    assert values and all("," not in v for v in values), request.url
    return [int(v) for v in values]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeTime:
    """A monotonic clock that only the fake sleep moves."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def series(series_id: int, **extra: Any) -> dict[str, Any]:
    return {"id": series_id, "description": f"series {series_id}", "unknownField": 1, **extra}


def error_body(code: int, message: str) -> dict[str, Any]:
    return {
        "warnings": [],
        "errors": [{"status": False, "code": code, "message": message}],
        "success": False,
    }


def client_for(
    handler: Handler,
    *,
    credentials: Credentials = BASIC,
    fake: FakeTime | None = None,
    events: list[ClientEvent] | None = None,
    **kwargs: Any,
) -> CouponClient:
    fake = fake or FakeTime()
    return CouponClient(
        base_url=BASE,
        credentials=credentials,
        transport=httpx.MockTransport(handler),
        sleep=fake.sleep,
        clock=fake.clock,
        random=lambda: 1.0,
        on_event=None if events is None else events.append,
        **kwargs,
    )


def token_answer(token: str, ttl: int = 300) -> httpx.Response:
    return httpx.Response(
        200, json={"data": {"accessToken": token, "ttlSeconds": ttl}, "errors": None}
    )


# ---------------------------------------------------------------------------- construction


def test_base_url_must_be_https_except_loopback() -> None:
    for url in ("http://eu.api.capillarytech.com", "ftp://x.example", "not a url", "https://"):
        with pytest.raises(ConfigError):
            CouponClient(base_url=url, credentials=BASIC)
    for url in ("http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9", BASE + "/"):
        client = CouponClient(base_url=url, credentials=BASIC)
        assert not client.base_url.endswith("/")


def test_base_url_missing_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="CAPILLARY_BASE_URL"):
        CouponClient(base_url=None, credentials=BASIC)
    with pytest.raises(ConfigError, match="must not carry credentials"):
        CouponClient(base_url=f"https://u:{PASSWORD}@host.example", credentials=BASIC)


@pytest.mark.parametrize(
    "url",
    [
        "https://u:SECRETVALUE@host.example",
        "https://SECRETVALUE@host.example/path",
        "ftp://user:SECRETVALUE@host.example",
        "http://u:SECRETVALUE@eu.api.capillarytech.com",
        "https://host.example/?token=SECRETVALUE",
        "https://host.example/api?SECRETVALUE",
        "http://eu.api.capillarytech.com/?pw=SECRETVALUE",
        "https://host.example/#SECRETVALUE",
        "htt ps://u:SECRETVALUE@host",
        "not a url?key=SECRETVALUE",
    ],
)
def test_base_url_with_a_secret_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        CouponClient(base_url=url, credentials=BASIC)
    assert "SECRETVALUE" not in str(caught.value)
    assert "CAPILLARY_" in str(caught.value)  # says what to do instead


def test_auth_choice_and_missing_credentials() -> None:
    both = Credentials(
        username=USERNAME, password=PASSWORD, oauth_key=OAUTH_KEY, oauth_secret=OAUTH_SECRET
    )
    assert CouponClient(base_url=BASE, credentials=both).auth == "oauth"
    assert CouponClient(base_url=BASE, credentials=both, auth="basic").auth == "basic"
    assert CouponClient(base_url=BASE, credentials=BASIC).auth == "basic"
    with pytest.raises(ConfigError, match=r"CAPILLARY_OAUTH_KEY.*CAPILLARY_USERNAME"):
        CouponClient(base_url=BASE, credentials=Credentials())
    with pytest.raises(ConfigError, match="CAPILLARY_OAUTH_SECRET"):
        CouponClient(base_url=BASE, credentials=BASIC, auth="oauth")


def test_from_environment_reads_prefixed_variables() -> None:
    environ = {
        "CAPILLARY_PROD_USERNAME": USERNAME,
        "CAPILLARY_PROD_PASSWORD": PASSWORD,
        "CAPILLARY_PROD_BASE_URL": BASE,
    }
    env = Environment(name="prod", env_prefix="CAPILLARY_PROD", batch_size=7, parallelism=2)
    client = CouponClient.from_environment(env, environ=environ)
    assert (client.auth, client.base_url, client.batch_size, client.concurrency) == (
        "basic",
        BASE,
        7,
        2,
    )
    with pytest.raises(ConfigError, match="CAPILLARY_PROD_OAUTH_KEY"):
        CouponClient.from_environment(env, environ={"CAPILLARY_PROD_BASE_URL": BASE})


def test_the_client_satisfies_the_engines_protocols() -> None:
    client = CouponClient(base_url=BASE, credentials=BASIC)
    api: SeriesApi = client  # statically: reconciler/client/protocols.py
    reader: SeriesReader = client
    assert api is reader


def test_repr_shows_url_and_auth_only() -> None:
    client = CouponClient(base_url=BASE, credentials=BASIC)
    assert repr(client) == f"CouponClient(base_url={BASE!r}, auth='basic')"


# ---------------------------------------------------------------------------- auth


async def test_basic_header_exact_and_common_headers() -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"entity": [series(1)], "warnings": []})

    async with client_for(handler) as client:
        await client.get_series([1])
    (request,) = seen
    assert request.headers["Authorization"] == BASIC_HEADER
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("reconciler/")
    assert str(request.url) == f"{BASE}/v2/coupon/series?ids=1"


async def test_oauth_token_generated_once_and_shared_by_concurrent_calls() -> None:
    generated = 0
    token_bodies: list[Any] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal generated
        if request.url.path == "/v3/oauth/token/generate":
            generated += 1
            token_bodies.append(json.loads(request.content))
            await asyncio.sleep(0.01)  # let the other callers pile up behind the lock
            return token_answer("tok-1")
        assert request.headers["X-CAP-API-OAUTH-TOKEN"] == "tok-1"
        assert "Authorization" not in request.headers
        return httpx.Response(200, json=series(int(request.url.path.rsplit("/", 1)[1])))

    async with client_for(handler, credentials=OAUTH) as client:
        answers = await asyncio.gather(
            *(client.update_series(i, {"a": i}, org_id=100737) for i in range(1, 9))
        )
    assert [a["id"] for a in answers] == list(range(1, 9))
    assert generated == 1
    assert token_bodies == [{"key": OAUTH_KEY, "secret": OAUTH_SECRET}]


async def test_oauth_token_regenerated_before_expiry() -> None:
    fake = FakeTime()
    tokens = iter(["tok-1", "tok-2"])
    used: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/oauth/token/generate":
            return token_answer(next(tokens), ttl=300)
        used.append(request.headers["X-CAP-API-OAUTH-TOKEN"])
        return httpx.Response(200, json={"entity": [], "warnings": []})

    async with client_for(handler, credentials=OAUTH, fake=fake) as client:
        await client.get_series([1])
        fake.now += 250  # within the 30 s safety margin of the 300 s token: still used
        await client.get_series([1])
        fake.now += 25  # 275 s old: inside the margin, a new one is generated first
        await client.get_series([1])
        assert client.tokens_generated == 2
    assert used == ["tok-1", "tok-1", "tok-2"]


async def test_oauth_401_regenerates_once_then_retries_the_call() -> None:
    tokens = iter(["tok-old", "tok-new"])
    calls: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/oauth/token/generate":
            return token_answer(next(tokens))
        token = request.headers["X-CAP-API-OAUTH-TOKEN"]
        calls.append(token)
        if token == "tok-old":
            return httpx.Response(401, json=error_body(401, "token expired"))
        return httpx.Response(200, json=series(5))

    async with client_for(handler, credentials=OAUTH) as client:
        answer = await client.create_series({"description": "x"})
    assert answer["id"] == 5
    assert calls == ["tok-old", "tok-new"]


async def test_persistent_401_is_auth_error_after_one_regeneration() -> None:
    generated = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal generated
        if request.url.path == "/v3/oauth/token/generate":
            generated += 1
            return token_answer(f"tok-{generated}")
        return httpx.Response(401, json=error_body(401, "authentication failed"))

    async with client_for(handler, credentials=OAUTH) as client:
        with pytest.raises(AuthError) as caught:
            await client.get_series([1])
    assert generated == 2
    assert caught.value.status == 401


async def test_basic_403_is_auth_error_without_retry() -> None:
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(403, json=error_body(403, "forbidden"))

    async with client_for(handler) as client:
        with pytest.raises(AuthError, match="403 Forbidden"):
            await client.update_series(1, {}, org_id=100737)
    assert calls == 1


async def test_token_endpoint_refusal_is_auth_error() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, json={"data": None, "errors": [{"code": 401, "message": "bad key"}]}
        )

    async with client_for(handler, credentials=OAUTH) as client:
        with pytest.raises(AuthError, match="bad key"):
            await client.get_series([1])


async def test_token_answer_without_token_is_auth_error() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": {}, "errors": None})

    async with client_for(handler, credentials=OAUTH) as client:
        with pytest.raises(AuthError, match="gave no token"):
            await client.get_series([1])


# ---------------------------------------------------------------------------- reads


async def test_batches_split_concurrency_bounded_results_merged() -> None:
    asked: list[list[int]] = []
    in_flight = 0
    most = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        ids = asked_ids(request)
        asked.append(ids)
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.005)
        in_flight -= 1
        return httpx.Response(
            200, json={"entity": [series(i) for i in ids], "warnings": [f"w{ids[0]}"]}
        )

    ids = list(range(1, 24))
    async with client_for(handler, batch_size=3, concurrency=2) as client:
        result = await client.get_series(ids)
    assert sorted(i for batch in asked for i in batch) == ids
    assert all(len(batch) <= 3 for batch in asked)
    assert len(asked) == 8
    assert most == 2
    assert list(result.found) == ids
    assert result.missing == ()
    assert sorted(result.warnings) == sorted(f"w{b[0]}" for b in asked)
    assert result.found[4]["unknownField"] == 1


async def test_missing_and_duplicate_ids() -> None:
    asked: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        asked.append(",".join(map(str, asked_ids(request))))
        return httpx.Response(200, json={"entity": [series(7), series(99)], "warnings": []})

    async with client_for(handler) as client:
        result = await client.get_series([7, 8, 7, 9, 8])
        empty = await client.get_series([])
    assert asked == ["7,8,9"]
    assert list(result.found) == [7]
    assert result.missing == (8, 9)
    assert any("99" in str(w) for w in result.warnings)  # an id not asked for is reported
    assert empty == FetchResult(found={})


async def test_invalid_series_code_splits_batch_to_find_the_unknown_id() -> None:
    known = {1, 2, 4}

    async def handler(request: httpx.Request) -> httpx.Response:
        ids = asked_ids(request)
        bad = [i for i in ids if i not in known]
        if bad:
            return httpx.Response(
                400, json=error_body(707, f"Coupon Series ID = {bad[0]} is invalid")
            )
        return httpx.Response(200, json={"entity": [series(i) for i in ids], "warnings": []})

    async with client_for(handler, batch_size=4) as client:
        result = await client.get_series([1, 2, 3, 4])
    assert sorted(result.found) == [1, 2, 4]
    assert result.missing == (3,)


def size_limited(limit: int, message: str, *, status: int = 400) -> tuple[Handler, list[int]]:
    """A server refusing a GET of more than ``limit`` ids with ``message``; sizes asked."""
    sizes: list[int] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        ids = asked_ids(request)
        sizes.append(len(ids))
        if len(ids) > limit:
            return httpx.Response(status, json=error_body(629, message.format(limit=limit)))
        return httpx.Response(200, json={"entity": [series(i) for i in ids], "warnings": []})

    return handler, sizes


async def test_a_batch_refused_for_its_size_is_split_and_the_limit_kept() -> None:
    handler, sizes = size_limited(30, "at most {limit} ids per request")
    events: list[ClientEvent] = []
    ids = list(range(1, 201))
    async with client_for(handler, batch_size=100, concurrency=1, events=events) as client:
        assert client.batch_limit is None and client.effective_batch_size == 100
        result = await client.get_series(ids)
        assert list(result.found) == ids and result.missing == ()
        assert client.batch_limit == 30 and client.effective_batch_size == 30
        assert client.batch_size == 100  # the configured size is kept, for reports
        sizes.clear()
        again = await client.get_series(ids)  # later reads use the learned size at once
    assert list(again.found) == ids
    assert sizes == [30] * 6 + [20]
    learned = [e for e in events if isinstance(e, BatchSizeLearned)]
    assert learned == [
        BatchSizeLearned(batch_size=30, refused_size=100, reason="at most 30 ids per request")
    ]


@pytest.mark.parametrize(
    ("status", "message"),
    [(400, "Too many ids in one call"), (414, "URI Too Long"), (413, "Payload too large")],
)
async def test_a_batch_refused_for_its_size_without_a_number_is_halved(
    status: int, message: str
) -> None:
    handler, sizes = size_limited(7, message, status=status)
    ids = list(range(1, 41))
    async with client_for(handler, batch_size=40, concurrency=1) as client:
        result = await client.get_series(ids)
        assert client.batch_limit == 5
    assert list(result.found) == ids
    assert sizes[:3] == [40, 20, 10] and max(sizes[3:]) <= 5


async def test_a_400_that_is_not_about_size_is_not_split() -> None:
    calls: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(",".join(map(str, asked_ids(request))))
        return httpx.Response(400, json=error_body(744, "bad request"))

    async with client_for(handler, batch_size=10) as client:
        with pytest.raises(HttpStatusError, match="bad request"):
            await client.get_series(list(range(1, 11)))
        assert client.batch_limit is None
    assert len(calls) == 1


async def test_a_single_id_refused_for_size_is_an_error() -> None:
    handler, sizes = size_limited(0, "at most {limit} ids")
    async with client_for(handler) as client:
        with pytest.raises(HttpStatusError, match="at most 0 ids"):
            await client.get_series([1])
    assert sizes == [1]


async def test_many_ids_are_deduplicated_in_linear_time() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        ids = asked_ids(request)
        return httpx.Response(200, json={"entity": [series(i) for i in ids], "warnings": []})

    ids = [*range(50_000, 0, -1), *range(1, 50_001)]  # every id twice, in two orders
    async with client_for(handler, batch_size=5000, rate_limit_per_minute=1000) as client:
        started = time.perf_counter()
        result = await client.get_series(ids)
        elapsed = time.perf_counter() - started
    assert list(result.found) == list(range(50_000, 0, -1))  # first-seen order
    assert elapsed < 10  # list membership took minutes here


@pytest.mark.parametrize(
    "body",
    [
        {"data": []},
        [series(1)],
        {"entity": "nope"},
        {"entity": [{"description": "no id"}]},
        "<html>maintenance</html>",
    ],
)
async def test_get_bad_response(body: Any) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(200, text=body)
        return httpx.Response(200, json=body)

    async with client_for(handler) as client:
        with pytest.raises(BadResponse) as caught:
            await client.get_series([1])
    assert caught.value.method == "GET"
    assert len(str(caught.value)) < 500


# ---------------------------------------------------------------------------- writes


async def test_create_and_update_bodies_and_urls() -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=series(751412, warnings=[]))

    async with client_for(handler) as client:
        created = await client.create_series({"description": "new"})
        updated = await client.update_series(751412, {"description": "changed"}, org_id=100737)
    assert created["id"] == updated["id"] == 751412
    post, put = seen
    assert (post.method, str(post.url)) == ("POST", f"{BASE}/v2/coupon/series")
    assert json.loads(post.content) == {"CouponSeriesV2": {"description": "new"}}
    assert (put.method, str(put.url)) == ("PUT", f"{BASE}/v2/coupon/series/751412?format=json")
    # the live series' orgId goes with every PUT (the Update page's error table and examples)
    assert json.loads(put.content) == {
        "CouponSeriesV2": {"description": "changed", "orgId": 100737}
    }


@pytest.mark.parametrize(
    "body", [{"warnings": []}, {"id": "12"}, {"id": True}, [1], error_body(744, "not saved")]
)
async def test_write_answer_not_a_series(body: Any) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    async with client_for(handler) as client:
        with pytest.raises(BadResponse, match="the answer is not a series") as caught:
            await client.update_series(1, {}, org_id=100737)
        # A create answered 2xx may well have made the series: ambiguous, not "bad answer".
        with pytest.raises(AmbiguousCreate, match="the answer is not a series") as ambiguous:
            await client.create_series({})
    assert not isinstance(ambiguous.value, BadResponse)
    assert ambiguous.value.status == 200 and not ambiguous.value.answer_lost
    assert "may or may not exist" in str(ambiguous.value)
    if isinstance(body, dict) and body.get("errors"):
        assert caught.value.codes == ambiguous.value.codes == (744,)


async def test_error_fields_and_message() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json=error_body(729, "invalid redemption range"))

    async with client_for(handler) as client:
        with pytest.raises(HttpStatusError) as caught:
            await client.update_series(751412, {"redemptionRange": "x"}, org_id=100737)
    error = caught.value
    assert str(error) == (
        "PUT /v2/coupon/series/751412 failed: 400 Bad Request: [729] invalid redemption range"
    )
    assert error.method == "PUT"
    assert error.url == f"{BASE}/v2/coupon/series/751412?format=json"
    assert error.status == 400
    assert error.codes == (729,)
    assert error.api_message == "invalid redemption range"


# ---------------------------------------------------------------------------- retries


def status_then_ok(
    statuses: list[int], *, ok: httpx.Response | None = None, headers: dict[str, str] | None = None
) -> tuple[Handler, list[str]]:
    """A handler answering each status in turn, then ``ok``; it records the methods."""
    calls: list[str] = []
    queue = list(statuses)

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if queue:
            status = queue.pop(0)
            return httpx.Response(status, json=error_body(status, "busy"), headers=headers)
        return ok or httpx.Response(200, json=series(1))

    return handler, calls


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_get_and_put_retry_statuses_with_full_jitter_backoff(status: int) -> None:
    fake = FakeTime()
    handler, calls = status_then_ok([status, status, status])
    events: list[ClientEvent] = []
    async with client_for(handler, fake=fake, events=events, rate_limit_per_minute=1000) as client:
        assert (await client.update_series(1, {}, org_id=100737))["id"] == 1
    assert calls == ["PUT"] * 4
    assert fake.sleeps == [0.5, 1.0, 2.0]  # random() == 1.0: the top of each jitter range
    retrying = [e for e in events if isinstance(e, Retrying)]
    assert [e.attempt for e in retrying] == [1, 2, 3]
    assert str(status) in retrying[0].reason


async def test_jitter_scales_the_wait_and_backoff_is_capped() -> None:
    fake = FakeTime()
    handler, _ = status_then_ok([500] * 6)
    client = CouponClient(
        base_url=BASE,
        credentials=BASIC,
        transport=httpx.MockTransport(handler),
        sleep=fake.sleep,
        clock=fake.clock,
        random=lambda: 0.25,
        max_attempts=7,
        backoff_base_seconds=1.0,
        backoff_max_seconds=10.0,
    )
    async with client:
        await client.update_series(1, {}, org_id=100737)
    assert fake.sleeps == [0.25, 0.5, 1.0, 2.0, 2.5, 2.5]


async def test_api_code_786_is_retried_on_get() -> None:
    answers = [httpx.Response(400, json=error_body(786, "unable to process"))]

    async def handler(request: httpx.Request) -> httpx.Response:
        if answers:
            return answers.pop()
        return httpx.Response(200, json={"entity": [series(1)], "warnings": []})

    async with client_for(handler) as client:
        assert 1 in (await client.get_series([1])).found


async def test_retries_exhausted_raise_typed_errors() -> None:
    for status, kind in ((429, RateLimited), (503, HttpStatusError), (500, HttpStatusError)):
        handler, calls = status_then_ok([status] * 10)
        async with client_for(handler, max_attempts=3) as client:
            with pytest.raises(kind, match=rf"after 3 attempts\): {status}") as caught:
                await client.get_series([1])
        assert len(calls) == 3
        assert caught.value.status == status


async def test_not_retried_statuses() -> None:
    for status in (400, 404, 415):
        handler, calls = status_then_ok([status])
        async with client_for(handler) as client:
            with pytest.raises(HttpStatusError):
                await client.update_series(1, {}, org_id=100737)
        assert len(calls) == 1


async def test_retry_after_seconds_and_http_date_are_honoured() -> None:
    fake = FakeTime()
    handler, _ = status_then_ok([429], headers={"Retry-After": "7"})
    async with client_for(handler, fake=fake) as client:
        await client.update_series(1, {}, org_id=100737)
    assert fake.sleeps == [7.0]

    fake = FakeTime()
    wall = 1_700_000_000.0
    handler, _ = status_then_ok([503], headers={"Retry-After": formatdate(wall + 12, usegmt=True)})
    async with client_for(handler, fake=fake, wall_clock=lambda: wall) as client:
        await client.update_series(1, {}, org_id=100737)
    assert fake.sleeps == [12.0]


async def test_retry_after_too_long_gives_up_at_once() -> None:
    handler, calls = status_then_ok([429], headers={"Retry-After": "3600"})
    async with client_for(handler) as client:
        with pytest.raises(RateLimited, match="asks to wait 3600s"):
            await client.get_series([1])
    assert len(calls) == 1


def raising_then_ok(errors: list[Exception]) -> tuple[Handler, list[str]]:
    calls: list[str] = []
    queue = list(errors)

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if queue:
            raise queue.pop(0)
        if request.method == "GET":
            return httpx.Response(200, json={"entity": [series(1)], "warnings": []})
        return httpx.Response(200, json=series(1))

    return handler, calls


TRANSPORT_FAILURES: list[Exception] = [
    httpx.ConnectError("refused"),
    httpx.ConnectTimeout("connect timeout"),
    httpx.ReadTimeout("read timeout"),
    httpx.WriteTimeout("write timeout"),
    httpx.ReadError("connection reset by peer"),
    httpx.RemoteProtocolError("server disconnected"),
    httpx.PoolTimeout("pool"),
]


@pytest.mark.parametrize("failure", TRANSPORT_FAILURES, ids=lambda e: type(e).__name__)
async def test_get_and_put_retried_after_transport_failures(failure: Exception) -> None:
    # Silence (a timeout) is tried twice at most; other failures up to max_attempts.
    again = 1 if isinstance(failure, httpx.TimeoutException) else 2
    handler, calls = raising_then_ok([failure] * again)
    async with client_for(handler) as client:
        assert 1 in (await client.get_series([1])).found
    assert calls == ["GET"] * (again + 1)
    handler, calls = raising_then_ok([failure])
    async with client_for(handler) as client:
        await client.update_series(1, {}, org_id=100737)
    assert calls == ["PUT"] * 2


async def test_transport_failures_exhausted_raise_transport_error() -> None:
    handler, calls = raising_then_ok([httpx.ReadError("reset")] * 5)
    async with client_for(handler, max_attempts=5) as client:
        with pytest.raises(TransportError, match=r"after 5 attempts\): ReadError") as caught:
            await client.get_series([1])
    assert not isinstance(caught.value, AmbiguousCreate)
    assert len(calls) == 5


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("r"), httpx.ConnectTimeout("c"), httpx.WriteTimeout("w")],
    ids=lambda e: type(e).__name__,
)
async def test_silence_is_tried_twice_at_most(failure: Exception) -> None:
    """Each timeout costs the whole timeout: a third wait rarely helps and a user waits."""
    handler, calls = raising_then_ok([failure] * 5)
    async with client_for(handler, max_attempts=5, timeout_seconds=7) as client:
        with pytest.raises(TransportError) as caught:
            await client.get_series([1])
    assert len(calls) == 2
    message = str(caught.value)
    assert "after 2 attempts" in message and "within 7s" in message
    assert "timeout_seconds" in message and "on https://eu.api.capillarytech.com" in message
    # A failure of another kind between two timeouts still ends at the second timeout.
    handler, calls = raising_then_ok([failure, httpx.ReadError("reset"), failure, failure])
    async with client_for(handler, max_attempts=5) as client:
        with pytest.raises(TransportError, match="after 3 attempts"):
            await client.get_series([1])
    assert len(calls) == 3


async def test_unusable_transport_error_not_retried() -> None:
    handler, calls = raising_then_ok([httpx.UnsupportedProtocol("nope")])
    async with client_for(handler) as client:
        with pytest.raises(TransportError):
            await client.get_series([1])
    assert len(calls) == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("read timeout"),
        httpx.WriteTimeout("write timeout"),
        httpx.ReadError("connection reset by peer"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_post_never_retried_once_it_may_have_been_sent(failure: Exception) -> None:
    handler, calls = raising_then_ok([failure])
    async with client_for(handler) as client:
        with pytest.raises(AmbiguousCreate) as caught:
            await client.create_series({"description": "x"})
    assert calls == ["POST"]
    message = str(caught.value)
    assert "ambiguous" in message
    assert "may or may not exist" in message
    assert "do not retry blindly" in message
    assert caught.value.method == "POST"


@pytest.mark.parametrize("status", [500, 501, 502, 503, 504, 507])
async def test_post_server_error_is_ambiguous_not_retried(status: int) -> None:
    """Any 5xx to a create: a proxy may answer 503 after the backend made the series."""
    handler, calls = status_then_ok([status])
    async with client_for(handler) as client:
        with pytest.raises(AmbiguousCreate, match="ambiguous") as caught:
            await client.create_series({})
    assert calls == ["POST"]
    assert caught.value.status == status
    assert not caught.value.answer_lost
    assert not isinstance(caught.value, TransportError)  # it had an HTTP answer


async def test_ambiguous_create_has_its_own_place_in_the_tree() -> None:
    assert issubclass(AmbiguousCreate, ApiError)
    assert not issubclass(AmbiguousCreate, TransportError)
    handler, _ = raising_then_ok([httpx.ReadTimeout("slow")])
    async with client_for(handler) as client:
        with pytest.raises(AmbiguousCreate) as caught:
            await client.create_series({})
    assert caught.value.answer_lost and caught.value.status is None


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("t"), httpx.PoolTimeout("p")],
    ids=lambda e: type(e).__name__,
)
async def test_post_retried_when_it_certainly_was_not_sent(failure: Exception) -> None:
    handler, calls = raising_then_ok([failure])
    async with client_for(handler) as client:
        assert (await client.create_series({}))["id"] == 1
    assert calls == ["POST"] * 2


async def test_post_retried_only_after_a_429() -> None:
    """A 429 comes from the rate limiter, before any work: the one answer worth a resend."""
    handler, calls = status_then_ok([429])
    async with client_for(handler) as client:
        assert (await client.create_series({}))["id"] == 1
    assert calls == ["POST"] * 2


@pytest.mark.parametrize("status", [400, 404, 409, 415])
async def test_post_4xx_refusal_is_final_and_not_ambiguous(status: int) -> None:
    handler, calls = status_then_ok([status])
    async with client_for(handler) as client:
        with pytest.raises(HttpStatusError) as caught:
            await client.create_series({})
    assert calls == ["POST"]
    assert not isinstance(caught.value, AmbiguousCreate)


@pytest.mark.parametrize("code", [786, 748, 787, 790, 798])
@pytest.mark.parametrize("status", [400, 409, 422])
async def test_post_with_a_try_again_later_code_is_ambiguous_and_not_resent(
    code: int, status: int
) -> None:
    """ "Try again later" after a create may come after the series was stored: the status
    of these codes is not documented, so a 4xx proves no more than a 5xx."""
    calls: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(status, json=error_body(code, "Coupon processing failed"))

    async with client_for(handler) as client:
        with pytest.raises(AmbiguousCreate) as caught:
            await client.create_series({})
    assert calls == ["POST"]
    assert caught.value.codes == (code,) and caught.value.status == status


@pytest.mark.parametrize("code", [788, 795, 799, 744])
async def test_post_with_a_final_code_on_a_4xx_made_nothing(code: int) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json=error_body(code, "invalid configuration"))

    async with client_for(handler) as client:
        with pytest.raises(HttpStatusError) as caught:
            await client.create_series({})
    assert not isinstance(caught.value, AmbiguousCreate)
    assert caught.value.codes == (code,)


@pytest.mark.parametrize("code", [748, 787, 798])
@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_try_again_later_codes_are_retried_on_get_and_put(code: int, method: str) -> None:
    answers = [httpx.Response(400, json=error_body(code, "try again later"))]

    async def handler(request: httpx.Request) -> httpx.Response:
        if answers:
            return answers.pop()
        return httpx.Response(200, json={"entity": [series(1)]} if method == "GET" else series(1))

    fake = FakeTime()
    async with client_for(handler, fake=fake) as client:
        if method == "GET":
            assert list((await client.get_series([1])).found) == [1]
        else:
            assert (await client.update_series(1, {}, org_id=100737))["id"] == 1
    assert len(fake.sleeps) == 1


async def test_timeout_is_set_on_every_call() -> None:
    timeouts: list[Any] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        return httpx.Response(200, json=series(1))

    async with client_for(handler, timeout_seconds=2.5) as client:
        await client.create_series({})
    assert timeouts == [{"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}]


async def test_a_failing_batch_cancels_the_others() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["ids"] == "1":
            return httpx.Response(400, json=error_body(755, "x"))  # one id: reported missing
        if request.url.params["ids"] == "2":
            return httpx.Response(404, json=error_body(1, "gone"))
        await asyncio.sleep(10)
        raise AssertionError("not cancelled")

    async with client_for(handler, batch_size=1, concurrency=3) as client:
        with pytest.raises(HttpStatusError, match="gone"):
            await asyncio.wait_for(client.get_series([1, 2, 3]), timeout=2)


# ---------------------------------------------------------------------------- rate limit


async def test_rate_limit_holds_calls_over_the_limit() -> None:
    fake = FakeTime()
    starts: list[float] = []
    events: list[ClientEvent] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        starts.append(fake.now)
        return httpx.Response(200, json=series(1))

    async with client_for(handler, fake=fake, events=events, rate_limit_per_minute=3) as client:
        await asyncio.gather(*(client.update_series(1, {}, org_id=100737) for _ in range(7)))
    # A slot frees 60 s + the 1 s margin after its call's answer (instant here).
    assert [s - 1000.0 for s in starts] == [0, 0, 0, 61, 61, 61, 122]
    waits = [
        e.delay_seconds for e in events if isinstance(e, RateLimitWait) and e.left_seconds is None
    ]
    assert waits == [61.0, 61.0]
    # no 60-second window ever holds more than the limit
    assert all(sum(1 for t in starts if s <= t < s + 60) <= 3 for s in starts)


async def test_rate_limit_counts_token_calls_and_retries() -> None:
    fake = FakeTime()
    starts: list[float] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        starts.append(fake.now)
        if request.url.path.endswith("generate"):
            return token_answer("t")
        if len(starts) == 2:
            return httpx.Response(503, json=error_body(786, "retry"))
        return httpx.Response(200, json=series(1))

    async with client_for(handler, credentials=OAUTH, fake=fake, rate_limit_per_minute=2) as client:
        await client.update_series(1, {}, org_id=100737)
    # token at 0, PUT (503) at 0, backoff 0.5 s, then the limiter holds the retry to 61 s
    assert [s - 1000.0 for s in starts] == [0, 0, 61]


# ---------------------------------------------------------------------------- redaction


async def test_credentials_never_in_errors_logs_or_repr(caplog: pytest.LogCaptureFixture) -> None:
    token = "tok-VERY-SECRET-123"
    both = Credentials(
        username=USERNAME, password=PASSWORD, oauth_key=OAUTH_KEY, oauth_secret=OAUTH_SECRET
    )
    secrets = [PASSWORD, MD5, BASIC_HEADER.split()[1], OAUTH_KEY, OAUTH_SECRET, token, USERNAME]

    async def echo(request: httpx.Request) -> httpx.Response:
        # A hostile server echoes everything it was sent into its error message.
        if request.url.path.endswith("generate"):
            return token_answer(token)
        echoed = f"{dict(request.headers)} {request.content.decode()} {BASIC_HEADER} {MD5}"
        return httpx.Response(400, json=error_body(712, echoed))

    async def reset(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError(f"reset while sending {request.headers} {PASSWORD}")

    caught: list[ApiError] = []
    caplog.set_level(logging.DEBUG, logger="reconciler.client")
    for auth in ("basic", "oauth"):
        async with client_for(echo, credentials=both, auth=auth, max_attempts=2) as client:
            for call in (
                client.get_series([1]),
                client.update_series(1, {"p": PASSWORD}, org_id=100737),
                client.create_series({"p": PASSWORD}),
            ):
                with pytest.raises(ApiError) as info:
                    await call
                caught.append(info.value)
            assert all(s not in repr(client) for s in secrets)
        async with client_for(reset, credentials=both, auth=auth, max_attempts=2) as client:
            for call in (client.get_series([1]), client.create_series({})):
                with pytest.raises((TransportError, AmbiguousCreate)) as transport_info:
                    await call
                caught.append(transport_info.value)
    assert len(caught) == 10
    texts = [caplog.text]
    for error in caught:
        texts += [str(error), repr(error), error.url, error.api_message]
    for text in texts:
        for secret in secrets:
            assert secret not in text, (secret, text)
    assert "712" in str(caught[0])
    assert "GET /v2/coupon/series?ids=1 -> 400 attempt 1" in caplog.text


async def test_debug_log_has_method_path_status_attempt(caplog: pytest.LogCaptureFixture) -> None:
    handler, _ = status_then_ok([503])
    caplog.set_level(logging.DEBUG, logger="reconciler.client")
    async with client_for(handler) as client:
        await client.update_series(3, {}, org_id=100737)
    lines = [r.getMessage() for r in caplog.records if r.name == "reconciler.client"]
    assert lines[0].startswith("PUT /v2/coupon/series/3?format=json -> 503 attempt 1 ")
    assert lines[1].startswith("PUT /v2/coupon/series/3?format=json -> 200 attempt 2 ")


async def test_events_report_token_generation() -> None:
    events: list[ClientEvent] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("generate"):
            return token_answer("t", ttl=600)
        return httpx.Response(200, json=series(1))

    async with client_for(handler, credentials=OAUTH, events=events) as client:
        await client.create_series({})
    assert [e for e in events if isinstance(e, TokenGenerated)] == [TokenGenerated(600.0)]
    # Each answered call is an event too (the CLI's -v and ETA count them): the token and
    # the POST.
    assert [(e.method, e.status) for e in events if isinstance(e, CallDone)] == [
        ("POST", "200"),
        ("POST", "200"),
    ]


async def test_events_announce_the_batches_of_a_read() -> None:
    events: list[ClientEvent] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        ids = asked_ids(request)
        return httpx.Response(200, json={"entity": [series(i) for i in ids], "warnings": []})

    async with client_for(handler, events=events, batch_size=2) as client:
        await client.get_series([1, 2, 3, 4, 5])
    assert [e.count for e in events if isinstance(e, CallsPlanned)] == [3]
    assert len([e for e in events if isinstance(e, CallDone)]) == 3


async def test_events_announce_the_two_calls_of_a_list() -> None:
    """A plan's "N/M calls" counts the list's two calls (expired=false, expired=true)."""
    events: list[ClientEvent] = []
    empty = {
        "response": {
            "status": {"success": "true", "code": "200", "message": "Success"},
            "series": {"items": ""},
        }
    }

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=empty)

    async with client_for(handler, events=events) as client:
        await client.list_series()
    assert [e.count for e in events if isinstance(e, CallsPlanned)] == [2]
    assert len([e for e in events if isinstance(e, CallDone)]) == 2


# ---------------------------------------------------------------------------- waits that tell


async def test_a_wait_counts_down_in_events_about_once_a_second() -> None:
    """Real time: a Retry-After of 2 s sends the wait's start, then ticks with the time left."""
    handler, _ = status_then_ok([429], headers={"Retry-After": "2"})
    events: list[ClientEvent] = []
    async with CouponClient(
        base_url=BASE,
        credentials=BASIC,
        transport=httpx.MockTransport(handler),
        on_event=events.append,
    ) as client:
        await client.update_series(1, {}, org_id=100737)
    waits = [e for e in events if isinstance(e, Retrying)]
    assert waits[0].left_seconds is None and waits[0].delay_seconds == 2.0
    ticks = [e.left_seconds for e in waits[1:]]
    assert ticks and all(t is not None and 0 <= t < 2.0 for t in ticks)
    assert ticks == sorted(ticks, reverse=True)


async def test_a_call_without_an_answer_is_reported_while_it_waits() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(4.2)
        return httpx.Response(200, json=series(1))

    events: list[ClientEvent] = []
    async with CouponClient(
        base_url=BASE,
        credentials=BASIC,
        transport=httpx.MockTransport(slow),
        on_event=events.append,
        timeout_seconds=9,
    ) as client:
        await client.update_series(1, {}, org_id=100737)
    silent = [e for e in events if isinstance(e, AwaitingAnswer)]
    assert [round(e.waited_seconds) for e in silent] == [3, 4]  # after 3 s, then each second
    assert silent[0].path == "/v2/coupon/series/1" and silent[0].host == BASE
    assert silent[0].timeout_seconds == 9 and silent[0].attempt == 1


async def test_stream_series_yields_each_batch_as_it_is_answered() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        ids = asked_ids(request)
        await asyncio.sleep(0.001 * (10 - ids[0]))  # later batches answer first
        return httpx.Response(200, json={"entity": [series(i) for i in ids if i != 5]})

    async with client_for(handler, batch_size=2, concurrency=4) as client:
        batches = [b async for b in client.stream_series([1, 2, 3, 4, 5, 6, 7])]
    assert [sorted(b.found) for b in batches] == [[7], [6], [3, 4], [1, 2]]
    assert [b.missing for b in batches] == [(), (5,), (), ()]


async def test_leaving_a_stream_early_cancels_the_batches_in_flight() -> None:
    finished: list[list[int]] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        ids = asked_ids(request)
        await asyncio.sleep(0 if ids[0] == 1 else 5)
        finished.append(ids)
        return httpx.Response(200, json={"entity": [series(i) for i in ids]})

    async with (
        client_for(handler, batch_size=1, concurrency=4) as client,
        contextlib.aclosing(client.stream_series([1, 2, 3, 4])) as stream,
    ):
        async for batch in stream:
            assert list(batch.found) == [1]
            break
    assert finished == [[1]]  # the three slow batches were cancelled, not awaited


async def test_a_failed_batch_cancels_the_others_and_is_raised() -> None:
    finished: list[list[int]] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        ids = asked_ids(request)
        if ids[0] == 2:
            return httpx.Response(401, json=error_body(401, "unauthorised"))
        await asyncio.sleep(5)
        finished.append(ids)
        return httpx.Response(200, json={"entity": [series(i) for i in ids]})

    async with client_for(handler, batch_size=1, concurrency=4) as client:
        with pytest.raises(ReconcilerError):
            [b async for b in client.stream_series([1, 2, 3])]
    assert finished == []


async def test_a_batch_handed_over_is_not_kept_by_the_stream() -> None:
    """A finished task holds its result: the stream must not keep its tasks once their
    batches are handed over, or every answer of a 10,000-series plan stays alive."""

    async def handler(request: httpx.Request) -> httpx.Response:
        ids = asked_ids(request)
        await asyncio.sleep(0.001 * ids[0])
        return httpx.Response(200, json={"entity": [series(i) for i in ids]})

    seen: list[weakref.ref[FetchResult]] = []
    alive_after: list[int] = []
    async with (
        client_for(handler, batch_size=1, concurrency=2) as client,
        contextlib.aclosing(client.stream_series([1, 2, 3, 4, 5])) as stream,
    ):
        async for batch in stream:
            seen.append(weakref.ref(batch))
            del batch
            gc.collect()
            alive_after.append(sum(1 for ref in seen if ref() is not None))
    # Dropped by the caller, a batch is gone (the async generator's own C-level step may
    # hold the one before for one more step: a bound, not a growth).
    assert max(alive_after) <= 1 and len(alive_after) == 5
    gc.collect()
    assert all(ref() is None for ref in seen)
