"""The asynchronous client of the coupon series API: dicts in and out, typed errors.

``CouponClient`` reads series by id in concurrent batches, creates and updates them, and
lists them through the older v1.1 call. It authenticates (Basic or OAuth), keeps under a
client-side rate limit, retries what is safe to retry (the table is in ``reconciler.retry``),
and raises only the ``ApiError`` family of ``reconciler.errors``, with credentials redacted
from every message. It never validates series fields: that is the catalogue's job.

The transport is injected: tests pass an ``httpx.MockTransport``, the embedded sandbox an
in-process transport; with none, httpx talks HTTPS with certificate checks on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random as _random
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, NoReturn, Self
from urllib.parse import urlencode

import httpx

from reconciler import __version__
from reconciler.auth import (
    DEFAULT_TOKEN_TTL_SECONDS,
    OAUTH_HEADER,
    OAUTH_TOKEN_PATH,
    TokenCache,
    basic_authorization,
)
from reconciler.credentials import DEFAULT_PREFIX, Credentials, redact
from reconciler.errors import (
    AmbiguousCreate,
    ApiError,
    AuthError,
    BadResponse,
    ConfigError,
    HttpStatusError,
    RateLimited,
    TransportError,
)
from reconciler.hosts import is_loopback
from reconciler.ratelimit import RateLimiter
from reconciler.retry import (
    CREATE_REFUSED_STATUSES,
    backoff_delay,
    certainly_not_sent,
    parse_retry_after,
    status_retryable,
    transport_retryable,
)
from reconciler.settings import Environment

logger = logging.getLogger("reconciler.client")

AuthKind = Literal["basic", "oauth"]

SERIES_PATH = "/v2/coupon/series"
LIST_PATH = "/v1.1/coupon/series"
USER_AGENT = f"reconciler/{__version__}"
# API error codes that mean "no such series": a GET batch answering one is split to find it.
UNKNOWN_SERIES_CODES = frozenset({707, 755})
_TRIM = 300


# ---------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Retrying:
    """A call failed and will be tried again after ``delay_seconds``."""

    method: str
    path: str
    attempt: int  # the attempt that failed, from 1
    delay_seconds: float
    reason: str


@dataclass(frozen=True)
class RateLimitWait:
    """The client-side rate limit holds a call back for ``delay_seconds``."""

    delay_seconds: float


@dataclass(frozen=True)
class TokenGenerated:
    """A new OAuth token was generated; it lives ``ttl_seconds``."""

    ttl_seconds: float


@dataclass(frozen=True)
class CallsPlanned:
    """``count`` more calls are about to be made (the batches of a ``get_series``)."""

    count: int


@dataclass(frozen=True)
class CallDone:
    """A call got an answer (``status``) or failed in transport (``status`` "-")."""

    method: str
    status: str
    elapsed_seconds: float


ClientEvent = Retrying | RateLimitWait | TokenGenerated | CallsPlanned | CallDone


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FetchResult:
    """The series that came back, by id; the ids asked for that did not; the API's warnings."""

    found: dict[int, dict[str, Any]]
    missing: tuple[int, ...] = ()
    warnings: tuple[Any, ...] = ()


# ---------------------------------------------------------------------------- the client


