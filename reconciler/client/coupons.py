"""``CouponClient``: the coupon series calls (read by ids, list, create, update).

The resource side of the client: which calls, in which batches, and what their answers must
look like. How one call is sent (auth, rate limit, retries, errors) is ``session``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random as _random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import httpx

from reconciler.client.answers import (
    UNKNOWN_SERIES_CODES,
    Unexpected,
    api_errors,
    batch_refused_for_size,
    is_id,
    read_entities,
    stated_limit,
    trim,
)
from reconciler.client.config import AuthKind, check_base_url, choose_auth
from reconciler.client.credentials import DEFAULT_PREFIX, Credentials, choose_base_url
from reconciler.client.events import (
    BatchSizeLearned,
    CallsPlanned,
    ClientEvent,
    FetchResult,
)
from reconciler.client.listing import ListFailed, decode_list, merge, read_list
from reconciler.client.session import Call, RetryPolicy, Session
from reconciler.errors import ConfigError, HttpStatusError, IncompleteListing
from reconciler.model.canonical import request_body
from reconciler.model.ports import ListedSeries, Listing
from reconciler.model.settings import DEFAULT_BATCH_SIZE, Environment

SERIES_PATH = "/v2/coupon/series"
LIST_PATH = "/v1.1/coupon/series"
# The list of every series of the org is one call that grows with the org: the server builds
# it before its first byte, so it may take longer to start answering than a read of a batch.
# Its read timeout is this many times ``timeout_seconds`` (120 s at the default 30 s); the
# read timeout bounds each wait for a byte, not the whole transfer of a long answer.
LIST_TIMEOUT_FACTOR = 4

_Found = tuple[dict[int, dict[str, Any]], list[Any]]


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
        batch_size: int = DEFAULT_BATCH_SIZE,
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
        _check_positive(
            batch_size=batch_size,
            concurrency=concurrency,
            max_attempts=max_attempts,
            rate_limit_per_minute=rate_limit_per_minute,
        )
        if timeout_seconds <= 0:
            raise ConfigError(f"timeout_seconds must be positive, not {timeout_seconds}")
        self.base_url = check_base_url(base_url, env_prefix=env_prefix)
        self.auth: AuthKind = choose_auth(auth, credentials, env_prefix=env_prefix)
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self._timeout = timeout_seconds
        self._on_event = on_event
        self._wall_clock = wall_clock
        self._batch_limit: int | None = None
        self._session = Session(
            base_url=self.base_url,
            credentials=credentials,
            auth=self.auth,
            transport=transport,
            timeout_seconds=timeout_seconds,
            rate_limit_per_minute=rate_limit_per_minute,
            policy=RetryPolicy(
                max_attempts=max_attempts,
                backoff_base_seconds=backoff_base_seconds,
                backoff_max_seconds=backoff_max_seconds,
                retry_after_max_seconds=retry_after_max_seconds,
            ),
            sleep=sleep,
            clock=clock,
            wall_clock=wall_clock,
            random=random,
            emit=self._emit,
            env_prefix=env_prefix,
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
        env = os.environ if environ is None else environ
        prefix = environment.env_prefix
        where = choose_base_url(
            flag=None,
            configured=environment.base_url,
            configured_in=f"environment {environment.name!r}'s base_url",
            prefix=prefix,
            environ=env,
        )
        return cls(
            base_url=where.url,
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
        await self._session.aclose()

    @property
    def tokens_generated(self) -> int:
        """How many OAuth tokens this client generated (0 with Basic auth)."""
        return self._session.tokens_generated

    @property
    def batch_limit(self) -> int | None:
        """The largest read the server accepted after refusing a larger one (None: no
        refusal seen). Kept for the client's life; ``BatchSizeLearned`` reports each change."""
        return self._batch_limit

    @property
    def effective_batch_size(self) -> int:
        """How many ids one read asks for now: ``batch_size``, or less once refused."""
        return min(self.batch_size, self._batch_limit or self.batch_size)

    # ------------------------------------------------------------------ reads

    async def get_series(self, ids: Sequence[int]) -> FetchResult:
        """The series with these ids, in batches of ``batch_size``, ``concurrency`` at once.

        Each id is asked once; the ids that do not come back are in ``missing``, never
        dropped. A batch refused with "invalid series id" (707, 755) is split until the
        unknown ids are found, which are then reported missing. A batch refused for asking
        too many ids at once is split to the size the server allows, which later batches
        use too (``batch_limit``).
        """
        wanted = _unique_ids(ids)
        merged: dict[int, dict[str, Any]] = {}
        warnings: list[Any] = []
        async with contextlib.aclosing(self.stream_series(wanted)) as parts:
            async for part in parts:
                merged.update(part.found)
                warnings.extend(part.warnings)
        found = {i: merged[i] for i in wanted if i in merged}
        missing = tuple(i for i in wanted if i not in merged)
        return FetchResult(found=found, missing=missing, warnings=tuple(warnings))

    async def stream_series(self, ids: Sequence[int]) -> AsyncGenerator[FetchResult, None]:
        """``get_series`` batch by batch, each as soon as it is answered (in no set order):
        a caller that is done with a batch's series drops them before the next comes (a
        plan of 10,000 series never holds them all). The first failure cancels the other
        batches and is raised; so does leaving the iteration early (use ``aclosing``)."""
        wanted = _unique_ids(ids)
        if not wanted:
            return
        semaphore = asyncio.Semaphore(self.concurrency)
        batches = _chunks(wanted, self.effective_batch_size)
        self._emit(CallsPlanned(count=len(batches)))

        async def read(batch: list[int]) -> FetchResult:
            found, warnings = await self._fetch_batch(batch, semaphore)
            missing = tuple(i for i in batch if i not in found)
            return FetchResult(found=found, missing=missing, warnings=tuple(warnings))

        pending = {asyncio.ensure_future(read(batch)) for batch in batches}
        done: set[asyncio.Task[FetchResult]] = set()
        try:
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                while done:
                    # Nothing here keeps a batch once it is handed over (a finished task
                    # holds its result: kept in a list, every answer would stay alive).
                    yield done.pop().result()
        finally:
            for task in pending:
                task.cancel()
            # Finished but not handed over (the caller stopped, or another batch failed):
            # their errors are this one's, not the event loop's to report later.
            await asyncio.gather(*pending, *done, return_exceptions=True)

    async def _fetch_batch(self, batch: list[int], semaphore: asyncio.Semaphore) -> _Found:
        async with semaphore:
            # The size is checked once a slot is ours: a limit learned while this batch
            # waited applies to it (checked before waiting, every queued batch was refused).
            size = self.effective_batch_size
            if len(batch) > size:
                parts = _chunks(batch, size)
            else:
                call = Call("GET", SERIES_PATH, params={"ids": [str(i) for i in batch]})
                try:
                    body = await self._session.call(call)
                except HttpStatusError as exc:
                    refusal = exc
                else:
                    try:
                        return read_entities(body, batch)
                    except Unexpected as error:
                        self._session.fail_bad_answer(call, str(error))
                parts = self._parts_after_refusal(batch, refusal)
                if not parts:
                    return {}, [f"series {batch[0]}: {refusal.api_message or refusal}"]
        # Outside the semaphore: the parts take their own slots.
        return await self._fetch_parts(parts, semaphore)

    async def _fetch_parts(self, parts: list[list[int]], semaphore: asyncio.Semaphore) -> _Found:
        results = await _gather_or_cancel([self._fetch_batch(p, semaphore) for p in parts])
        found = {k: v for part, _ in results for k, v in part.items()}
        return found, [w for _, part_warnings in results for w in part_warnings]

    def _parts_after_refusal(self, batch: list[int], refusal: HttpStatusError) -> list[list[int]]:
        """How to ask again for a refused batch: its parts, or [] when a single unknown id
        was refused (reported missing); re-raises a refusal that splitting cannot help."""
        if UNKNOWN_SERIES_CODES.intersection(refusal.codes):
            if len(batch) == 1:
                return []
            half = len(batch) // 2
            return [batch[:half], batch[half:]]
        if len(batch) > 1 and batch_refused_for_size(
            status=refusal.status, codes=refusal.codes, message=refusal.api_message
        ):
            return _chunks(batch, self._learn_batch_limit(len(batch), refusal))
        raise refusal

    def _learn_batch_limit(self, refused: int, refusal: HttpStatusError) -> int:
        """The size to ask for after ``refused`` ids were too many; remembered."""
        stated = stated_limit(refusal.api_message)
        size = stated if stated is not None and 1 <= stated < refused else max(1, refused // 2)
        if size < self.effective_batch_size:
            self._batch_limit = size
            self._emit(
                BatchSizeLearned(
                    batch_size=size,
                    refused_size=refused,
                    reason=refusal.api_message or str(refusal.status),
                )
            )
        return min(size, self.effective_batch_size)

    async def list_series(self) -> Listing:
        """Every series of the org (v1.1 list), as the fields identity reads.

        Two calls, ``expired=false`` then ``expired=true``, merged by id: what the list gives
        without the parameter is not documented, so the tool never depends on it (active
        first: a series that expires between the calls is in both answers, never in
        neither). Each call's read timeout is ``LIST_TIMEOUT_FACTOR`` times
        ``timeout_seconds``. Anything less than two complete, successful answers raises
        ``IncompleteListing`` (``BadResponse`` for an answer that is not the documented
        shape): a list that tells which series exist must not drop one.
        """
        # Announced like a read's batches, so that "N/M calls" counts the list's two calls.
        self._emit(CallsPlanned(count=2))
        active = await self._list_part(expired=False)
        gone = await self._list_part(expired=True)
        return merge(active, gone)

    async def _list_part(self, *, expired: bool) -> tuple[ListedSeries, ...]:
        call = Call(
            "GET",
            LIST_PATH,
            params={"format": "json", "expired": "true" if expired else "false"},
            read_timeout=self._timeout * LIST_TIMEOUT_FACTOR,
            decode=decode_list,
        )
        body = await self._session.call(call)
        today = datetime.fromtimestamp(self._wall_clock(), UTC).date()
        try:
            return read_list(body, expired=expired, today=today)
        except ListFailed as error:
            raise IncompleteListing(
                self._session.redact(
                    f"{call.method} {call.shown}: {error}; the org's series cannot be told "
                    "from it, so nothing is planned from it (no create can follow from a "
                    "failed or partial list). Try again; if it persists, the server does not "
                    "answer as documented"
                ),
                method=call.method,
                url=self._session.url(call.path),
            ) from None
        except Unexpected as error:
            self._session.fail_bad_answer(call, str(error))

    # ------------------------------------------------------------------ writes

    async def create_series(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """POST a new series; the answer is the series the server made.

        Retried only after an answer that proves the server did not act (429); a failure
        that leaves it unknown raises ``AmbiguousCreate``: the series may exist, look before
        creating again. Any other error means no series was made.
        """
        call = Call(
            "POST", SERIES_PATH, json_body={"CouponSeriesV2": request_body(fields)}, create=True
        )
        status, body = await self._session.send(call)
        return self._series_answer(call, body, status=status)

    async def update_series(
        self, series_id: int, fields: Mapping[str, Any], *, org_id: int | None
    ) -> dict[str, Any]:
        """PUT the series ``series_id`` (a full replacement); the answer is the stored series.

        ``org_id`` is the live series' ``orgId``, sent in the body: the Update page's error
        table asks for it ("Verify that ... orgId is provided") and both its examples send
        it. A live series that did not carry one (``None``) is not updated: ``BadResponse``
        before anything is sent, as no documented PUT goes without it.
        """
        if not is_id(series_id):
            raise TypeError(f"series ids are integers, not {series_id!r}")
        call = Call(
            "PUT",
            f"{SERIES_PATH}/{series_id}",
            params={"format": "json"},
            json_body={"CouponSeriesV2": {**request_body(fields), "orgId": org_id}},
        )
        if not is_id(org_id):
            self._session.fail_bad_answer(
                call,
                f"series {series_id} was read without an integer orgId ({trim(org_id)}): "
                "the PUT needs the live series' orgId, and is not sent",
            )
        status, body = await self._session.send(call)
        return self._series_answer(call, body, status=status)

    def _series_answer(self, call: Call, body: Any, *, status: int) -> dict[str, Any]:
        if not isinstance(body, dict) or not is_id(body.get("id")):
            codes, api_message = api_errors(body)
            self._session.fail_bad_answer(
                call,
                f"the answer is not a series: {trim(body)}",
                status=status,
                codes=codes,
                api_message=api_message,
            )
        return body

    def _emit(self, event: ClientEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ConfigError(f"{name} must be at least 1, not {value}")


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _unique_ids(ids: Sequence[int]) -> list[int]:
    """The ids in their first order, each once (a dict: linear, however many)."""
    for series_id in ids:
        if not is_id(series_id):
            raise TypeError(f"series ids are integers, not {series_id!r}")
    return list(dict.fromkeys(ids))


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


__all__ = ["LIST_PATH", "LIST_TIMEOUT_FACTOR", "SERIES_PATH", "CouponClient"]
