"""Apply a Plan: the creates (``engine/creates.py``), the updates, the state kept true, verify.

The plan applied is always one this process just made from the files, the state and the
live CRM (``apply PLANFILE`` makes it again and compares it with the reviewed one:
``engine/compare.py``). The rules (docs/design.md, decisions 1, 4, 8, 9, 11, 12):

- Creates: identity is looked up again right before them, an unfinished one is waited for,
  a POST is never retried, its answer is verified before its id is recorded (``creates``).
- Just before its PUT each series is read again; if it changed since the plan, it is skipped
  (check-and-set). The updates go in small batches (up to ``RECHECK_BATCH``, fewer when
  there are too few updates to fill every slot): one GET re-reads a batch, then its PUTs
  follow one after another, so an update costs about 1 + 1/8 calls and the window between a
  series' re-read and its PUT is at most the batch's earlier PUTs. The
  PUT body is the live series' writable fields with the planned changes applied: PUT
  replaces the whole series, so nothing undeclared is reset.
- Every answer is compared with what was sent; a field the server did not take is reported.
- Verified at the end: every series written is read back (batched) and planned again from
  its file (``engine/verify.py``): "Converged", or what still differs.
- Independent series go on when one fails; a stop request lets running calls finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from reconciler.engine.creates import Creates
from reconciler.engine.diff import live_digest
from reconciler.engine.order import CreateOrder
from reconciler.engine.plan import Action, Move, Plan, Rails, SeriesPlan, safety_violations
from reconciler.engine.planner import distinct_from
from reconciler.engine.result import ApplyResult, Outcome, SeriesOutcome
from reconciler.engine.state import StateStore
from reconciler.engine.verify import verify_written
from reconciler.engine.writes import failed, mismatches, not_started, put_body
from reconciler.errors import ApiError, ReconcilerError, SafetyRailTripped, StateError
from reconciler.files.loader import LoadResult
from reconciler.model.canonical import now_utc
from reconciler.model.ports import SeriesApi
from reconciler.model.references import fill

__all__ = ["RECHECK_BATCH", "Applier", "CreateOrder", "Progress", "put_body"]

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


class Applier:
    """Runs one plan against one environment. Create one per apply.

    ``plan`` must be one this process made (``planner.build_plan``) from ``loaded``, the
    store's state and the live CRM: a plan read from a file is compared with such a plan
    (``compare.differences``), never given here.
    """

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
        self.command = command
        self.creates = Creates(
            store=store,
            client=client,
            distinct=distinct_from(self.loaded.series),
            now=now,
            settle_seconds=settle_seconds,
            sleep=sleep,
            stop=self.stop,
            on_message=on_message or (lambda _text: None),
            command=command,
        )
        self._done = 0

    @property
    def notes(self) -> list[str]:
        return self.creates.notes

    # --- the whole run -------------------------------------------------------------------

    async def run(self, *, rails: Rails, force: bool) -> ApplyResult:
        violations = safety_violations(self.plan, rails=rails, now=self.now())
        if violations and not force:
            raise SafetyRailTripped(violations)
        self._learn_ids()
        work = [s for s in self.plan.series if s.action is not Action.UNCHANGED]
        creates = [s for s in work if s.action is Action.CREATE]
        if creates:
            await self.creates.prepare(creates)
        outcomes: list[SeriesOutcome] = [self._move_outcome(m) for m in self.plan.moves]
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
                        return [not_started(item)]
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
                        return [not_started(item) for item in items]
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
                # What this apply wrote, read back and planned again (``engine/verify.py``).
                after = await verify_written(
                    plan=self.plan,
                    outcomes=outcomes,
                    loaded=self.loaded,
                    state=self.store.state,
                    client=self.client,
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

    def _move_outcome(self, move: Move) -> SeriesOutcome:
        command = move.command or self.command(f"state mv {move.from_key} {move.to_key}")
        return SeriesOutcome(
            key=move.to_key,
            action=Action.CREATE,
            outcome=Outcome.SKIPPED,
            series_id=move.series_id,
            message=(
                f"likely a rename of {move.from_key!r} (id {move.series_id}): record it "
                f"with `{command}`"
            ),
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
        try:
            return await self.creates.create(filled)
        except ApiError as error:
            return failed(filled, error)
        except StateError as error:
            # The state could not be written (a full disk): this series stops here, the
            # others go on, and the summary says what was done. An intent already written
            # lets the next apply find a series whose id could not be recorded.
            return SeriesOutcome(item.key, item.action, Outcome.FAILED, message=str(error))

    def _learn_ids(self) -> None:
        """Record the ids the plan found in the CRM (by marker or intent) that the state lacks;
        one whose marker the plan sets is recorded as unmarked until that PUT is answered."""
        for item in self.plan.series:
            if item.series_id is not None and self.store.state.ids.get(item.key) is None:
                unmarked = item.change("seriesCode") is not None
                self.store.record_id(item.key, item.series_id, unmarked=unmarked)

    def _record_fields(self, outcomes: Sequence[SeriesOutcome]) -> None:
        """Remember which fields each converged key's file declared (field ownership)."""
        done = {o.key for o in outcomes if o.outcome is Outcome.DONE}
        done |= {s.key for s in self.plan.series if s.action is Action.UNCHANGED}
        for series in self.loaded.series:
            if series.key in done and series.key in self.store.state.ids:
                self.store.record_fields(series.key, tuple(series.declared))
                # Converged with the marker in its desired fields: the series carries it.
                self.store.record_marked(series.key)

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
            return [await self._tracked(i, total, _done_now(failed(i, error))) for i in items]
        outcomes = []
        for item in items:
            if self.stop.is_set():
                outcomes.append(not_started(item))
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
            return failed(item, error)

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
            item.series_id, put_body(live=live, changes=item.desired), org_id=live.get("orgId")
        )
        return SeriesOutcome(
            key=item.key,
            action=Action.UPDATE,
            outcome=Outcome.DONE,
            series_id=item.series_id,
            message="updated",
            mismatches=mismatches(sent=item.desired, answer=answer, fields=list(item.desired)),
        )


async def _done_now(outcome: SeriesOutcome) -> SeriesOutcome:
    return outcome
