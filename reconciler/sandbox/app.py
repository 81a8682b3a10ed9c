"""The sandbox: a local stand-in for the coupon series endpoints of the Capillary API.

``create_app`` builds a Starlette application that behaves like the real server as the
vendor's evidence shows it (``rules``, ``fields``, ``values``, ``listing``), keeps its series
in SQLite (``store``), and fails on demand (``faults``, applied here around the routes).
``app.state.sandbox`` is the ``control.Sandbox`` object: switches, edits behind the API's
back, counts, reset.

Depends on nothing of the tool but the sandbox's own accounts: never on the catalogue, the
client, the planner or the applier, so that it behaves like the server and not like us.
"""

from __future__ import annotations

from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from reconciler.sandbox import rules
from reconciler.sandbox.accounts import Accepted, Accounts
from reconciler.sandbox.control import Sandbox, edit_stored_series
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.routes import EXCEPTION_HANDLERS, ROUTES
from reconciler.sandbox.rules import error_body
from reconciler.sandbox.store import SeriesStore


class ConnectionDropped(Exception):
    """Raised, in process, where a real server would drop the connection without an answer.

    ``inprocess_transport`` turns it into ``httpx.RemoteProtocolError``.
    """


class SandboxApp(Starlette):
    """Starlette, with the faults applied around it, where the server's own ``send`` is."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        sandbox: Sandbox = self.state.sandbox
        faults = sandbox.faults
        if faults.latency_seconds > 0:
            await anyio.sleep(faults.latency_seconds)
        wait = sandbox.take_rate_slot()
        if wait is not None:
            response = JSONResponse(
                error_body(((429, "Too many requests"),)),
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
            await response(scope, receive, send)
            return
        mode = sandbox.draw_failure(str(scope.get("method", "")))
        if mode is None:
            await super().__call__(scope, receive, send)
        elif mode == "503":
            await _unavailable(scope, receive, send)
        elif mode == "busy":
            await _busy(faults, scope, receive, send)
        elif mode == "reset":
            await _drop_connection(send)
        elif mode == "timeout_before":
            await anyio.sleep(faults.hang_seconds)
            await _unavailable(scope, receive, send)
        elif mode in ("503_after", "busy_after"):  # act, drop the real answer, say "retry"

            async def discard(message: Message) -> None:
                return None

            await super().__call__(scope, receive, discard)
            if mode == "busy_after":
                await _busy(faults, scope, receive, send)
            else:
                await _unavailable(scope, receive, send)
        else:  # timeout_after: act, then hang, then answer (to a client that gave up)
            messages: list[Message] = []

            async def keep(message: Message) -> None:
                messages.append(message)

            await super().__call__(scope, receive, keep)
            await anyio.sleep(faults.hang_seconds)
            for message in messages:
                await send(message)


async def _unavailable(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(
        error_body(((rules.CODE_RETRY, "Unable to process the request, please retry"),)),
        status_code=503,
    )
    await response(scope, receive, send)


async def _busy(faults: Faults, scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(
        error_body(((faults.busy_code, "Coupon processing failed, Please try again later"),)),
        status_code=faults.busy_status,
    )
    await response(scope, receive, send)


async def _drop_connection(send: Send) -> None:
    """Close the connection without an answer: ``transport.abort()`` under uvicorn."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    abort = getattr(transport, "abort", None)
    if callable(abort):
        abort()
        await anyio.sleep(0.05)  # let the server see the connection lost before we return
        return
    raise ConnectionDropped("the sandbox dropped the connection")


def create_app(
    *,
    db_path: Path | str,
    credentials: Accepted | None = None,
    faults: Faults | None = None,
    seed: bool = True,
) -> Starlette:
    """The sandbox app over the SQLite file ``db_path`` (created when missing).

    ``credentials`` are the ones accepted (default: the sandbox's documented accounts);
    ``seed`` loads the two series of the docs' GET page into an empty database.
    """
    sandbox = Sandbox(
        store=SeriesStore(path=db_path),
        credentials=credentials or Accounts(),
        faults=faults or Faults(),
        seed=seed,
    )
    app = SandboxApp(routes=list(ROUTES), exception_handlers=dict(EXCEPTION_HANDLERS))
    app.state.sandbox = sandbox
    return app


__all__ = ["ConnectionDropped", "Sandbox", "SandboxApp", "create_app", "edit_stored_series"]
