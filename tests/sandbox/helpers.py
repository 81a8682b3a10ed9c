"""Helpers of the sandbox tests: credentials, a synchronous in-process client, bodies."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from typing import Any

import httpx
from starlette.applications import Starlette

from reconciler.client.credentials import Credentials
from reconciler.sandbox import inprocess_transport

CREDS = Credentials(
    username="test.till", password="test-password", oauth_key="test-key", oauth_secret="t-s"
)


def basic_header(username: str, password: str) -> dict[str, str]:
    digest = hashlib.md5(password.encode()).hexdigest()
    token = base64.b64encode(f"{username}:{digest}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


AUTH = basic_header("test.till", "test-password")


class Api:
    """A synchronous client to an app, in process (through ``inprocess_transport``)."""

    def __init__(self, app: Starlette, *, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.headers = AUTH if headers is None else headers

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        timeout: float | None = 5.0,
    ) -> httpx.Response:
        async def call() -> httpx.Response:
            async with httpx.AsyncClient(
                transport=inprocess_transport(self.app),
                base_url="http://sandbox",
                timeout=timeout,
            ) as client:
                return await client.request(
                    method,
                    url,
                    json=json,
                    content=content,
                    headers={**self.headers, **(headers or {})},
                )

        return asyncio.run(call())

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", url, **kw)

    def create(self, series: dict[str, Any]) -> dict[str, Any]:
        response = self.post("/v2/coupon/series", json={"CouponSeriesV2": series})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def read(self, *ids: int) -> list[dict[str, Any]]:
        # the documented form, ids=1&ids=2 (the Get page)
        response = self.get("/v2/coupon/series?" + "&".join(f"ids={i}" for i in ids))
        assert response.status_code == 200, response.text
        entity: list[dict[str, Any]] = response.json()["entity"]
        return entity


def minimal_series(**changes: Any) -> dict[str, Any]:
    """The required fields of a create, with ``changes``."""
    series: dict[str, Any] = {
        "description": "Test 10 off",
        "discountCode": "TEST10",
        "validTillDate": "2031-01-31T00:00:00+05:30",
        "anyUser": True,
        "smsTemplate": "Hi {{first_name}}",
        "discountValue": 10,
        "clientHandlingType": "DISC_CODE",
        "expiryStrategyType": "SERIES_EXPIRY",
        "discountType": "ABS",
    }
    series.update(changes)
    return series
