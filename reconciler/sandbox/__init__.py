"""A faithful local stand-in for the coupon series API of the Capillary CRM.

- ``create_app``: the Starlette app (``app.state.sandbox`` is the ``Sandbox`` control object)
- ``Faults``: latency, failures, rate limit, batch size and the server variants the docs
  leave open (list default, a failure inside a 200, ...); changeable at run time
- ``inprocess_transport``: an httpx transport to the app, with timeouts and resets
- ``serve`` / ``running_server``: uvicorn on the loopback interface

What it does, and the evidence for each behaviour, is in ``docs/sandbox.md``.
"""

from reconciler.sandbox.app import ConnectionDropped, Sandbox, create_app
from reconciler.sandbox.faults import ALL_FAILURE_MODES, FAILURE_MODES, RETRY_LATER_CODES, Faults
from reconciler.sandbox.server import running_server, serve
from reconciler.sandbox.transport import inprocess_transport

__all__ = [
    "ALL_FAILURE_MODES",
    "FAILURE_MODES",
    "RETRY_LATER_CODES",
    "ConnectionDropped",
    "Faults",
    "Sandbox",
    "create_app",
    "inprocess_transport",
    "running_server",
    "serve",
]
