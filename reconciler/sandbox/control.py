"""``Sandbox``: the control object of one sandbox app (``app.state.sandbox``).

It holds the store, the switches (``Faults``) and the gate (``auth``), serves the series
calls the routes hand it, and lets a test change data behind the API's back, script failures
and wait for delayed creates. It has no HTTP route of its own.
"""

from __future__ import annotations

import concurrent.futures
import copy
import dataclasses
import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from importlib import resources
from typing import Any, TypeVar

from starlette.requests import Request

from reconciler.sandbox import listing, rules
from reconciler.sandbox import values as V
from reconciler.sandbox.accounts import Accepted
from reconciler.sandbox.auth import Gate
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.rules import ApiFailure
from reconciler.sandbox.store import SeriesStore

SEED_FILE = "seeds/docs_examples.json"

T = TypeVar("T")


class Sandbox:
    """The control object of one sandbox app (``app.state.sandbox``)."""

    def __init__(
        self, *, store: SeriesStore, credentials: Accepted, faults: Faults, seed: bool
    ) -> None:
        self.store = store
        self.faults = faults
        self.seed = seed
        self.gate = Gate(credentials, ttl_seconds=lambda: self.faults.token_ttl_seconds)
        self._initial_faults = copy.deepcopy(faults)
        self._lock = threading.Lock()
        self._rng = random.Random(faults.random_seed)
        self._seeded_with = faults.random_seed
        self._calls: deque[float] = deque()
        self._acting = 0  # delayed acts (post_act_delay_seconds) not finished yet
        self._idle = threading.Condition(self._lock)
        if seed and store.count() == 0:
            self._load_seeds()

    @property
    def credentials(self) -> Accepted:
        return self.gate.credentials

    # --- switches ------------------------------------------------------------------------------

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

    # --- data behind the API's back ------------------------------------------------------------

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
                for doc in seed_documents():
                    store.put(doc)

        self.store.atomically(work)
        with self._lock:
            self.faults = copy.deepcopy(self._initial_faults)
            self._calls.clear()
        self.gate.forget_tokens()

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

    # --- used by the app -----------------------------------------------------------------------

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
        return self.gate.issue_token(key=key, secret=secret)

    def authenticate(self, request: Request) -> None:
        self.gate.authenticate(request)

    def _load_seeds(self) -> None:
        def work(store: SeriesStore) -> None:
            if store.count() == 0:
                for doc in seed_documents():
                    store.put(doc)

        self.store.atomically(work)

    # --- the series calls ----------------------------------------------------------------------

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

    def list_v1(self, *, expired: str) -> dict[str, Any]:
        """The v1.1 list answer for the ``expired`` parameter ("" when not given)."""
        faults = self.faults
        if faults.list_fails:
            return listing.answer((), failed=True)
        if not expired:
            expired = "false" if faults.list_default == "active" else ""
        # the server's own day: its zone is the one it writes ``created`` in
        today = (V.now() + timedelta(minutes=faults.list_time_offset_minutes)).date()
        hidden, failed = set(faults.list_hidden_ids), set(faults.list_failed_ids)
        items = []
        for doc in self.store.all():
            sid = doc.get("id")
            gone = listing.expired(doc, today=today)
            if sid in hidden or (expired == "true" and not gone) or (expired == "false" and gone):
                continue
            items.append(
                listing.item(
                    doc, offset_minutes=faults.list_time_offset_minutes, failed=sid in failed
                )
            )
        return listing.answer(items)

    def create(self, sent: Mapping[str, Any]) -> dict[str, Any]:
        def work(store: SeriesStore) -> dict[str, Any]:
            doc = rules.build_created(
                sent,
                new_id=store.next_id(),
                now=V.now(),
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
        now = V.now()

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
                now=V.now(),
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
        doc = rules.apply_edit(current, changes, now=V.now())
        s.put(doc)
        return doc

    return store.atomically(work)


def seed_documents() -> list[dict[str, Any]]:
    """The Get page's two series, exactly as answered, key order included (package data)."""
    text = resources.files("reconciler.sandbox").joinpath(SEED_FILE).read_text("utf-8")
    docs = json.loads(text)
    if not isinstance(docs, list):
        raise ValueError(f"{SEED_FILE} must hold a JSON array of series")
    return [d for d in docs if isinstance(d, dict)]


__all__ = ["SEED_FILE", "Sandbox", "edit_stored_series", "seed_documents"]
