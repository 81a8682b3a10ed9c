"""The typed error a call ends with, and words that tell the user what to do about it.

Every message names the call and the host it went to (scheme, host and port: never the base
URL's path, which may hold a secret, nor a query or user, which the URL rules refuse), and,
where the cause is likely in the set-up, which setting or variable to look at: a 401 names
the variables the credentials came from (never their values), a 404 with no API error says
the base URL's path may be wrong, a name that does not resolve or a TLS handshake that fails
says so and that it was not retried. Every text is redacted by the session's ``redact``.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from reconciler.client.answers import api_suffix
from reconciler.client.retry import (
    Verdict,
    certificate_refused,
    name_unresolved,
    timed_out,
    tls_failed,
)
from reconciler.errors import (
    AmbiguousCreate,
    ApiError,
    AuthError,
    BadResponse,
    HttpStatusError,
    RateLimited,
    TransportError,
)

AMBIGUOUS = (
    "the series may or may not exist, do not retry blindly: look it up (list the series) "
    "before creating again"
)
_EXAMPLE = "https://eu.api.capillarytech.com"


@dataclass(frozen=True)
class Origin:
    """Where the calls go and with which credentials, as messages may say it (no secret)."""

    host: str  # scheme://host[:port]
    hostname: str
    has_path: bool  # the base URL has a path after the host
    auth: str  # "basic" or "oauth"
    env_prefix: str
    redact: Callable[[str], str]

    @classmethod
    def of(
        cls, base_url: httpx.URL, *, auth: str, env_prefix: str, redact: Callable[[str], str]
    ) -> Origin:
        port = f":{base_url.port}" if base_url.port else ""
        return cls(
            host=f"{base_url.scheme}://{base_url.host}{port}",
            hostname=base_url.host,
            has_path=base_url.path.strip("/") != "",
            auth=auth,
            env_prefix=env_prefix,
            redact=redact,
        )

    def credentials(self, *, token_call: bool = False) -> str:
        """Which variables the credentials came from, in words (never their values)."""
        p = self.env_prefix
        if self.auth == "oauth":
            made = "the OAuth key and secret" if token_call else "an OAuth token made from"
            return f"{made} {p}_OAUTH_KEY and {p}_OAUTH_SECRET"
        return f"Basic auth from {p}_USERNAME and {p}_PASSWORD"

    @property
    def base_url_setting(self) -> str:
        return f"{self.env_prefix}_BASE_URL or the environment's base_url"


@dataclass(frozen=True)
class Attempts:
    """How a call went: its name for messages, attempts made, the timeout it waited."""

    where: str  # "GET /v1.1/coupon/series"
    attempts: int
    timeout: float
    authenticated: bool = True

    @property
    def tries(self) -> str:
        return f" (after {self.attempts} attempts)" if self.attempts > 1 else ""


def transport_failure(
    origin: Origin,
    call: Attempts,
    exc: httpx.TransportError,
    *,
    verdict: Verdict,
    reason: str,
    url: str,
    method: str,
) -> ApiError:
    """The error of a call that got no HTTP answer."""
    if verdict is Verdict.AMBIGUOUS:
        return AmbiguousCreate(
            origin.redact(
                f"{call.where} is ambiguous: the request may have reached the server "
                f"({reason}); " + AMBIGUOUS
            ),
            method=method,
            url=url,
        )
    said = _transport_words(origin, call, exc, reason)
    return TransportError(
        origin.redact(f"{call.where} on {origin.host} failed{call.tries}: {said}"),
        method=method,
        url=url,
    )


def _transport_words(origin: Origin, call: Attempts, exc: BaseException, reason: str) -> str:
    setting = origin.base_url_setting
    if certificate_refused(exc):
        return f"the server's TLS certificate did not verify ({reason}); not retried"
    if tls_failed(exc):
        return (
            f"the TLS handshake failed ({reason}): is the base URL an https address of the "
            f"API, not a plain-http port? ({setting}); not retried"
        )
    if name_unresolved(exc):
        return (
            f"the host name {origin.hostname!r} does not resolve (DNS: {_dns_words(exc)}): "
            f"check the base URL ({setting}) and the network's name server; not retried"
        )
    if timed_out(exc):
        what = "no connection" if isinstance(exc, httpx.ConnectTimeout) else "no answer"
        return (
            f"{what} within {call.timeout:g}s ({reason}); a silent server is tried twice at "
            "most. The environment's timeout_seconds sets how long a call waits"
        )
    return reason


def _dns_words(exc: BaseException) -> str:
    current: BaseException | None = exc
    while current is not None and not isinstance(current, socket.gaierror):
        current = current.__cause__ or current.__context__
    return (current.strerror if current is not None else None) or "no such name"


def status_failure(
    origin: Origin,
    call: Attempts,
    response: httpx.Response,
    *,
    verdict: Verdict,
    codes: tuple[int, ...],
    api_message: str,
    note: str,
) -> ApiError:
    """The error of a call whose last answer was not a 2xx (``note``: why retries ended)."""
    status = response.status_code
    said = f"{status} {response.reason_phrase}{api_suffix(codes, api_message)}"
    details: dict[str, Any] = {
        "method": response.request.method,
        "url": origin.redact(str(response.request.url)),
        "status": status,
        "codes": codes,
        "api_message": origin.redact(api_message),
    }
    if verdict is Verdict.AMBIGUOUS:
        message = (
            f"{call.where} is ambiguous: the server answered {said} after it may have made "
            "the series; "
        )
        return AmbiguousCreate(origin.redact(message + AMBIGUOUS), **details)
    hint = _status_hint(origin, call, status, codes)
    kind: type[ApiError] = HttpStatusError
    if status in (401, 403):
        kind = AuthError
    elif status == 429:
        kind = RateLimited
    # The host is named where it is likely the cause (the hint says why), not on every
    # refusal of one series.
    on = f" on {origin.host}" if hint else ""
    return kind(
        origin.redact(f"{call.where}{on} failed{call.tries}: {said}{note}{hint}"), **details
    )


def _status_hint(origin: Origin, call: Attempts, status: int, codes: tuple[int, ...]) -> str:
    token_call = not call.authenticated
    if status == 401:
        return (
            f". The API refused the credentials: {origin.credentials(token_call=token_call)} "
            "(values not shown); check that they are this host's"
        )
    if status == 403:
        return (
            f". The API refused this call to {origin.credentials(token_call=token_call)} "
            "(values not shown): they may lack the rights to coupon series in this org"
        )
    if status == 404 and set(codes) <= {404}:  # no API error of its own: the path is unknown
        where = (
            "it has a path after the host, which the API's hosts do not use"
            if origin.has_path
            else "the host may not be the API's"
        )
        return (
            f". No such path on this host: the base URL may be wrong ({where}; "
            f"{origin.base_url_setting}); write the host alone, such as {_EXAMPLE}"
        )
    return ""


def bad_answer(
    origin: Origin,
    *,
    where: str,
    what: str,
    create: bool,
    method: str,
    url: str,
    status: int | None,
    codes: tuple[int, ...],
    api_message: str,
) -> ApiError:
    """The error for a 2xx answer that is not what the API documents.

    For a create the server answered success, so it may well have made the series:
    ``AmbiguousCreate``; otherwise ``BadResponse``.
    """
    details: dict[str, Any] = {
        "method": method,
        "url": url,
        "codes": codes,
        "api_message": origin.redact(api_message),
    }
    if create:
        return AmbiguousCreate(
            origin.redact(f"{where} is ambiguous: the server answered success, but {what}; ")
            + AMBIGUOUS,
            status=status,
            **details,
        )
    return BadResponse(origin.redact(f"{where}: {what}"), **details)
