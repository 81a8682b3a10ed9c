"""Apply a Plan: POST the creates, PUT the updates, keep the state true, verify.

The rules (docs/design.md, decisions 1, 4, 9, 11, 12):

- Right before the creates, the org is listed again: a key whose series exists (its marker,
  or the one an unfinished create made) is not created again; a look-alike is refused.
- Before a POST the intent is journaled; after it, the id, at once. A POST is never retried
  once it may have reached the server; a lost or unclear answer leaves it *ambiguous*.
- An unfinished create that the CRM does not show yet is sent again only after
  ``create_settle_seconds`` from its first attempt (the server may still be acting on it).
- Just before its PUT each series is read again; if it changed since the plan, it is skipped
  (check-and-set). The updates go in small batches (up to ``RECHECK_BATCH``, fewer when
  there are too few updates to fill every slot): one GET re-reads a batch, then its PUTs
  follow one after another, so an update costs about 1 + 1/8 calls and the window between a
  series' re-read and its PUT is at most the batch's earlier PUTs. The
  PUT body is the live series' writable fields with the planned changes applied: PUT
  replaces the whole series, so nothing undeclared is reset.
- Every answer is compared with what was sent; a field the server did not take is reported.
- Independent series go on when one fails; a stop request lets running calls finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from reconciler import __version__
from reconciler.engine.diff import FieldChange, diff_fields, live_digest
from reconciler.engine.identity import Absent, Known, Lookalike, OrgIndex, Verdict, identify
from reconciler.engine.plan import Action, Plan, Rails, SeriesPlan, safety_violations
from reconciler.engine.planner import build_plan
from reconciler.engine.result import ApplyResult, Outcome, SeriesOutcome
from reconciler.engine.state import Intent, IntentStatus, StateStore
from reconciler.errors import (
    AmbiguousCreate,
    ApiError,
    ReconcilerError,
    SafetyRailTripped,
    StalePlan,
    StateError,
)
from reconciler.files.loader import LoadResult
from reconciler.model.canonical import now_utc, parse_datetime, timestamp
from reconciler.model.catalogue import BY_NAME, FIELDS
from reconciler.model.ports import SeriesApi
from reconciler.model.references import dependencies, fill

# How often an apply waiting for an earlier create to settle looks at the CRM again.
SETTLE_POLL_SECONDS = 5.0

# Updates re-read by one GET right before their PUTs (check-and-set). Larger saves calls
# (1 + 1/N per update) but widens the window between a series' re-read and its PUT, which
# is at most N - 1 PUTs of the same batch (docs/performance.md has the measured window).
RECHECK_BATCH = 8


def _command(words: str) -> str:
    return f"reconciler {words}"


@dataclass(frozen=True)
class Progress:
    """Sent to the ``on_progress`` callback: a series started (``outcome`` None) or ended."""

    key: str
    action: Action
    done: int
    total: int
    outcome: SeriesOutcome | None = None


def check_fresh(*, plan: Plan, loaded: LoadResult, environment: str) -> list[str]:
    """Why a saved plan no longer fits the tool, the environment or the files (pure)."""
    reasons: list[str] = []
    if plan.tool_version != __version__:
        reasons.append(f"made by reconciler {plan.tool_version}, this is {__version__}")
    if plan.environment != environment:
        reasons.append(f"made for environment {plan.environment!r}, not {environment!r}")
    if plan.desired_digest != loaded.digest:
        reasons.append("the series files or the settings changed since the plan was made")
    return reasons


async def check_live_fresh(*, plan: Plan, client: SeriesApi) -> list[str]:
    """Series that changed in the CRM since the plan read them."""
    expected = {s.series_id: s for s in plan.series if s.series_id is not None and s.live_digest}
    if not expected:
        return []
    result = await client.get_series(sorted(i for i in expected if i is not None))
    reasons = []
    for series_id, planned in sorted(expected.items(), key=lambda kv: kv[1].key):
        live = result.found.get(series_id)
        if live is None:
            reasons.append(f"{planned.key} (id {series_id}) is no longer returned by the API")
        elif live_digest(live) != planned.live_digest:
            reasons.append(f"{planned.key} (id {series_id}) changed in the CRM since the plan")
    return reasons


def put_body(*, live: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The live series' writable fields with ``changes`` applied (PUT replaces everything)."""
    body = {
        f.name: live[f.name]
        for f in FIELDS
        if f.writable and f.name in live and live[f.name] is not None
    }
    body.update(changes)
    return body


