"""The asynchronous client of the coupon series API: dicts in and out, typed errors.

``CouponClient`` reads series by id in concurrent batches (``ids=1&ids=2``, the documented
form), creates and updates them (a PUT carries the live series' ``orgId``), and lists them
through the older v1.1 call, both ``expired=false`` and ``expired=true``, merged by id; a
list that is not a complete success raises ``IncompleteListing``. It authenticates (Basic or
OAuth), keeps under a client-side rate limit, retries what is safe to retry (the table is in
``reconciler.client.retry``), and raises only the ``ApiError`` family of
``reconciler.errors``, with credentials redacted from every message. It never validates
series fields: that is the catalogue's job.

The transport is injected: tests pass an ``httpx.MockTransport``, the embedded sandbox an
in-process transport; with none, httpx talks HTTPS with certificate checks on, and a
loopback base URL is never sent through a proxy.

Modules, by concern:

- ``coupons``: ``CouponClient``, the series calls, batching and the batch size learned
- ``session``: one call in layers (retries, auth, rate limit and send)
- ``failures``: the typed error a call ends with, in words that say what to check
- ``retry``: which failures are retried, and the waits; ``ratelimit``: the client-side limit
- ``pacing``: the ticks that let a long wait say what it waits for
- ``auth``: Basic and OAuth; ``credentials``: the variables, and redaction
- ``answers``: pure readers of the API's answers (error codes, entities)
- ``listing``: the v1.1 list read as documented, and refused when not complete
- ``config``: the base URL and auth checks
- ``events``: what the client reports (``on_event``) and ``FetchResult``
- ``protocols``: what the planner and the applier need of a client, typed
"""

from reconciler.client.answers import UNKNOWN_SERIES_CODES
from reconciler.client.config import AuthKind
from reconciler.client.coupons import (
    LIST_PATH,
    LIST_TIMEOUT_FACTOR,
    SERIES_PATH,
    CouponClient,
)
from reconciler.client.events import (
    AwaitingAnswer,
    BatchSizeLearned,
    CallDone,
    CallsPlanned,
    ClientEvent,
    FetchResult,
    RateLimitWait,
    Retrying,
    TokenGenerated,
)
from reconciler.client.protocols import SeriesApi, SeriesReader
from reconciler.client.session import USER_AGENT

__all__ = [
    "LIST_PATH",
    "LIST_TIMEOUT_FACTOR",
    "SERIES_PATH",
    "UNKNOWN_SERIES_CODES",
    "USER_AGENT",
    "AuthKind",
    "AwaitingAnswer",
    "BatchSizeLearned",
    "CallDone",
    "CallsPlanned",
    "ClientEvent",
    "CouponClient",
    "FetchResult",
    "RateLimitWait",
    "Retrying",
    "SeriesApi",
    "SeriesReader",
    "TokenGenerated",
]
