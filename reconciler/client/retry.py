"""Which failures are worth another attempt, and how long to wait before it.

The rules, per call (the client applies them; this module only decides)::

    failure                                    GET / PUT / token / list   POST (create)
    ConnectError, ConnectTimeout, PoolTimeout  retried                    retried (never sent)
    a host name that does not resolve (DNS)    TransportError, at once    TransportError, at once
    TLS failed (certificate, handshake)        TransportError, at once    TransportError, at once
    UnsupportedProtocol, ProxyError            TransportError, at once    TransportError, at once
    ReadTimeout, WriteTimeout, ReadError,
    WriteError, RemoteProtocolError (reset)    retried                    AmbiguousCreate
    any other transport error                  TransportError, at once    AmbiguousCreate
    429                                        retried                    retried (not acted)
    500, 502, 503, 504                         retried                    AmbiguousCreate
    any other 5xx                              HttpStatusError, at once   AmbiguousCreate
    a "try again later" API code on a 4xx      retried                    AmbiguousCreate
    (786, 748, 787-798 but 788 and 795)
    401 / 403                                  AuthError (OAuth: one new token, then once more)
    any other non-2xx                          HttpStatusError, at once
    a 2xx whose body is not what it should be  BadResponse                AmbiguousCreate

Why a create is different: a POST is not idempotent, so it is sent again only after an
answer that proves the server did not act on it. A 429 comes from the rate limiter in front
of the API, before any work; a 4xx is a refusal of the request itself (not retried either:
it would be refused again, and the caller knows nothing was made) -- unless it carries one
of the API's "try again later" codes: 786 "unable to process (retry)", 748 "Coupon service
timed out", 787-798 "Coupon processing failed, Please try again later" (788 and 795 mean an
invalid configuration: final). Their HTTP status is not documented, and a service that timed
out or failed while processing may have stored the series first, so on a create they are
ambiguous whatever the status; on any other call they are worth another attempt. A 5xx
proves nothing: a proxy answers 502/503/504 when it gives up on a backend that may finish
the work a second later, and nothing in the API's docs says that its own 503 "unable to
process, retry" (786) comes only before any work was done. So every 5xx to a create is
ambiguous, like a lost answer: the caller must look the series up before creating it again.
A ``TransportError`` from a create therefore always means the request never left this
machine.

Why DNS and TLS failures end at once: a name that does not resolve, a certificate that does
not verify or a handshake that fails (an https URL on a plain-http port) are set-up errors
that do not heal in the seconds a retry waits; five attempts only hide the message.

Silence costs the most: a timeout (connect, read, write or pool) spends the whole timeout
each time, and a server that said nothing for that long rarely answers the next attempt. So
a call is tried at most ``max_timeouts`` times (2 by default) when it meets silence, however
many attempts other failures allow (``RetryPolicy`` in ``session``).

Waits: exponential backoff with full jitter, ``random() * min(max, base * 2 ** (attempt-1))``;
a ``Retry-After`` header (seconds, or an HTTP date in any of the three forms RFC 9110 lists)
replaces it when present.
"""

from __future__ import annotations

import datetime
import enum
import math
import socket
import ssl
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import httpx

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Answers that prove the server did not act on a create, and are worth repeating it after.
CREATE_NOT_ACTED_RETRY_STATUSES = frozenset({429})
# The API's own "try again later" codes: 786 "unable to process (retry)", 748 "Coupon service
# timed out", 787-798 "Coupon processing failed, Please try again later" but 788 and 795
# (invalid configuration: trying again cannot help). Their HTTP status is not documented.
RETRY_API_CODES = frozenset({786, 748, *range(787, 799)} - {788, 795})

# Transport failures raised before a byte of the request left: safe to repeat any call.
NOT_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
# Raised before sending too, but repeating cannot help: the setup itself is wrong.
NOT_SENT_FINAL_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.UnsupportedProtocol,
    httpx.ProxyError,
)
# Transport failures after the request may have been sent: worth repeating an idempotent call.
MAYBE_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.TimeoutException,  # ReadTimeout, WriteTimeout
    httpx.NetworkError,  # ReadError, WriteError, CloseError (connection reset)
    httpx.RemoteProtocolError,  # the server closed the connection mid-answer
)


class Verdict(enum.Enum):
    """What to do after a failed attempt."""

    RETRY = "retry"  # worth another attempt, after a wait (while attempts remain)
    FAIL = "fail"  # final: raise the error that matches the failure now
    AMBIGUOUS = "ambiguous"  # a create that may have acted: AmbiguousCreate, never repeated


def _cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first error of type ``kind`` in the chain of causes of ``exc`` (itself included).

    httpx wraps the socket's or ``ssl``'s error twice (httpcore's, then its own
    ``ConnectError``), so the chain is searched.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def certificate_refused(exc: BaseException) -> bool:
    """True when the failure is a TLS certificate that did not verify (not transient)."""
    return _cause(exc, ssl.SSLCertVerificationError) is not None


def tls_failed(exc: BaseException) -> bool:
    """True when the TLS handshake failed (a certificate, or no TLS at that port)."""
    return _cause(exc, ssl.SSLError) is not None


def name_unresolved(exc: BaseException) -> bool:
    """True when the host name did not resolve (``socket.gaierror``: DNS)."""
    return _cause(exc, socket.gaierror) is not None


def timed_out(exc: BaseException) -> bool:
    """True for silence: a connect, read, write or pool timeout."""
    return isinstance(exc, httpx.TimeoutException)


def after_transport_error(exc: httpx.TransportError, *, create: bool) -> Verdict:
    """The verdict on a call that got no HTTP answer."""
    if tls_failed(exc) or name_unresolved(exc) or isinstance(exc, NOT_SENT_FINAL_ERRORS):
        return Verdict.FAIL
    if isinstance(exc, NOT_SENT_ERRORS):
        return Verdict.RETRY
    if create:
        return Verdict.AMBIGUOUS
    return Verdict.RETRY if isinstance(exc, MAYBE_SENT_ERRORS) else Verdict.FAIL


def after_status(status: int, codes: tuple[int, ...], *, create: bool) -> Verdict:
    """The verdict on a non-2xx answer (401/403 are the auth layer's, before this)."""
    if create:
        if status in CREATE_NOT_ACTED_RETRY_STATUSES:
            return Verdict.RETRY
        later = any(code in RETRY_API_CODES for code in codes)
        return Verdict.AMBIGUOUS if status >= 500 or later else Verdict.FAIL
    if status in RETRY_STATUSES or any(code in RETRY_API_CODES for code in codes):
        return Verdict.RETRY
    return Verdict.FAIL


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
    if moment.tzinfo is None:  # the asctime form carries no zone: an HTTP date is GMT
        moment = moment.replace(tzinfo=datetime.UTC)
    return max(0.0, moment.timestamp() - now)