class CouponClient:
    """Talks to one org's coupon series API. Use as ``async with CouponClient(...) as c:``."""

    def __init__(
        self,
        *,
        base_url: str | None,
        credentials: Credentials,
        auth: AuthKind | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limit_per_minute: int = 100,
        batch_size: int = 20,
        concurrency: int = 4,
        timeout_seconds: float = 30.0,
        max_attempts: int = 5,
        backoff_base_seconds: float = 0.5,
        backoff_max_seconds: float = 30.0,
        retry_after_max_seconds: float = 120.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        random: Callable[[], float] = _random.random,
        on_event: Callable[[ClientEvent], None] | None = None,
        env_prefix: str = DEFAULT_PREFIX,
    ) -> None:
        for name, value in (
            ("batch_size", batch_size),
            ("concurrency", concurrency),
            ("max_attempts", max_attempts),
            ("rate_limit_per_minute", rate_limit_per_minute),
        ):
            if value < 1:
                raise ConfigError(f"{name} must be at least 1, not {value}")
        if timeout_seconds <= 0:
            raise ConfigError(f"timeout_seconds must be positive, not {timeout_seconds}")
        self.base_url = _check_base_url(base_url, env_prefix=env_prefix)
        self.auth: AuthKind = _choose_auth(auth, credentials, env_prefix=env_prefix)
        self._credentials = credentials
        self._secrets: set[str] = set(credentials.secrets())
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self._backoff_base = backoff_base_seconds
        self._backoff_max = backoff_max_seconds
        self._retry_after_max = retry_after_max_seconds
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._random = random
        self._on_event = on_event
        self._limiter = RateLimiter(
            limit=rate_limit_per_minute,
            window=60.0,
            clock=clock,
            sleep=sleep,
            on_wait=lambda delay: self._emit(RateLimitWait(delay_seconds=delay)),
        )
        self._tokens = TokenCache(generate=self._generate_token, clock=clock)
        self._basic = (
            basic_authorization(credentials.username or "", credentials.password or "")
            if self.auth == "basic"
            else None
        )
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout_seconds),
            verify=True,
            follow_redirects=False,
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
        )

    @classmethod
    def from_environment(
        cls,
        environment: Environment,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        environ: Mapping[str, str] | None = None,
        on_event: Callable[[ClientEvent], None] | None = None,
    ) -> CouponClient:
        """A client for ``environment``, its credentials read from the environment variables."""
        import os

        env = os.environ if environ is None else environ
        prefix = environment.env_prefix
        base_url = environment.base_url or env.get(f"{prefix}_BASE_URL") or None
        return cls(
            base_url=base_url,
            credentials=Credentials.from_env(prefix=prefix, environ=env),
            auth=environment.auth,
            transport=transport,
            rate_limit_per_minute=environment.rate_limit_per_minute,
            batch_size=environment.batch_size,
            concurrency=environment.parallelism,
            timeout_seconds=environment.timeout_seconds,
            on_event=on_event,
            env_prefix=prefix,
        )

    def __repr__(self) -> str:
        return f"CouponClient(base_url={self.base_url!r}, auth={self.auth!r})"

    __str__ = __repr__

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def tokens_generated(self) -> int:
        """How many OAuth tokens this client generated (0 with Basic auth)."""
        return self._tokens.generated

    # ------------------------------------------------------------------ reads

    async def get_series(self, ids: Sequence[int]) -> FetchResult:
        """The series with these ids, in batches of ``batch_size``, ``concurrency`` at once.

        Each id is asked once; the ids that do not come back are in ``missing``, never
        dropped. A batch refused with "invalid series id" (707, 755) is split until the
        unknown ids are found, which are then reported missing.
        """
        wanted: list[int] = []
        for series_id in ids:
            if isinstance(series_id, bool) or not isinstance(series_id, int):
                raise TypeError(f"series ids are integers, not {series_id!r}")
            if series_id not in wanted:
                wanted.append(series_id)
        if not wanted:
            return FetchResult(found={})
        semaphore = asyncio.Semaphore(self.concurrency)
        batches = [wanted[i : i + self.batch_size] for i in range(0, len(wanted), self.batch_size)]
        self._emit(CallsPlanned(count=len(batches)))
        results = await _gather_or_cancel(
            [self._fetch_batch(batch, semaphore) for batch in batches]
        )
        found: dict[int, dict[str, Any]] = {}
        warnings: list[Any] = []
        for batch_found, batch_warnings in results:
            found.update(batch_found)
            warnings.extend(batch_warnings)
        found = {i: found[i] for i in wanted if i in found}
        missing = tuple(i for i in wanted if i not in found)
        return FetchResult(found=found, missing=missing, warnings=tuple(warnings))

    async def _fetch_batch(
        self, batch: list[int], semaphore: asyncio.Semaphore
    ) -> tuple[dict[int, dict[str, Any]], list[Any]]:
        async with semaphore:
            try:
                body = await self._call(
                    "GET", SERIES_PATH, params={"ids": ",".join(str(i) for i in batch)}
                )
            except HttpStatusError as exc:
                if exc.status is None or not UNKNOWN_SERIES_CODES.intersection(exc.codes):
                    raise
                if len(batch) == 1:
                    return {}, [f"series {batch[0]}: {exc.api_message or exc}"]
                refused = True
            else:
                refused = False
        if refused:  # outside the semaphore: the halves take their own slots
            half = len(batch) // 2
            parts = await _gather_or_cancel(
                [
                    self._fetch_batch(batch[:half], semaphore),
                    self._fetch_batch(batch[half:], semaphore),
                ]
            )
            found = {k: v for part, _ in parts for k, v in part.items()}
            return found, [w for _, part_warnings in parts for w in part_warnings]
        return self._read_entities(body, batch)

    def _read_entities(
        self, body: Any, batch: list[int]
    ) -> tuple[dict[int, dict[str, Any]], list[Any]]:
        path = f"{SERIES_PATH}?ids={','.join(str(i) for i in batch)}"
        if (
            not isinstance(body, dict)
            or "entity" not in body
            or not isinstance(body["entity"], list | None)
        ):
            self._bad_response(
                "GET", path, f'expected {{"entity": [...], "warnings": [...]}}, got {_trim(body)}'
            )
        entities = body.get("entity") or []
        raw_warnings = body.get("warnings") or []
        warnings = list(raw_warnings) if isinstance(raw_warnings, list) else [raw_warnings]
        asked = set(batch)
        found: dict[int, dict[str, Any]] = {}
        for entity in entities:
            if not isinstance(entity, dict) or not _is_id(entity.get("id")):
                self._bad_response(
                    "GET", path, f"an entity is not a series with an integer id: {_trim(entity)}"
                )
            series_id = entity["id"]
            if series_id in asked:
                found[series_id] = entity
            else:
                warnings.append(f"the API returned series {series_id}, which was not asked for")
        return found, warnings

    async def list_series(self) -> list[dict[str, Any]]:
        """Every series of the org (v1.1 list), keys turned to camelCase (top level only)."""
        body = await self._call("GET", LIST_PATH, params={"format": "json"})
        path = f"{LIST_PATH}?format=json"
        try:
            items = body["response"]["series"]["items"]
        except (KeyError, TypeError):
            self._bad_response(
                "GET", path, f"expected response.series.items.item[...], got {_trim(body)}"
            )
        if items in (None, "", []):
            return []
        if not isinstance(items, dict):
            self._bad_response("GET", path, f"expected series items, got {_trim(items)}")
        item = items.get("item", [])
        if isinstance(item, dict):  # a single series comes as an object, not a list
            item = [item]
        if not isinstance(item, list) or not all(isinstance(i, dict) for i in item):
            self._bad_response("GET", path, f"expected a list of series, got {_trim(item)}")
        return [_camel_series(i) for i in item]

    # ------------------------------------------------------------------ writes

    async def create_series(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """POST a new series; the answer is the series the server made.

        Retried only when the request certainly did not reach the server; otherwise a
        failure raises ``AmbiguousCreate``: the series may exist, look before creating again.
        """
        body = await self._call(
            "POST", SERIES_PATH, json_body={"CouponSeriesV2": dict(fields)}, create=True
        )
        return self._series_answer("POST", SERIES_PATH, body)

    async def update_series(self, series_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        """PUT the series ``series_id`` (a full replacement); the answer is the stored series."""
        if not _is_id(series_id):
            raise TypeError(f"series ids are integers, not {series_id!r}")
        path = f"{SERIES_PATH}/{series_id}"
        body = await self._call(
            "PUT", path, params={"format": "json"}, json_body={"CouponSeriesV2": dict(fields)}
        )
        return self._series_answer("PUT", path, body)

    def _series_answer(self, method: str, path: str, body: Any) -> dict[str, Any]:
        if isinstance(body, dict) and _is_id(body.get("id")):
            return body
        codes, api_message = _api_errors(body)
        self._bad_response(
            method,
            path,
            f"the answer is not a series: {_trim(body)}",
            codes=codes,
            api_message=api_message,
        )
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ the one call

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        create: bool = False,
        authenticated: bool = True,
    ) -> Any:
        """Send one call with auth, rate limit and retries; return its parsed JSON body."""
        shown = _display_path(path, params)
        attempt = 0
        reauthenticated = False
        while True:
            attempt += 1
            await self._limiter.acquire()
            headers: dict[str, str] = {}
            token = ""
            if authenticated:
                if self._basic is not None:
                    headers["Authorization"] = self._basic
                else:
                    token = await self._tokens.get()
                    headers[OAUTH_HEADER] = token
            request = self._http.build_request(
                method, path, params=params, json=json_body, headers=headers
            )
            started = self._clock()
            try:
                response = await self._http.send(request)
                await response.aread()
            except httpx.TransportError as exc:
                elapsed = self._clock() - started
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                self._log(
                    method=method,
                    request=request,
                    status="-",
                    attempt=attempt,
                    elapsed=elapsed,
                    error=reason,
                )
                if create and not certainly_not_sent(exc):
                    raise AmbiguousCreate(
                        self._redact(
                            f"{method} {shown} is ambiguous: the request may have reached the "
                            f"server ({reason}); the series may or may not exist, do not "
                            "retry blindly: look it up (list the series) before creating again"
                        ),
                        method=method,
                        url=self._redact(str(request.url)),
                    ) from None
                if not transport_retryable(exc) or attempt >= self.max_attempts:
                    tries = f" (after {attempt} attempts)" if attempt > 1 else ""
                    raise TransportError(
                        self._redact(f"{method} {shown} failed{tries}: {reason}"),
                        method=method,
                        url=self._redact(str(request.url)),
                    ) from None
                await self._wait_before_retry(method, shown, attempt, None, reason)
                continue
            elapsed = self._clock() - started
            status = response.status_code
            self._log(
                method=method,
                request=request,
                status=str(status),
                attempt=attempt,
                elapsed=elapsed,
                error="",
            )
            body = _json_or_text(response)
            if 200 <= status < 300:
                if isinstance(body, str):
                    self._bad_response(method, shown, f"the answer is not JSON: {_trim(body)}")
                return body
            codes, api_message = _api_errors(body)
            if status in (401, 403):
                if token and not reauthenticated:
                    # The token may have expired early or been revoked: one new one, once.
                    self._tokens.invalidate(token)
                    reauthenticated = True
                    attempt -= 1
                    continue
                self._raise_status(
                    AuthError,
                    method=method,
                    path=shown,
                    request=request,
                    response=response,
                    codes=codes,
                    api_message=api_message,
                )
            retryable = status_retryable(status, codes)
            if create and retryable and status not in CREATE_REFUSED_STATUSES:
                if status >= 500:
                    raise AmbiguousCreate(
                        self._redact(
                            f"{method} {shown} is ambiguous: the server answered {status} "
                            f"{response.reason_phrase}{_api_suffix(codes, api_message)} after "
                            "it may have made the series; the series may or may not exist, do "
                            "not retry blindly: look it up (list the series) before creating "
                            "again"
                        ),
                        method=method,
                        url=self._redact(str(request.url)),
                        status=status,
                        codes=codes,
                        api_message=self._redact(api_message),
                    )
                retryable = False  # a 786 on a 4xx: refused; do not repeat a create
            retry_after = parse_retry_after(
                response.headers.get("Retry-After"), now=self._wall_clock()
            )
            too_long = retry_after is not None and retry_after > self._retry_after_max
            if not retryable or attempt >= self.max_attempts or too_long:
                self._raise_status(
                    RateLimited if status == 429 else HttpStatusError,
                    method=method,
                    path=shown,
                    request=request,
                    response=response,
                    codes=codes,
                    api_message=api_message,
                    attempts=attempt,
                    note=(
                        f"the server asks to wait {retry_after:g}s, more than "
                        f"{self._retry_after_max:g}s"
                        if too_long and retryable and attempt < self.max_attempts
                        else ""
                    ),
                )
            reason = f"{status} {response.reason_phrase}{_api_suffix(codes, api_message)}"
            await self._wait_before_retry(method, shown, attempt, retry_after, reason)

    async def _wait_before_retry(
        self, method: str, path: str, attempt: int, retry_after: float | None, reason: str
    ) -> None:
        if retry_after is not None:
            delay = retry_after
        else:
            delay = backoff_delay(
                attempt, base=self._backoff_base, maximum=self._backoff_max, random=self._random
            )
        self._emit(
            Retrying(
                method=method,
                path=path,
                attempt=attempt,
                delay_seconds=delay,
                reason=self._redact(reason),
            )
        )
        await self._sleep(delay)

    async def _generate_token(self) -> tuple[str, float]:
        creds = self._credentials
        try:
            body = await self._call(
                "POST",
                OAUTH_TOKEN_PATH,
                json_body={"key": creds.oauth_key, "secret": creds.oauth_secret},
                authenticated=False,
            )
        except HttpStatusError as exc:
            if exc.status in (400, 404):
                raise AuthError(
                    f"could not generate an OAuth token: {exc}",
                    method=exc.method,
                    url=exc.url,
                    status=exc.status,
                    codes=exc.codes,
                    api_message=exc.api_message,
                ) from None
            raise
        data = body.get("data") if isinstance(body, dict) else None
        value = data.get("accessToken") if isinstance(data, dict) else None
        if not isinstance(value, str) or not value:
            codes, api_message = _api_errors(body)
            keys = sorted(body) if isinstance(body, dict) else type(body).__name__
            raise AuthError(
                self._redact(
                    f"POST {OAUTH_TOKEN_PATH} gave no token (answer keys: {keys})"
                    f"{_api_suffix(codes, api_message)}"
                ),
                method="POST",
                url=self._redact(str(self._http.base_url.join(OAUTH_TOKEN_PATH))),
                codes=codes,
                api_message=self._redact(api_message),
            )
        self._secrets.add(value)
        ttl_raw = data.get("ttlSeconds") if isinstance(data, dict) else None
        ttl = (
            float(ttl_raw)
            if isinstance(ttl_raw, int | float) and not isinstance(ttl_raw, bool) and ttl_raw > 0
            else DEFAULT_TOKEN_TTL_SECONDS
        )
        self._emit(TokenGenerated(ttl_seconds=ttl))
        return value, ttl

    # ------------------------------------------------------------------ helpers

    def _raise_status(
        self,
        kind: type[ApiError],
        *,
        method: str,
        path: str,
        request: httpx.Request,
        response: httpx.Response,
        codes: tuple[int, ...],
        api_message: str,
        attempts: int = 1,
        note: str = "",
    ) -> NoReturn:
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        extra = f"; {note}" if note else ""
        message = (
            f"{method} {path} failed{tries}: {response.status_code} {response.reason_phrase}"
            f"{_api_suffix(codes, api_message)}{extra}"
        )
        raise kind(
            self._redact(message),
            method=method,
            url=self._redact(str(request.url)),
            status=response.status_code,
            codes=codes,
            api_message=self._redact(api_message),
        )

    def _bad_response(
        self,
        method: str,
        path: str,
        what: str,
        *,
        codes: tuple[int, ...] = (),
        api_message: str = "",
    ) -> NoReturn:
        raise BadResponse(
            self._redact(f"{method} {path}: {what}"),
            method=method,
            url=self._redact(str(self._http.base_url.join(path))),
            codes=codes,
            api_message=self._redact(api_message),
        )

    def _redact(self, text: str) -> str:
        return redact(text, tuple(self._secrets))

    def _emit(self, event: ClientEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)

    def _log(
        self,
        *,
        method: str,
        request: httpx.Request,
        status: str,
        attempt: int,
        elapsed: float,
        error: str,
    ) -> None:
        self._emit(CallDone(method=method, status=status, elapsed_seconds=elapsed))
        if not logger.isEnabledFor(logging.DEBUG):
            return
        target = request.url.raw_path.decode("ascii", "replace")
        suffix = f" {error}" if error else ""
        logger.debug(
            "%s",
            self._redact(f"{method} {target} -> {status} attempt {attempt} {elapsed:.3f}s{suffix}"),
        )


# ---------------------------------------------------------------------------- functions


def _check_base_url(base_url: str | None, *, env_prefix: str) -> str:
    hint = f"set {env_prefix}_BASE_URL or the environment's `base_url` in the settings"
    if base_url is None or not base_url.strip():
        raise ConfigError(f"no base URL for the API: {hint}")
    text = base_url.strip()
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise ConfigError(f"the base URL {text!r} is not a URL: {hint}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(f"the base URL {text!r} must be https://host[/path]: {hint}")
    if url.userinfo:
        raise ConfigError(
            "the base URL must not carry credentials: "
            f"set {env_prefix}_USERNAME / {env_prefix}_PASSWORD or "
            f"{env_prefix}_OAUTH_KEY / {env_prefix}_OAUTH_SECRET instead"
        )
    if url.query or url.fragment:
        raise ConfigError(f"the base URL {text!r} must not have a query or a fragment")
    if url.scheme == "http" and not is_loopback(url.host):
        raise ConfigError(
            f"the base URL {text!r} must use https (plain http only for a loopback host)"
        )
    return text.rstrip("/")


def _choose_auth(auth: AuthKind | None, credentials: Credentials, *, env_prefix: str) -> AuthKind:
    oauth_vars = f"{env_prefix}_OAUTH_KEY and {env_prefix}_OAUTH_SECRET"
    basic_vars = f"{env_prefix}_USERNAME and {env_prefix}_PASSWORD"
    if auth is None:
        if credentials.has_oauth:
            return "oauth"
        if credentials.has_basic:
            return "basic"
        raise ConfigError(f"no credentials for the API: set {oauth_vars}, or {basic_vars}")
    if auth == "oauth" and not credentials.has_oauth:
        raise ConfigError(f"OAuth is chosen but its credentials are not set: set {oauth_vars}")
    if auth == "basic" and not credentials.has_basic:
        raise ConfigError(f"Basic auth is chosen but its credentials are not set: set {basic_vars}")
    if auth not in ("basic", "oauth"):
        raise ConfigError(f"auth must be 'basic' or 'oauth', not {auth!r}")
    return auth


async def _gather_or_cancel(coroutines: Sequence[Coroutine[Any, Any, Any]]) -> list[Any]:
    """Run all; on the first failure cancel the others and raise that failure."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error
    return [task.result() for task in tasks]


def _display_path(path: str, params: Mapping[str, str] | None) -> str:
    """The path for messages: with its query, but without the constant ``format=json``."""
    shown = {k: v for k, v in (params or {}).items() if k != "format"}
    return f"{path}?{urlencode(shown, safe=',')}" if shown else path


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_or_text(response: httpx.Response) -> Any:
    if not response.content:
        return ""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return response.text


def _api_errors(body: Any) -> tuple[tuple[int, ...], str]:
    """The API's own error codes and messages from an answer, as documented."""
    if not isinstance(body, dict):
        return (), ""
    entries = body.get("errors")
    if entries is None and isinstance(body.get("response"), dict):  # v1.1 answers
        status = body["response"].get("status")
        entries = [status] if isinstance(status, dict) else None
    if isinstance(entries, dict):
        entries = [entries]
    codes: list[int] = []
    messages: list[str] = []
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict):
            continue
        code = entry.get("code")
        if isinstance(code, int) and not isinstance(code, bool):
            codes.append(code)
        elif isinstance(code, str) and code.strip().lstrip("-").isdigit():
            codes.append(int(code))
        message = entry.get("message")
        if isinstance(message, str) and message:
            messages.append(message)
    if not messages and isinstance(body.get("message"), str):
        messages.append(body["message"])
    return tuple(codes), "; ".join(messages)


def _api_suffix(codes: tuple[int, ...], api_message: str) -> str:
    if not codes and not api_message:
        return ""
    listed = f"[{', '.join(str(c) for c in codes)}] " if codes else ""
    return f": {listed}{api_message}".rstrip()


def _trim(value: Any) -> str:
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= _TRIM else text[: _TRIM - 3] + "..."


_SNAKE = re.compile(r"_([a-z0-9])")


def _camel(key: str) -> str:
    return _SNAKE.sub(lambda m: m.group(1).upper(), key)


def _camel_series(item: dict[str, Any]) -> dict[str, Any]:
    out = {_camel(k) if isinstance(k, str) else k: v for k, v in item.items()}
    series_id = out.get("id")
    if isinstance(series_id, str) and series_id.isdigit():
        out["id"] = int(series_id)
    return out
