"""One API call, in layers, the way httpx splits ``send``::

    Session.call()                  retries and backoff, by the verdicts of ``retry``;
    │                               the typed error when the call ends badly
    └── _send_handling_auth()       auth headers; after a 401/403, one new OAuth token
        └── _send_single_request()  a slot of the rate limit, the send, the debug log

``_answer`` maps a response to its JSON body or to a verdict; ``failures`` builds the one
typed error (``reconciler.errors``) a call ends with. Every wait says what it waits for
(``pacing``): the rate limit, a retry's backoff, an answer that does not come. Every text
that leaves this module is redacted with every secret known: the credentials, and the OAuth
tokens generated.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import urlencode

import httpx

from reconciler import __version__
from reconciler.client.answers import api_errors, api_suffix, json_or_text, trim
from reconciler.client.auth import (
    DEFAULT_TOKEN_TTL_SECONDS,
    OAUTH_HEADER,
    OAUTH_TOKEN_PATH,
    TokenCache,
    basic_authorization,
)
from reconciler.client.config import AuthKind, bypasses_proxies
from reconciler.client.credentials import DEFAULT_PREFIX, Credentials, redact
from reconciler.client.events import (
    AwaitingAnswer,
    CallDone,
    ClientEvent,
    RateLimitWait,
    Retrying,
    TokenGenerated,
)
from reconciler.client.failures import (
    Attempts,
    Origin,
    bad_answer,
    status_failure,
    transport_failure,
)
from reconciler.client.pacing import NOTICE_AFTER_SECONDS, TICK_SECONDS, ticking
from reconciler.client.ratelimit import RateLimiter
from reconciler.client.retry import (
    Verdict,
    after_status,
    after_transport_error,
    backoff_delay,
    parse_retry_after,
    timed_out,
)
from reconciler.errors import ApiError, AuthError, HttpStatusError

logger = logging.getLogger("reconciler.client")

USER_AGENT = f"reconciler/{__version__}"


_SHOWN = 3  # values of a repeated query key a message shows


@dataclass(frozen=True)
class Call:
    """One API call as the resource methods ask for it."""

    method: str
    path: str
    params: Mapping[str, str | Sequence[str]] | None = None  # a list: the key repeated
    json_body: Any = None
    create: bool = False  # a POST that makes a series: the ambiguous-create policy applies
    authenticated: bool = True
    read_timeout: float | None = None  # None: the client's timeout
    # The JSON decoder of a 2xx answer (None: ``json.loads``): the v1.1 list keeps only what
    # it reads of each series as the answer is decoded (``listing.decode_list``).
    decode: Callable[[bytes], Any] | None = field(default=None, compare=False)

    @property
    def shown(self) -> str:
        """The path for messages: with its query, but without the constant ``format=json``;
        a repeated key shows its first values and how many there are (``ids=1&ids=2&...``)."""
        parts = []
        for key, value in (self.params or {}).items():
            if key == "format":
                continue
            if isinstance(value, str):
                parts.append(urlencode({key: value}))
                continue
            parts.append(urlencode({key: list(value[:_SHOWN])}, doseq=True))
            if len(value) > _SHOWN:
                parts[-1] += f"&... ({len(value)} {key})"
        return f"{self.path}?{'&'.join(parts)}" if parts else self.path


@dataclass
class _Exchange:
    """What one call went through so far."""

    attempt: int = 1
    timeouts: int = 0  # attempts that met silence (a timeout)
    reauthenticated: bool = False
    request: httpx.Request | None = None


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    # Attempts that may end in a timeout: each one costs the whole timeout (``retry``).
    max_timeouts: int = 2
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    retry_after_max_seconds: float = 120.0
    # When a call with no answer yet is first reported (AwaitingAnswer), then how often.
    notice_after_seconds: float = NOTICE_AFTER_SECONDS
    tick_seconds: float = TICK_SECONDS


@dataclass(frozen=True)
class _Failed:
    """A non-2xx answer and what to do about it."""

    response: httpx.Response
    codes: tuple[int, ...]
    api_message: str
    verdict: Verdict
    retry_after: float | None


class Session:
    """Sends calls to one API host with auth, rate limit, retries and redaction."""

    def __init__(
        self,
        *,
        base_url: str,
        credentials: Credentials,
        auth: AuthKind,
        transport: httpx.AsyncBaseTransport | None,
        timeout_seconds: float,
        rate_limit_per_minute: int,
        policy: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
        random: Callable[[], float],
        emit: Callable[[ClientEvent], None],
        env_prefix: str = DEFAULT_PREFIX,
    ) -> None:
        self._credentials = credentials
        self._secrets: set[str] = set(credentials.secrets())
        self._policy = policy
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._random = random
        self._emit = emit
        self._limiter = RateLimiter(
            limit=rate_limit_per_minute, window=60.0, clock=clock, sleep=sleep
        )
        self._tokens = TokenCache(generate=self._generate_token, clock=clock)
        self._basic = (
            basic_authorization(credentials.username or "", credentials.password or "")
            if auth == "basic"
            else None
        )
        self._http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout_seconds),
            verify=True,
            follow_redirects=False,
            trust_env=not bypasses_proxies(base_url),
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
        )
        self._timeout = timeout_seconds
        self._origin = Origin.of(
            self._http.base_url, auth=auth, env_prefix=env_prefix, redact=self.redact
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def tokens_generated(self) -> int:
        return self._tokens.generated

    def redact(self, text: str) -> str:
        return redact(text, tuple(self._secrets))

    def url(self, path: str) -> str:
        return self.redact(str(self._http.base_url.join(path)))

    # ------------------------------------------------------------------ the layers

    async def call(self, call: Call) -> Any:
        """Send ``call`` until it succeeds or a verdict ends it; its parsed JSON body."""
        return (await self.send(call))[1]

    async def send(self, call: Call) -> tuple[int, Any]:
        """As ``call``, with the status of the 2xx answer."""
        exchange = _Exchange()
        while True:
            try:
                response = await self._send_handling_auth(call, exchange)
            except httpx.TransportError as exc:
                reason = _reason(exc)
                verdict = after_transport_error(exc, create=call.create)
                if timed_out(exc):
                    exchange.timeouts += 1
                if verdict is Verdict.RETRY and self._may_retry(exchange):
                    await self._wait(call, exchange, None, reason)
                    continue
                raise self._transport_failure(call, exchange, exc, verdict, reason) from None
            answer = self._answer(call, response)
            if not isinstance(answer, _Failed):
                return response.status_code, answer
            too_long = self._too_long(answer.retry_after)
            if answer.verdict is Verdict.RETRY and self._may_retry(exchange) and not too_long:
                reason = f"{response.status_code} {response.reason_phrase}"
                await self._wait(
                    call, exchange, answer.retry_after, reason + api_suffix(*_said(answer))
                )
                continue
            raise self._status_failure(call, exchange, answer, too_long=too_long)

    async def _send_handling_auth(self, call: Call, exchange: _Exchange) -> httpx.Response:
        headers, token = await self._auth_headers(call)
        response = await self._send_single_request(call, exchange, headers)
        if response.status_code in (401, 403) and token and not exchange.reauthenticated:
            # The token may have expired early or been revoked: one new one, once per call.
            exchange.reauthenticated = True
            self._tokens.invalidate(token)
            headers, _ = await self._auth_headers(call)
            response = await self._send_single_request(call, exchange, headers)
        return response

    async def _auth_headers(self, call: Call) -> tuple[dict[str, str], str]:
        """The headers that authenticate ``call``, and the OAuth token among them ("")."""
        if not call.authenticated:
            return {}, ""
        if self._basic is not None:
            return {"Authorization": self._basic}, ""
        token = await self._tokens.get()
        return {OAUTH_HEADER: token}, token

    def _may_retry(self, exchange: _Exchange) -> bool:
        policy = self._policy
        return exchange.attempt < policy.max_attempts and exchange.timeouts < policy.max_timeouts

    def _read_timeout(self, call: Call) -> float:
        return call.read_timeout if call.read_timeout is not None else self._timeout

    async def _send_single_request(
        self, call: Call, exchange: _Exchange, headers: dict[str, str]
    ) -> httpx.Response:
        # The slot is held from the send until the answer (``ratelimit``: the server counts
        # the call at its arrival, somewhere in between).
        async with self._limiter.slot(pause=lambda delay: self._rate_pause(call, delay)):
            request = self._http.build_request(
                call.method,
                call.path,
                params=call.params,
                json=call.json_body,
                headers=headers,
                timeout=(
                    httpx.Timeout(self._timeout, read=call.read_timeout)
                    if call.read_timeout is not None
                    else httpx.USE_CLIENT_DEFAULT
                ),
            )
            exchange.request = request
            started = self._clock()

            def silent() -> None:
                self._emit(
                    AwaitingAnswer(
                        method=call.method,
                        path=self.redact(call.shown),
                        host=self._origin.host,
                        waited_seconds=self._clock() - started,
                        timeout_seconds=self._read_timeout(call),
                        attempt=exchange.attempt,
                    )
                )

            policy = self._policy
            try:
                with ticking(
                    first_after=policy.notice_after_seconds,
                    every=policy.tick_seconds,
                    tick=silent,
                ):
                    response = await self._http.send(request)
                    await response.aread()
            except httpx.TransportError as exc:
                self._log(call, exchange, status="-", started=started, error=_reason(exc))
                raise
        self._log(call, exchange, status=str(response.status_code), started=started, error="")
        return response

    async def _rate_pause(self, call: Call, delay: float) -> None:
        """Wait ``delay`` seconds for the rate limit, saying so (and counting down)."""
        limiter = self._limiter

        def event(left: float | None) -> RateLimitWait:
            return RateLimitWait(
                delay_seconds=delay,
                left_seconds=left,
                limit=limiter.limit,
                window_seconds=limiter.window + limiter.margin,
                method=call.method,
                path=self.redact(call.shown),
            )

        await self._pause(delay, event)

    async def _pause(self, delay: float, event: Callable[[float | None], ClientEvent]) -> None:
        """Sleep ``delay`` seconds; ``event(None)`` at the start, ``event(left)`` each tick."""
        self._emit(event(None))
        end = self._clock() + delay
        tick = self._policy.tick_seconds
        with ticking(
            first_after=tick,
            every=tick,
            tick=lambda: self._emit(event(max(0.0, end - self._clock()))),
        ):
            await self._sleep(delay)

    # ------------------------------------------------------------------ answers

    def _answer(self, call: Call, response: httpx.Response) -> Any:
        """The JSON body of a 2xx answer; else a ``_Failed`` with the verdict on it."""
        status = response.status_code
        body = json_or_text(response, decode=call.decode if 200 <= status < 300 else None)
        if 200 <= status < 300:
            if isinstance(body, str):
                self.fail_bad_answer(call, f"the answer is not JSON: {trim(body)}", status=status)
            return body
        codes, api_message = api_errors(body)
        verdict = (
            Verdict.FAIL
            if status in (401, 403)
            else after_status(status, codes, create=call.create)
        )
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=self._wall_clock())
        if status == 429 and retry_after is not None and not self._too_long(retry_after):
            # The server's own word: no call of this client before then, not only this one.
            self._limiter.hold_until(self._clock() + retry_after)
        return _Failed(response, codes, api_message, verdict, retry_after)

    def _too_long(self, retry_after: float | None) -> bool:
        return retry_after is not None and retry_after > self._policy.retry_after_max_seconds

    async def _wait(
        self, call: Call, exchange: _Exchange, retry_after: float | None, reason: str
    ) -> None:
        policy = self._policy
        delay = (
            retry_after
            if retry_after is not None
            else backoff_delay(
                exchange.attempt,
                base=policy.backoff_base_seconds,
                maximum=policy.backoff_max_seconds,
                random=self._random,
            )
        )
        shown, said = self.redact(call.shown), self.redact(reason)

        def event(left: float | None) -> Retrying:
            return Retrying(
                method=call.method,
                path=shown,
                attempt=exchange.attempt,
                delay_seconds=delay,
                reason=said,
                left_seconds=left,
            )

        await self._pause(delay, event)
        exchange.attempt += 1

    # ------------------------------------------------------------------ the errors

    def _attempts(self, call: Call, exchange: _Exchange) -> Attempts:
        return Attempts(
            where=f"{call.method} {call.shown}",
            attempts=exchange.attempt,
            timeout=self._read_timeout(call),
            authenticated=call.authenticated,
        )

    def _transport_failure(
        self,
        call: Call,
        exchange: _Exchange,
        exc: httpx.TransportError,
        verdict: Verdict,
        reason: str,
    ) -> ApiError:
        url = self.redact(str(exchange.request.url)) if exchange.request else self.url(call.path)
        return transport_failure(
            self._origin,
            self._attempts(call, exchange),
            exc,
            verdict=verdict,
            reason=reason,
            url=url,
            method=call.method,
        )

    def _status_failure(
        self, call: Call, exchange: _Exchange, failed: _Failed, *, too_long: bool
    ) -> ApiError:
        note = ""
        if (
            too_long
            and failed.verdict is Verdict.RETRY
            and exchange.attempt < self._policy.max_attempts
        ):
            note = (
                f"; the server asks to wait {failed.retry_after:g}s, more than "
                f"{self._policy.retry_after_max_seconds:g}s"
            )
        return status_failure(
            self._origin,
            self._attempts(call, exchange),
            failed.response,
            verdict=failed.verdict,
            codes=failed.codes,
            api_message=failed.api_message,
            note=note,
        )

    def fail_bad_answer(
        self,
        call: Call,
        what: str,
        *,
        status: int | None = None,
        codes: tuple[int, ...] = (),
        api_message: str = "",
    ) -> NoReturn:
        """Raise for a 2xx answer that is not what the API documents (``failures``)."""
        raise bad_answer(
            self._origin,
            where=f"{call.method} {call.shown}",
            what=what,
            create=call.create,
            method=call.method,
            url=self.url(call.path),
            status=status,
            codes=codes,
            api_message=api_message,
        )

    # ------------------------------------------------------------------ OAuth

    async def _generate_token(self) -> tuple[str, float]:
        creds = self._credentials
        token_call = Call(
            "POST",
            OAUTH_TOKEN_PATH,
            json_body={"key": creds.oauth_key, "secret": creds.oauth_secret},
            authenticated=False,
        )
        try:
            body = await self.call(token_call)
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
            codes, api_message = api_errors(body)
            keys = sorted(body) if isinstance(body, dict) else type(body).__name__
            raise AuthError(
                self.redact(
                    f"POST {OAUTH_TOKEN_PATH} gave no token (answer keys: {keys})"
                    f"{api_suffix(codes, api_message)}"
                ),
                method="POST",
                url=self.url(OAUTH_TOKEN_PATH),
                codes=codes,
                api_message=self.redact(api_message),
            )
        self._secrets.add(value)
        ttl = _ttl(data.get("ttlSeconds") if isinstance(data, dict) else None)
        self._emit(TokenGenerated(ttl_seconds=ttl))
        return value, ttl

    # ------------------------------------------------------------------ logging

    def _log(
        self, call: Call, exchange: _Exchange, *, status: str, started: float, error: str
    ) -> None:
        elapsed = self._clock() - started
        self._emit(CallDone(method=call.method, status=status, elapsed_seconds=elapsed))
        if not logger.isEnabledFor(logging.DEBUG) or exchange.request is None:
            return
        target = exchange.request.url.raw_path.decode("ascii", "replace")
        suffix = f" {error}" if error else ""
        logger.debug(
            "%s",
            self.redact(
                f"{call.method} {target} -> {status} attempt {exchange.attempt} "
                f"{elapsed:.3f}s{suffix}"
            ),
        )


def _said(failed: _Failed) -> tuple[tuple[int, ...], str]:
    return failed.codes, failed.api_message


def _reason(exc: httpx.TransportError) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _ttl(raw: Any) -> float:
    if isinstance(raw, int | float) and not isinstance(raw, bool) and raw > 0:
        return float(raw)
    return DEFAULT_TOKEN_TTL_SECONDS


__all__ = ["USER_AGENT", "Call", "RetryPolicy", "Session"]
