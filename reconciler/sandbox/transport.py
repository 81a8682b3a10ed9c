"""Talk to the sandbox in process: an httpx transport over the ASGI app, with real failures.

``httpx.ASGITransport`` runs the app in the caller's task and ignores timeouts. This wrapper
enforces the request's read timeout (``httpx.ReadTimeout``, as a slow server gives) and turns
the sandbox's dropped connection into ``httpx.RemoteProtocolError``, so that a client sees
in process what it would see over the network.
"""

from __future__ import annotations

from typing import Any

import anyio
import httpx
from starlette.types import ASGIApp

from reconciler.sandbox.app import ConnectionDropped


class InProcessTransport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncBaseTransport`` that serves requests from an ASGI app in process."""

    def __init__(self, *, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app, raise_app_exceptions=True)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, Any] = request.extensions.get("timeout") or {}
        read = timeouts.get("read")
        try:
            if read is None:
                return await self._inner.handle_async_request(request)
            with anyio.fail_after(float(read)):
                return await self._inner.handle_async_request(request)
        except TimeoutError as error:
            raise httpx.ReadTimeout(f"no answer within {read} s", request=request) from error
        except ConnectionDropped as error:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from error

    async def aclose(self) -> None:
        await self._inner.aclose()


def inprocess_transport(app: ASGIApp) -> httpx.AsyncBaseTransport:
    """A transport for ``httpx.AsyncClient(transport=..., base_url="http://sandbox")``."""
    return InProcessTransport(app=app)


__all__ = ["InProcessTransport", "inprocess_transport"]
