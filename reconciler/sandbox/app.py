"""The sandbox: a local stand-in for the coupon series endpoints of the Capillary API.

``create_app`` builds a Starlette application that behaves like the real server as the
docs' request/response pairs show it (``rules``), keeps its series in SQLite (``store``),
and fails on demand (``faults``). ``app.state.sandbox`` is the ``Sandbox`` control object:
switches, edits behind the API's back, counts, reset. It has no HTTP route of its own.

Depends only on the catalogue, ``canonical`` and ``credentials``: never on the client, the
planner or the applier, so that it behaves like the server and not like our client.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import copy
import dataclasses
import hashlib
import hmac
import json
import math
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from reconciler.sandbox import rules
from reconciler.sandbox.accounts import Accepted, Accounts
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.rules import ApiFailure, error_body
from reconciler.sandbox.store import SeriesStore

SEED_FILE = "seeds/docs_examples.json"

T = TypeVar("T")


class ConnectionDropped(Exception):
    """Raised, in process, where a real server would drop the connection without an answer.

    ``inprocess_transport`` turns it into ``httpx.RemoteProtocolError``.
    """


class Sandbox:
    """The control object of one sandbox app (``app.state.sandbox``)."""

    def __init__(
        self, *, store: SeriesStore, credentials: Accepted, faults: Faults, seed: bool
    ) -> None:
        self.store = store
        self.credentials = credentials
        self.faults = faults
        self.seed = seed
        self._initial_faults = copy.deepcopy(faults)
        self._lock = threading.Lock()
        self._rng = random.Random(faults.random_seed)
        self._seeded_with = faults.random_seed
        self._tokens: dict[str, float] = {}
        self._calls: deque[float] = deque()
        self._acting = 0  # delayed acts (post_act_delay_seconds) not finished yet
        self._idle = threading.Condition(self._lock)
        if seed and store.count() == 0:
            self._load_seeds()

    # --- switches ----------------------------------------------------------------------------

    def configure(self, **changes: Any) -> Faults:
        """Change some switches at once (``configure(latency_seconds=0.1)``); validated.

        Naming ``random_seed`` restarts the failure draws from that seed.
        """
        updated = dataclasses.replace(self.faults, **changes)
        with self._lock:
            self.faults = updated
            if "random_seed" in changes:
                self._rng.seed(updated.random_seed)
                self._seeded_with = updated.random_seed
        return updated

    def fail_next_call(self, mode: str, *, method: str | None = None) -> None:
        """Script one failure: the next call (of ``method`` only, when given) fails ``mode``."""
        with self._lock:
            if method is None:
                self.faults.fail_next.append(mode)
            else:
                self.faults.fail_next_for.setdefault(method.upper(), []).append(mode)
            self.faults.validate()

    # --- data behind the API's back ----------------------------------------------------------

    def edit_series(self, series_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change a stored series as the CRM's own screens would; the stored series after.

        ``KeyError`` when there is no such series.
        """
        return edit_stored_series(self.store, series_id=series_id, changes=changes)

    def set_issued(self, series_id: int, n: int) -> dict[str, Any]:
        """Record ``n`` coupons issued from the series (``numIssued``)."""
        if n < 0:
            raise ValueError("coupons issued cannot be negative")

        def work(store: SeriesStore) -> dict[str, Any]:
            current = store.get(series_id)
            if current is None:
                raise KeyError(series_id)
            current["numIssued"] = n
            store.put(current)
            return current

        return self.store.atomically(work)

    def get_series(self, series_id: int) -> dict[str, Any] | None:
        return self.store.get(series_id)

    def all_series(self) -> list[dict[str, Any]]:
        return self.store.all()

    def count_series(self) -> int:
        return self.store.count()

    def reset(self) -> None:
        """Back to the state of a new app: seeded data only, no tokens, initial switches."""

        def work(store: SeriesStore) -> None:
            store.clear()
            if self.seed:
                for doc in _seed_documents():
                    store.put(doc)

        self.store.atomically(work)
        with self._lock:
            self.faults = copy.deepcopy(self._initial_faults)
            self._tokens.clear()
            self._calls.clear()

    def close(self) -> None:
        self.store.close()

    @property
    def acts_pending(self) -> int:
        """Delayed creates (``post_act_delay_seconds``) received and not yet acted on."""
        with self._lock:
            return self._acting

    def settle(self, *, timeout: float = 30.0) -> bool:
        """Wait until every delayed create has been acted on; False on ``timeout``."""
        with self._idle:
            return self._idle.wait_for(lambda: self._acting == 0, timeout=timeout)

    def act_later(self, work: Callable[[], T], *, delay: float) -> concurrent.futures.Future[T]:
        """Run ``work`` in a thread of its own ``delay`` seconds from now; its future.

        The act does not depend on the request that asked for it: a client that gives up,
        disconnects or is killed, a cancelled request task, all leave it to happen, as a
        real backend finishes what it received. The future cannot be cancelled.
        """
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        future.set_running_or_notify_cancel()

        def run() -> None:
            try:
                time.sleep(delay)
                future.set_result(work())
            except BaseException as error:  # handed to whoever still waits for the answer
                future.set_exception(error)
            finally:
                with self._idle:
                    self._acting -= 1
                    self._idle.notify_all()

        with self._lock:
            self._acting += 1
        threading.Thread(target=run, name="sandbox-delayed-act", daemon=True).start()
        return future

    # --- used by the app ---------------------------------------------------------------------

    def take_rate_slot(self) -> int | None:
        """``None`` when the call may be served, else the seconds to wait (Retry-After)."""
        limit = self.faults.rate_limit_per_minute
        now = time.monotonic()
        with self._lock:
            while self._calls and now - self._calls[0] >= 60.0:
                self._calls.popleft()
            if limit is not None and len(self._calls) >= limit:
                return max(1, math.ceil(60.0 - (now - self._calls[0])))
            self._calls.append(now)
            return None

    def draw_failure(self, method: str) -> str | None:
        """The failure this call suffers, if any: scripted first, then drawn."""
        with self._lock:
            faults = self.faults
            scripted = faults.fail_next_for.get(method.upper())
            if scripted:
                return scripted.pop(0)
            if faults.fail_next:
                return faults.fail_next.pop(0)
            if faults.random_seed != self._seeded_with:
                self._rng.seed(faults.random_seed)
                self._seeded_with = faults.random_seed
            if faults.failure_rate > 0 and self._rng.random() < faults.failure_rate:
                return self._rng.choice(list(faults.failure_modes))
        return None

    def issue_token(self, *, key: Any, secret: Any) -> tuple[str, int]:
        creds = self.credentials
        if not (
            creds.has_oauth
            and isinstance(key, str)
            and isinstance(secret, str)
            and _same(key, creds.oauth_key or "")
            and _same(secret, creds.oauth_secret or "")
        ):
            raise ApiFailure.one(401, 401, "Invalid key or secret")
        token = secrets.token_urlsafe(32)
        ttl = self.faults.token_ttl_seconds
        with self._lock:
            self._tokens[token] = time.monotonic() + ttl
        return token, int(ttl)

    def authenticate(self, request: Request) -> None:
        """Accept a valid OAuth token or Basic user:md5(password); else a 401."""
        token = request.headers.get("x-cap-api-oauth-token")
        if token:
            with self._lock:
                expires = self._tokens.get(token)
                if expires is not None and time.monotonic() >= expires:
                    del self._tokens[token]
                    expires = None
            if expires is None:
                raise ApiFailure.one(401, 401, "Invalid or expired token")
            return
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() == "basic" and self._basic_ok(encoded.strip()):
            return
        raise ApiFailure.one(401, 401, "Authentication failed")

    def _basic_ok(self, encoded: str) -> bool:
        creds = self.credentials
        if not creds.has_basic:
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, sep, digest = decoded.partition(":")
        expected = hashlib.md5((creds.password or "").encode()).hexdigest()
        return bool(sep) and _same(user, creds.username or "") and _same(digest.lower(), expected)

    def _load_seeds(self) -> None:
        def work(store: SeriesStore) -> None:
            if store.count() == 0:
                for doc in _seed_documents():
                    store.put(doc)

        self.store.atomically(work)

    # --- the series calls --------------------------------------------------------------------

    def read(self, ids: list[int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        found: list[dict[str, Any]] = []
        warnings: list[dict[str, Any]] = []
        for series_id in ids:
            doc = self.store.get(series_id)
            if doc is None:
                warnings.append(
                    {
                        "status": False,
                        "code": rules.CODE_INVALID_SERIES_ID,
                        "message": f"Coupon Series ID = {series_id} is invalid",
                    }
                )
            else:
                found.append(rules.answer(doc, warnings=False))
        return found, warnings

    def create(self, sent: Mapping[str, Any]) -> dict[str, Any]:
        def work(store: SeriesStore) -> dict[str, Any]:
            doc = rules.build_created(
                sent,
                new_id=store.next_id(),
                now=rules.now_utc(),
                series_code=rules.new_series_code(
                    taken=lambda c: store.id_with_series_code(c) is not None
                ),
                exists=lambda i: store.get(i) is not None,
            )
            store.put(doc)
            return doc

        return rules.answer(self.store.atomically(work), warnings=True)

    def preload(self, series: Sequence[Mapping[str, Any]]) -> list[int]:
        """Store many series at once, each as a create would make it; their ids, in order.

        One transaction and no HTTP, for large test and benchmark corpora. Like
        ``edit_series`` it is not part of the API surface, and it skips the checks that look
        at other series (mutually exclusive ids, seriesCode clashes).
        """
        now = rules.now_utc()

        def work(store: SeriesStore) -> list[int]:
            first = store.next_id()
            ids = []
            for n, sent in enumerate(series):
                doc = rules.build_created(
                    sent,
                    new_id=first + n,
                    now=now,
                    series_code=f"PRE{first + n}",
                    exists=lambda _id: False,
                )
                store.put(doc)
                ids.append(int(doc["id"]))
            return ids

        return self.store.atomically(work)

    def update(self, series_id: int, sent: Mapping[str, Any]) -> dict[str, Any]:
        def work(store: SeriesStore) -> dict[str, Any]:
            current = store.get(series_id)
            if current is None:
                raise ApiFailure.one(
                    404,
                    rules.CODE_INVALID_SERIES_ID,
                    f"Coupon Series ID = {series_id} is invalid",
                )
            doc = rules.build_updated(
                sent,
                current=current,
                now=rules.now_utc(),
                exists=lambda i: store.get(i) is not None,
                series_code_owner=store.id_with_series_code,
            )
            store.put(doc)
            return doc

        return rules.answer(self.store.atomically(work), warnings=True)


def edit_stored_series(
    store: SeriesStore, *, series_id: int, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Apply ``changes`` to a stored series behind the API's back (``rules.apply_edit``)."""

    def work(s: SeriesStore) -> dict[str, Any]:
        current = s.get(series_id)
        if current is None:
            raise KeyError(series_id)
        doc = rules.apply_edit(current, changes, now=rules.now_utc())
        s.put(doc)
        return doc

    return store.atomically(work)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _seed_documents() -> list[dict[str, Any]]:
    text = resources.files("reconciler.sandbox").joinpath(SEED_FILE).read_text("utf-8")
    docs = json.loads(text)
    if not isinstance(docs, list):
        raise ValueError(f"{SEED_FILE} must hold a JSON array of series")
    return [rules.ordered(d) for d in docs if isinstance(d, dict)]


# --- HTTP --------------------------------------------------------------------------------------


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


async def _json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiFailure.one(415, 415, "Content-Type must be application/json")
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiFailure.one(400, 400, f"Malformed JSON body: {error}") from None


def _ids(request: Request, *, max_batch: int | None) -> list[int]:
    ids: list[int] = []
    for raw in request.query_params.getlist("ids"):
        for part in raw.split(","):
            text = part.strip()
            if not text:
                continue
            try:
                ids.append(int(text))
            except ValueError:
                raise ApiFailure.one(
                    400, rules.CODE_BAD_SERIES_ID, f"Invalid series id: {text}"
                ) from None
    if not ids:
        raise ApiFailure.one(400, rules.CODE_BAD_SERIES_ID, "ids is required")
    unique = list(dict.fromkeys(ids))
    if max_batch is not None and len(unique) > max_batch:
        raise ApiFailure.one(
            400, 400, f"At most {max_batch} ids per call; {len(unique)} were asked for"
        )
    return unique


async def read_series(request: Request) -> Response:
    sandbox = _sandbox(request)
    sandbox.authenticate(request)
    ids = _ids(request, max_batch=sandbox.faults.max_batch_size)
    found, warnings = sandbox.read(ids)
    return JSONResponse({"entity": found, "warnings": warnings})


async def create_series(request: Request) -> Response:
    sandbox = _sandbox(request)
    sandbox.authenticate(request)
    sent = rules.unwrap(await _json_body(request))
    rules.check_date_forms(sent, strict=sandbox.faults.strict_dates)
    delay = sandbox.faults.post_act_delay_seconds
    if delay <= 0:
        return JSONResponse(sandbox.create(sent))
    # Received now, acted on later, in a thread the connection cannot cancel; the answer
    # goes out after the act, to whoever is still listening.
    acted = sandbox.act_later(lambda: sandbox.create(sent), delay=delay)
    return JSONResponse(await asyncio.wrap_future(acted))


async def update_series(request: Request) -> Response:
    sandbox = _sandbox(request)
    sandbox.authenticate(request)
    raw_id = request.path_params["series_id"]
    series_id = int(raw_id) if raw_id.isdigit() else 0
    if series_id <= 0:
        raise ApiFailure.one(400, rules.CODE_BAD_SERIES_ID, f"Invalid series id: {raw_id}")
    sent = rules.unwrap(await _json_body(request))
    rules.check_date_forms(sent, strict=sandbox.faults.strict_dates)
    return JSONResponse(sandbox.update(series_id, sent))


async def list_series_v1(request: Request) -> Response:
    sandbox = _sandbox(request)
    sandbox.authenticate(request)
    expired = request.query_params.get("expired", "").lower()
    today = rules.now_utc()
    items: list[dict[str, Any]] = []
    for doc in sandbox.all_series():
        till = doc.get("validTillDate")
        fixed = rules.epoch_ms(till) if isinstance(till, str) else None
        is_expired = fixed is not None and fixed < today.timestamp() * 1000
        if (expired == "true" and not is_expired) or (expired == "false" and is_expired):
            continue
        items.append({rules.snake_case(k): v for k, v in doc.items()})
    return JSONResponse(
        {
            "response": {
                "status": {"success": True, "code": 200, "message": "SUCCESS"},
                "series": {"items": {"item": items}},
            }
        }
    )


async def generate_token(request: Request) -> Response:
    sandbox = _sandbox(request)
    try:
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise ApiFailure.one(400, 400, 'The body must be {"key": ..., "secret": ...}')
        token, ttl = sandbox.issue_token(key=body.get("key"), secret=body.get("secret"))
    except ApiFailure as failure:
        errors = [{"status": False, "code": c, "message": m} for c, m in failure.errors]
        return JSONResponse({"data": None, "errors": errors}, status_code=failure.status)
    return JSONResponse({"data": {"accessToken": token, "ttlSeconds": ttl}, "errors": None})


async def _on_failure(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiFailure)
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        error_body(((exc.status_code, str(exc.detail)),)),
        status_code=exc.status_code,
        headers=exc.headers,
    )


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
        elif mode == "reset":
            await _drop_connection(send)
        elif mode == "timeout_before":
            await anyio.sleep(faults.hang_seconds)
            await _unavailable(scope, receive, send)
        elif mode == "503_after":  # act, drop the real answer, say 503 (a proxy timing out)

            async def discard(message: Message) -> None:
                return None

            await super().__call__(scope, receive, discard)
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
    app = SandboxApp(
        routes=[
            Route("/v2/coupon/series", read_series, methods=["GET"]),
            Route("/v2/coupon/series", create_series, methods=["POST"]),
            Route("/v2/coupon/series/{series_id}", update_series, methods=["PUT"]),
            Route("/v1.1/coupon/series", list_series_v1, methods=["GET"]),
            Route("/v3/oauth/token/generate", generate_token, methods=["POST"]),
        ],
        exception_handlers={ApiFailure: _on_failure, HTTPException: _on_http_exception},
    )
    app.state.sandbox = sandbox
    return app


__all__ = ["ConnectionDropped", "Sandbox", "SandboxApp", "create_app", "edit_stored_series"]
