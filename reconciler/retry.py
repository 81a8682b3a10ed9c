"""Which failures are worth another attempt, and how long to wait before it.

The rules, per method (the client applies them; this module only decides)::

    failure                                    GET / PUT / token / list   POST (create)
    ConnectError, ConnectTimeout, PoolTimeout  retried                    retried (never sent)
    ReadTimeout, WriteTimeout, ReadError,
    WriteError, RemoteProtocolError (reset)    retried                    AmbiguousCreate
    other transport errors (bad URL, proxy)    TransportError, at once    TransportError, at once
    429, 503                                   retried                    retried (refused)
    500, 502, 504                              retried                    AmbiguousCreate
    API error code 786 (any status)            retried                    as its status says
    401 / 403                                  AuthError (OAuth: one new token, then once more)
    any other non-2xx                          HttpStatusError, at once

Waits: exponential backoff with full jitter, ``random() * min(max, base * 2 ** (attempt-1))``;
a ``Retry-After`` header (seconds or an HTTP date) replaces it when present.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import httpx

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Answers that prove the server refused a create: it did not make the series.
CREATE_REFUSED_STATUSES = frozenset({429, 503})
# The API's own code for "unable to process (retry)".
RETRY_API_CODES = frozenset({786})

# Transport failures raised before a byte of the request left: safe to repeat any call.
NOT_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
# Transport failures after the request may have been sent: worth repeating an idempotent call.
MAYBE_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.TimeoutException,  # ReadTimeout, WriteTimeout
    httpx.NetworkError,  # ReadError, WriteError, CloseError (connection reset)
    httpx.RemoteProtocolError,  # the server closed the connection mid-answer
)


def certainly_not_sent(exc: httpx.TransportError) -> bool:
    return isinstance(exc, NOT_SENT_ERRORS)


def transport_retryable(exc: httpx.TransportError) -> bool:
    return isinstance(exc, NOT_SENT_ERRORS + MAYBE_SENT_ERRORS)


def status_retryable(status: int, codes: tuple[int, ...]) -> bool:
    return status in RETRY_STATUSES or any(code in RETRY_API_CODES for code in codes)


def backoff_delay(
    attempt: int, *, base: float, maximum: float, random: Callable[[], float]
) -> float:
    """Full jitter: a uniform wait in ``[0, min(maximum, base * 2 ** (attempt - 1))]``."""
    ceiling = min(maximum, base * 2.0 ** max(attempt - 1, 0))
    return max(0.0, random() * ceiling)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, or None when absent or unreadable.

    ``now`` is the wall-clock time (seconds since the epoch) for the HTTP-date form.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # an HTTP date is always GMT
        return None
    return max(0.0, moment.timestamp() - now)