def mismatches(
    *, sent: Mapping[str, Any], answer: Mapping[str, Any], fields: Sequence[str]
) -> tuple[FieldChange, ...]:
    """Fields whose answered value is not what was sent (before: sent, after: answered)."""
    names = [n for n in fields if n in sent and not BY_NAME[n].set_on_update_only]
    return diff_fields(desired=answer, live=sent, fields=names)


class Applier:
    """Runs one plan against one environment. Create one per apply."""

    def __init__(
        self,
        *,
        plan: Plan,
        loaded: LoadResult,
        store: StateStore,
        client: SeriesApi,
        parallelism: int = 4,
        on_progress: Callable[[Progress], None] | None = None,
        stop: asyncio.Event | None = None,
        now: Callable[[], datetime] = now_utc,
        settle_seconds: float = 600.0,
        sleep: Callable[[float], Any] = asyncio.sleep,
        on_message: Callable[[str], None] | None = None,
        command: Callable[[str], str] = _command,
    ) -> None:
        self.plan = plan
        # The series of the plan's environment (its values, its only:).
        self.loaded = loaded.for_environment(plan.environment)
        self.store = store
        self.client = client
        self.parallelism = max(1, parallelism)
        self.on_progress = on_progress or (lambda _event: None)
        self.stop = stop or asyncio.Event()
        self.now = now
        self.settle = timedelta(seconds=max(0.0, settle_seconds))
        self._sleep = sleep
        self.on_message = on_message or (lambda _text: None)
        self.command = command
        self.notes: list[str] = []
        self._done = 0
        self._verdicts: dict[str, Verdict] = {}
        self._unsettled: dict[str, str] = {}

    # --- the whole run -------------------------------------------------------------------

    async def run(self, *, rails: Rails, force: bool) -> ApplyResult:
        violations = safety_violations(self.plan, rails=rails, now=self.now())
        if violations and not force:
            raise SafetyRailTripped(violations)
        self._learn_ids()
        work = [s for s in self.plan.series if s.action is not Action.UNCHANGED]
        creates = [s for s in work if s.action is Action.CREATE]
        if creates:
            await self._identify_creates(creates)
        outcomes: list[SeriesOutcome] = []
        for move in self.plan.moves:
            outcomes.append(
                SeriesOutcome(
                    key=move.to_key,
                    action=Action.CREATE,
                    outcome=Outcome.SKIPPED,
                    series_id=move.series_id,
                    message=(
                        f"likely a rename of {move.from_key!r} (id {move.series_id}): record it "
                        "with `"
                        + (move.command or self.command(f"state mv {move.from_key} {move.to_key}"))
                        + "`"
                    ),
                )
            )
        semaphore = asyncio.Semaphore(self.parallelism)
        total = len(work)
        order = CreateOrder.of(work)

        async def one(item: SeriesPlan) -> list[SeriesOutcome]:
            try:
                # A series naming one this apply creates waits for it (outside the
                # semaphore, so that the create it waits for can run).
                await order.ready(item.key)
                async with semaphore:
                    if self.stop.is_set():
                        return [_not_started(item)]
                    return [await self._tracked(item, total, self._apply_one(item))]
            finally:
                order.done(item.key)

        async def batch(items: list[SeriesPlan]) -> list[SeriesOutcome]:
            try:
                for item in items:  # updates naming a series this apply creates wait for it
                    await order.ready(item.key)
                # One slot for the batch: its re-read, then its PUTs one after another.
                async with semaphore:
                    if self.stop.is_set():
                        return [_not_started(item) for item in items]
                    filled = [self._filled(item) for item in items]
                    stuck = [f for f in filled if isinstance(f, SeriesOutcome)]
                    ready = [f for f in filled if isinstance(f, SeriesPlan)]
                    return stuck + await self._update_batch(ready, total)
            finally:
                for item in items:
                    order.done(item.key)

        updates = [s for s in work if s.action is Action.UPDATE]
        # A few updates spread over every slot (each one re-read alone); many fill batches.
        size = max(1, min(RECHECK_BATCH, -(-len(updates) // self.parallelism)))
        jobs = [one(item) for item in work if item.action is not Action.UPDATE]
        jobs += [batch(updates[i : i + size]) for i in range(0, len(updates), size)]
        for done in await asyncio.gather(*jobs):
            outcomes.extend(done)
        try:
            self._record_fields(outcomes)
        except StateError as error:
            # Field ownership is a cache: without it nothing is reset, nothing is lost.
            self.notes.append(f"the fields each file declares were not recorded: {error}")
        interrupted = self.stop.is_set()
        after = None
        check_error = ""
        if not interrupted:
            try:
                after = await build_plan(
                    loaded=self.loaded,
                    state=self.store.state,
                    client=self.client,
                    targets=self.plan.targets,
                    now=self.now(),
                    command=self.command,
                )
            except ReconcilerError as error:
                # What was written stands: the result (ids made included) is still shown.
                check_error = str(error)
        return ApplyResult(
            environment=self.plan.environment,
            outcomes=tuple(sorted(outcomes, key=lambda o: o.key)),
            after=after,
            interrupted=interrupted,
            forced=tuple(violations),
            notes=tuple(self.notes),
            check_error=check_error,
        )

    def _filled(self, item: SeriesPlan) -> SeriesPlan | SeriesOutcome:
        """``item`` with the ids of the series it names by key that this apply created (known
        now, or never: then it is not sent, since the API refuses an unknown id)."""
        desired, missing = fill(item.desired, self.store.state.ids)
        if missing:
            return SeriesOutcome(
                item.key,
                item.action,
                Outcome.SKIPPED,
                item.series_id,
                message=(
                    f"not sent: it names {', '.join(missing)}, whose series was not created "
                    "(the API refuses an unknown id); apply again once it exists"
                ),
            )
        return replace(item, desired=desired)

    async def _tracked(
        self, item: SeriesPlan, total: int, work: Awaitable[SeriesOutcome]
    ) -> SeriesOutcome:
        """Run one series' ``work``, telling ``on_progress`` when it starts and ends."""
        self.on_progress(Progress(item.key, item.action, self._done, total))
        outcome = await work
        self._done += 1
        self.on_progress(Progress(item.key, item.action, self._done, total, outcome))
        return outcome

    async def _apply_one(self, item: SeriesPlan) -> SeriesOutcome:
        """A create (updates go in batches: ``_update_batch``)."""
        filled = self._filled(item)
        if isinstance(filled, SeriesOutcome):
            return filled
        item = filled
        try:
            return await self._create(item)
        except ApiError as error:
            return _failed(item, error)
        except StateError as error:
            # The state could not be written (a full disk): this series stops here, the
            # others go on, and the summary says what was done. An intent already written
            # lets the next apply find a series whose id could not be recorded.
            return SeriesOutcome(item.key, item.action, Outcome.FAILED, message=str(error))

    # --- creates -------------------------------------------------------------------------

    def _learn_ids(self) -> None:
        """Record the ids the plan found in the CRM (by marker or intent) that the state lacks."""
        for item in self.plan.series:
            if item.series_id is not None and self.store.state.ids.get(item.key) is None:
                self.store.record_id(item.key, item.series_id)

    def _record_fields(self, outcomes: Sequence[SeriesOutcome]) -> None:
        """Remember which fields each converged key's file declared (field ownership)."""
        done = {o.key for o in outcomes if o.outcome is Outcome.DONE}
        done |= {s.key for s in self.plan.series if s.action is Action.UNCHANGED}
        for series in self.loaded.series:
            if series.key in done and series.key in self.store.state.ids:
                self.store.record_fields(series.key, tuple(series.declared))
                # Converged with the marker in its desired fields: the series carries it.
                self.store.record_marked(series.key)

    # --- identity before creates ---------------------------------------------------------

    async def _identify_creates(self, creates: Sequence[SeriesPlan]) -> None:
        """Look in the CRM, right before creating, for each key's series (a stale plan, a
        lost state, another checkout); wait for creates of earlier runs that may still land."""
        desired = {item.key: item.desired for item in creates}
        self._verdicts = await self._identify(desired)
        waiting = {
            key: verdict.intent
            for key, verdict in self._verdicts.items()
            if isinstance(verdict, Absent) and verdict.intent is not None
        }
        while waiting:
            now = self.now()
            for key, intent in list(waiting.items()):
                started = parse_datetime(intent.started_at, lenient=True)
                if started is None or now >= started + self.settle:
                    del waiting[key]
                    self.store.clear_intent(key)
                    self.notes.append(
                        f"{key}: an earlier create ({intent.status.value} since "
                        f"{intent.started_at}) made no series in {self._settle_text()}: "
                        "creating it again"
                    )
            if not waiting:
                break
            if self.stop.is_set():
                for key in waiting:
                    self._unsettled[key] = "interrupted while waiting for an earlier create"
                return
            latest = max(
                parse_datetime(i.started_at, lenient=True) or now for i in waiting.values()
            )
            remaining = (latest + self.settle - now).total_seconds()
            self.on_message(
                f"waiting up to {remaining:.0f}s for {len(waiting)} earlier create(s) that may "
                f"still land in the CRM ({', '.join(sorted(waiting))})"
            )
            await self._pause(min(SETTLE_POLL_SECONDS, max(remaining, 0.0)))
            found = await self._identify({k: desired[k] for k in waiting})
            for key, verdict in found.items():
                if not isinstance(verdict, Absent):
                    self._verdicts[key] = verdict
                    del waiting[key]

    async def _identify(self, desired: Mapping[str, Mapping[str, Any]]) -> dict[str, Verdict]:
        org = OrgIndex.of(await self.client.list_series())
        return identify(desired=desired, state=self.store.state, org=org)

    async def _pause(self, seconds: float) -> None:
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        stopper = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, stopper):
                task.cancel()
            await asyncio.gather(sleeper, stopper, return_exceptions=True)

    def _settle_text(self) -> str:
        return f"{self.settle.total_seconds():g}s"

    # --- creates -------------------------------------------------------------------------

    async def _create(self, item: SeriesPlan) -> SeriesOutcome:
        if item.key in self.store.state.ids:
            # Made by an earlier (interrupted) run of this very plan: finish it as an update.
            return await self._converge_existing(item, self.store.state.ids[item.key])
        if item.key in self._unsettled:
            return SeriesOutcome(
                item.key, item.action, Outcome.NOT_STARTED, message=self._unsettled[item.key]
            )
        verdict = self._verdicts.get(item.key)
        if isinstance(verdict, Known):
            self.store.record_id(item.key, verdict.series_id)
            self.notes.append(
                f"{item.key}: found in the CRM as series {verdict.series_id} "
                f"({verdict.how.value}) right before creating it: not created again"
            )
            return await self._converge_existing(item, verdict.series_id)
        if isinstance(verdict, Lookalike):
            first = verdict.series_ids[0]
            return SeriesOutcome(
                key=item.key,
                action=Action.CREATE,
                outcome=Outcome.FAILED,
                message=(
                    f"not created: {verdict.reason}. Adopt it with "
                    f"`{self.command(f'import {first} --key {item.key}')}`"
                ),
            )
        fields = dict(item.desired)
        self.store.record_intent(
            Intent(
                key=item.key,
                status=IntentStatus.PENDING,
                started_at=timestamp(self.now()),
                discount_code=str(fields.get("discountCode", "")),
                description=str(fields.get("description", "")),
            )
        )
        try:
            answer = await self.client.create_series(fields)
        except AmbiguousCreate as error:
            self.store.record_intent(
                Intent(
                    key=item.key,
                    status=IntentStatus.AMBIGUOUS,
                    started_at=self.store.state.intents[item.key].started_at,
                    discount_code=str(fields.get("discountCode", "")),
                    description=str(fields.get("description", "")),
                    detail=str(error),
                )
            )
            return _failed(
                item,
                error,
                extra=(
                    " The series may exist: the next apply looks for it in the CRM and adopts "
                    f"it, and creates it again only if none appeared within {self._settle_text()}."
                    " To decide sooner, check the CRM, then run "
                    f"`{self.command(f'import ID --key {item.key}')}` or "
                    f"`{self.command(f'state clear-intent {item.key}')}`."
                ),
            )
        except ApiError as error:
            # The server answered with a refusal (or was never reached): no series was made.
            self.store.clear_intent(item.key)
            raise error from None
        series_id = int(answer["id"])
        late = {
            name: value
            for name, value in fields.items()
            if BY_NAME[name].set_on_update_only
            and diff_fields(desired=fields, live=answer, fields=[name])
        }
        # The id at once; "unmarked" until the seriesCode PUT is answered, so a run killed in
        # between sets the marker next time (a lost state can then still find the series).
        self.store.record_id(item.key, series_id, unmarked="seriesCode" in late)
        if late:
            answer = await self.client.update_series(series_id, put_body(live=answer, changes=late))
            self.store.record_marked(item.key)
        return SeriesOutcome(
            key=item.key,
            action=Action.CREATE,
            outcome=Outcome.DONE,
            series_id=series_id,
            message="created" + (" (seriesCode set by a PUT)" if late else ""),
            mismatches=mismatches(sent=fields, answer=answer, fields=list(fields)),
        )

    async def _converge_existing(self, item: SeriesPlan, series_id: int) -> SeriesOutcome:
        result = await self.client.get_series([series_id])
        live = result.found.get(series_id)
        if live is None:
            return SeriesOutcome(
                item.key,
                item.action,
                Outcome.FAILED,
                series_id,
                message=f"series {series_id} recorded for this key is not returned by the API",
            )
        changes = diff_fields(desired=item.desired, live=live, fields=list(item.desired))
        if not changes:
            return SeriesOutcome(
                item.key, item.action, Outcome.DONE, series_id, message="already created"
            )
        wanted = {c.field: item.desired[c.field] for c in changes}
        answer = await self.client.update_series(series_id, put_body(live=live, changes=wanted))
        return SeriesOutcome(
            item.key,
            item.action,
            Outcome.DONE,
            series_id,
            message="finished an earlier create",
            mismatches=mismatches(sent=wanted, answer=answer, fields=list(wanted)),
        )

    # --- updates -------------------------------------------------------------------------

    async def _update_batch(self, items: Sequence[SeriesPlan], total: int) -> list[SeriesOutcome]:
        """Re-read ``items`` with one GET, then PUT each one still as the plan read it.

        The re-read is right before the batch's PUTs (never before the earlier batches'), so
        the window between a series' re-read and its PUT spans only this batch's earlier PUTs.
        """
        ids = [item.series_id for item in items if item.series_id is not None]
        try:
            found: Mapping[int, Any] = (await self.client.get_series(ids)).found
        except ApiError as error:
            return [await self._tracked(i, total, _done_now(_failed(i, error))) for i in items]
        outcomes = []
        for item in items:
            if self.stop.is_set():
                outcomes.append(_not_started(item))
                continue
            live = found.get(item.series_id) if item.series_id is not None else None
            outcomes.append(await self._tracked(item, total, self._update_safely(item, live)))
        return outcomes

    async def _update_safely(
        self, item: SeriesPlan, live: Mapping[str, Any] | None
    ) -> SeriesOutcome:
        try:
            return await self._update(item, live)
        except ApiError as error:
            return _failed(item, error)

    async def _update(self, item: SeriesPlan, live: Mapping[str, Any] | None) -> SeriesOutcome:
        """PUT ``item`` over ``live`` (its re-read) unless it changed since the plan."""
        assert item.series_id is not None
        if live is None:
            return SeriesOutcome(
                item.key,
                item.action,
                Outcome.FAILED,
                item.series_id,
                message="the series is no longer returned by the API",
            )
        if live_digest(live) != item.live_digest:
            return SeriesOutcome(
                item.key,
                item.action,
                Outcome.SKIPPED,
                item.series_id,
                message=(
                    "changed in the CRM since the plan was made: not overwritten. "
                    "Plan again to see the new difference"
                ),
            )
        answer = await self.client.update_series(
            item.series_id, put_body(live=live, changes=item.desired)
        )
        return SeriesOutcome(
            key=item.key,
            action=Action.UPDATE,
            outcome=Outcome.DONE,
            series_id=item.series_id,
            message="updated",
            mismatches=mismatches(sent=item.desired, answer=answer, fields=list(item.desired)),
        )


class CreateOrder:
    """Which series of a plan wait for a create of the same apply (they name it by key):
    the referenced series is created first, its id filled in before the referring one is sent.
    """

    def __init__(self, waits: Mapping[str, tuple[str, ...]]) -> None:
        self.waits = dict(waits)
        self.finished = {k: asyncio.Event() for ks in waits.values() for k in ks}

    @classmethod
    def of(cls, work: Sequence[SeriesPlan]) -> CreateOrder:
        creating = {s.key for s in work if s.action is Action.CREATE}
        waits = {
            key: tuple(k for k in keys if k in creating and k != key)
            for key, keys in dependencies({s.key: s.desired for s in work}).items()
        }
        return cls({k: v for k, v in _acyclic(waits).items() if v})

    async def ready(self, key: str) -> None:
        for other in self.waits.get(key, ()):
            await self.finished[other].wait()

    def done(self, key: str) -> None:
        if key in self.finished:
            self.finished[key].set()


def _acyclic(waits: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """``waits`` without the waits of a cycle (only a hand-edited plan file has one; files
    with a reference cycle do not validate): those series are sent unfilled and fail."""
    left = {k: set(v) for k, v in waits.items()}
    changed = True
    while changed:
        changed = False
        for key in list(left):
            if not any(k in left for k in left[key]):
                del left[key]
                changed = True
    return {k: v for k, v in waits.items() if k not in left}


async def _done_now(outcome: SeriesOutcome) -> SeriesOutcome:
    return outcome


def _not_started(item: SeriesPlan) -> SeriesOutcome:
    return SeriesOutcome(item.key, item.action, Outcome.NOT_STARTED, item.series_id)


def _failed(item: SeriesPlan, error: ApiError, *, extra: str = "") -> SeriesOutcome:
    return SeriesOutcome(
        key=item.key,
        action=item.action,
        outcome=Outcome.FAILED,
        series_id=item.series_id,
        message=str(error) + extra,
        status=error.status,
        codes=error.codes,
    )


async def refuse_stale(
    *, plan: Plan, loaded: LoadResult, client: SeriesApi, environment: str
) -> None:
    """Refuse a stale saved plan, saying what moved; never re-plan quietly."""
    reasons = check_fresh(plan=plan, loaded=loaded, environment=environment)
    if not reasons:
        reasons = await check_live_fresh(plan=plan, client=client)
    if reasons:
        raise StalePlan(reasons)
