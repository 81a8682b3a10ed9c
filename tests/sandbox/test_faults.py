"""Every fault mode, in process (inprocess_transport) and over real loopback HTTP (uvicorn)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from reconciler.sandbox import Sandbox, inprocess_transport

from .helpers import AUTH, Api, minimal_series

CREATE = {"CouponSeriesV2": minimal_series()}


def _inprocess(
    app: Starlette, method: str, url: str, *, timeout: float = 0.2, json: Any = None
) -> httpx.Response:
    async def call() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=inprocess_transport(app),
            base_url="http://sandbox",
            headers=AUTH,
            timeout=timeout,
        ) as client:
            return await client.request(method, url, json=json)

    return asyncio.run(call())


def _http(
    base_url: str, method: str, url: str, *, timeout: float = 0.2, json: Any = None
) -> httpx.Response:
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=timeout) as client:
        return client.request(method, url, json=json)


@pytest.fixture(params=["inprocess", "http"])
def call(request: pytest.FixtureRequest, app: Starlette) -> Any:
    if request.param == "inprocess":
        return lambda *a, **kw: _inprocess(app, *a, **kw)
    base_url = request.getfixturevalue("base_url")
    return lambda *a, **kw: _http(base_url, *a, **kw)


def test_503(call: Any, sandbox: Sandbox) -> None:
    sandbox.fail_next_call("503")
    response = call("POST", "/v2/coupon/series", json=CREATE)
    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == 786
    assert sandbox.count_series() == 2  # nothing done


def test_reset_drops_the_connection(call: Any, sandbox: Sandbox) -> None:
    sandbox.fail_next_call("reset")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        call("POST", "/v2/coupon/series", json=CREATE)
    assert sandbox.count_series() == 2
    assert call("GET", "/v2/coupon/series?ids=520591").status_code == 200  # served again


def test_timeout_before_does_not_act(call: Any, sandbox: Sandbox) -> None:
    sandbox.fail_next_call("timeout_before", method="POST")
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        call("POST", "/v2/coupon/series", json=CREATE, timeout=0.2)
    assert time.monotonic() - started < 0.45
    time.sleep(0.4)  # past hang_seconds (0.5): still nothing created
    assert sandbox.count_series() == 2


def test_timeout_after_acts_then_hangs(call: Any, sandbox: Sandbox) -> None:
    sandbox.fail_next_call("timeout_after", method="POST")
    assert call("GET", "/v2/coupon/series?ids=520591").status_code == 200  # GET unaffected
    with pytest.raises(httpx.ReadTimeout):
        call("POST", "/v2/coupon/series", json=CREATE, timeout=0.2)
    assert sandbox.count_series() == 3  # the server created the series
    assert call("POST", "/v2/coupon/series", json=CREATE).status_code == 200  # one-shot


def test_timeout_after_answers_a_patient_client(call: Any, sandbox: Sandbox) -> None:
    sandbox.fail_next_call("timeout_after")
    response = call("POST", "/v2/coupon/series", json=CREATE, timeout=3.0)
    assert response.status_code == 200 and response.json()["id"] > 800000


def test_scripted_failures_in_order(call: Any, sandbox: Sandbox) -> None:
    sandbox.configure(fail_next=["503", "503"])
    assert call("GET", "/v2/coupon/series?ids=1").status_code == 503
    assert call("GET", "/v2/coupon/series?ids=1").status_code == 503
    assert call("GET", "/v2/coupon/series?ids=1").status_code == 200


def test_rate_limit_with_retry_after(call: Any, sandbox: Sandbox) -> None:
    sandbox.configure(rate_limit_per_minute=3)
    statuses = [call("GET", "/v2/coupon/series?ids=520591").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = call("GET", "/v2/coupon/series?ids=520591")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["errors"][0]["code"] == 429


def test_latency(call: Any, sandbox: Sandbox) -> None:
    sandbox.configure(latency_seconds=0.15)
    started = time.monotonic()
    assert call("GET", "/v2/coupon/series?ids=1", timeout=2.0).status_code == 200
    assert time.monotonic() - started >= 0.15


def test_random_failures_are_reproducible(app: Starlette, sandbox: Sandbox) -> None:
    def run() -> list[int]:
        sandbox.configure(failure_rate=0.5, failure_modes=("503",), random_seed=11)
        sandbox.configure(random_seed=None)
        sandbox.configure(random_seed=11)
        return [Api(app).get("/v2/coupon/series?ids=1").status_code for _ in range(20)]

    first = run()
    assert 503 in first and 200 in first
    assert run() == first


def test_failure_rate_draws_only_the_given_modes(app: Starlette, sandbox: Sandbox) -> None:
    sandbox.configure(failure_rate=1.0, failure_modes=("reset",))
    with pytest.raises(httpx.RemoteProtocolError):
        _inprocess(app, "GET", "/v2/coupon/series?ids=1")


def test_503_after_acts_then_answers_503(call: Any, sandbox: Sandbox) -> None:
    sandbox.fail_next_call("503_after", method="POST")
    response = call("POST", "/v2/coupon/series", json=CREATE)
    assert response.status_code == 503
    assert response.json() == {
        "warnings": [],
        "errors": [
            {"status": False, "code": 786, "message": "Unable to process the request, please retry"}
        ],
        "success": False,
    }
    assert sandbox.count_series() == 3  # acted, though the answer says otherwise
    assert call("POST", "/v2/coupon/series", json=CREATE).status_code == 200  # one-shot


def test_503_after_is_drawn_with_the_others(app: Starlette, sandbox: Sandbox) -> None:
    sandbox.configure(failure_rate=1.0, failure_modes=("503_after",))
    assert Api(app).post("/v2/coupon/series", json=CREATE).status_code == 503
    assert sandbox.count_series() == 3


def test_post_act_delay_acts_after_a_client_gave_up(call: Any, sandbox: Sandbox) -> None:
    sandbox.configure(post_act_delay_seconds=0.6)
    started = time.monotonic()
    assert call("GET", "/v2/coupon/series?ids=520591").status_code == 200  # reads: no delay
    assert time.monotonic() - started < 0.5
    with pytest.raises(httpx.ReadTimeout):
        call("POST", "/v2/coupon/series", json=CREATE, timeout=0.2)
    assert sandbox.count_series() == 2  # received, not acted on yet
    assert sandbox.acts_pending == 1
    assert sandbox.settle(timeout=5.0)
    assert time.monotonic() - started >= 0.6
    assert sandbox.count_series() == 3  # the client is gone; the series was made anyway
    assert sandbox.acts_pending == 0


def test_post_act_delay_answers_a_patient_client_after_acting(call: Any, sandbox: Sandbox) -> None:
    sandbox.configure(post_act_delay_seconds=0.3)
    started = time.monotonic()
    response = call("POST", "/v2/coupon/series", json=CREATE, timeout=5.0)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200 and response.json()["id"] > 800000
    assert sandbox.count_series() == 3


def test_post_act_delay_refusals_still_answered(call: Any, sandbox: Sandbox) -> None:
    sandbox.configure(post_act_delay_seconds=0.2)
    response = call("POST", "/v2/coupon/series", json={"CouponSeriesV2": {}}, timeout=5.0)
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == 744
    assert sandbox.count_series() == 2


def test_post_act_delay_and_503_after_together(call: Any, sandbox: Sandbox) -> None:
    sandbox.configure(post_act_delay_seconds=0.2, fail_next_for={"POST": ["503_after"]})
    response = call("POST", "/v2/coupon/series", json=CREATE, timeout=5.0)
    assert response.status_code == 503
    assert sandbox.count_series() == 3


_KILLED_CLIENT = """
import sys, httpx
httpx.post(sys.argv[1] + "/v2/coupon/series", json={json}, headers={headers}, timeout=60)
"""


def test_post_act_delay_survives_a_killed_client(base_url: str, sandbox: Sandbox) -> None:
    sandbox.configure(post_act_delay_seconds=1.0)
    script = _KILLED_CLIENT.format(json=repr(CREATE), headers=repr(AUTH))
    client = subprocess.Popen([sys.executable, "-c", script, base_url])
    try:
        deadline = time.monotonic() + 20
        while sandbox.acts_pending == 0:  # the request has arrived
            assert time.monotonic() < deadline and client.poll() is None
            time.sleep(0.02)
    finally:
        client.kill()
        client.wait(timeout=10)
    assert sandbox.count_series() == 2
    assert sandbox.settle(timeout=10.0)
    assert sandbox.count_series() == 3


def test_post_act_delay_must_not_be_negative(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="post_act_delay_seconds"):
        sandbox.configure(post_act_delay_seconds=-1)
