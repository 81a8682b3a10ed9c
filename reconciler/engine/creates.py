"""The creates of one apply: never a second series, and never a write from an answer's word.

- Right before the creates, the org is listed again: a key whose series exists (its marker,
  or the one an unfinished create made) is not created again; a look-alike or a state that
  names another series is refused.
- An unfinished create that the CRM does not show yet is sent again only after
  ``create_settle_seconds`` from its first attempt (the server may still be acting on it).
  Meanwhile the list is read again, first after 5 s, then at growing intervals up to a
  minute, and each wait says what it waits for.
- Before a POST the intent is journaled, with the ids of the series of its discountCode the
  list just showed; after it, the id. A POST is never retried once it may have reached the
  server: a lost or unclear answer leaves it *ambiguous*.
- A create's answer is compared, never trusted: its id must be a series id the list did not
  show before the POST, and the series a read by that id returns must carry the discountCode
  sent. Only then is the id recorded and the marker PUT (over that read) sent. Anything else
  is an ambiguous create: the next apply looks again before anything else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from reconciler.engine.diff import diff_fields
from reconciler.engine.identity import (
    Absent,
    Blocking,
    Disowned,
    Distinct,
    Known,
    Lookalike,
    OrgIndex,
    Verdict,
    identify,
)
from reconciler.engine.plan import Action, SeriesPlan
from reconciler.engine.result import Outcome, SeriesOutcome
from reconciler.engine.state import Intent, IntentStatus, StateStore, is_series_id
from reconciler.engine.writes import mismatches, put_body
from reconciler.errors import AmbiguousCreate, ApiError
from reconciler.model.canonical import parse_datetime, timestamp
from reconciler.model.catalogue import BY_NAME
from reconciler.model.ports import SeriesApi

# How soon an apply waiting for an earlier create to settle looks at the CRM again, and the
# longest it goes without looking: each wait doubles, from the first to the cap.
SETTLE_FIRST_POLL_SECONDS = 5.0
SETTLE_POLL_CAP_SECONDS = 60.0


def _command(words: str) -> str:
    return f"reconciler {words}"


class Creates:
    """The creates of one apply: ``prepare`` once (identity, settle waits), then ``create``
    each series the plan creates."""

    def __init__(
        self,
        *,
        store: StateStore,
        client: SeriesApi,
        distinct: Distinct,
        now: Callable[[], datetime],
        settle_seconds: float,
        sleep: Callable[[float], Any],
        stop: asyncio.Event,
        on_message: Callable[[str], None],
        command: Callable[[str], str] = _command,
    ) -> None:
        self.store = store
        self.client = client
        self.distinct = distinct
        self.now = now
        self.settle = timedelta(seconds=max(0.0, settle_seconds))
        self._sleep = sleep
        self.stop = stop
        self.on_message = on_message
        self.command = command
        self.notes: list[str] = []
        self._verdicts: dict[str, Verdict] = {}
        self._unsettled: dict[str, str] = {}
        self._org: OrgIndex | None = None
        self._claimed: set[int] = set()  # ids answered to the creates of this apply

    # --- identity right before the creates -----------------------------------------------

    async def prepare(self, creates: Sequence[SeriesPlan]) -> None:
        """Look in the CRM, right before creating, for each key's series (a stale plan, a
        lost state, another checkout); wait for creates of earlier runs that may still land."""
        desired = {item.key: item.desired for item in creates}
        self._verdicts = await self._identify(desired)
        waiting = {
            key: verdict.intent
            for key, verdict in self._verdicts.items()
            if isinstance(verdict, Absent) and verdict.intent is not None
        }
        poll = SETTLE_FIRST_POLL_SECONDS
        while waiting:
            now = self.now()
            for key, intent in list(waiting.items()):
                if now >= self._deadline(intent, now):
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
            first = min(self._deadline(i, now) for i in waiting.values())
            pause = max(0.0, min(poll, (first - now).total_seconds()))
            self.on_message(self._waiting_text(waiting, now=now, pause=pause))
            await self._pause(pause)
            poll = min(poll * 2, SETTLE_POLL_CAP_SECONDS)
            found = await self._identify({k: desired[k] for k in waiting})
            for key, verdict in found.items():
                if not isinstance(verdict, Absent):
                    self._verdicts[key] = verdict
                    del waiting[key]

    def _deadline(self, intent: Intent, now: datetime) -> datetime:
        started = parse_datetime(intent.started_at, lenient=True)
        return now if started is None else started + self.settle

    def _waiting_text(self, waiting: Mapping[str, Intent], *, now: datetime, pause: float) -> str:
        last = max(self._deadline(i, now) for i in waiting.values())
        shown = sorted(waiting)[:3]
        more = f" and {len(waiting) - 3} more" if len(waiting) > 3 else ""
        what = "; ".join(
            f"{key} (discountCode {waiting[key].discount_code or '?'}, "
            f"{waiting[key].status.value} since {waiting[key].started_at})"
            for key in shown
        )
        return (
            f"waiting for {len(waiting)} earlier create(s) whose series may still appear in "
            f"the CRM: {what}{more}. Looking again in {pause:.0f}s; each is created again "
            f"only if no series of it appears by {timestamp(last)} "
            f"({max(0.0, (last - now).total_seconds()):.0f}s from now)"
        )

    async def _identify(self, desired: Mapping[str, Mapping[str, Any]]) -> dict[str, Verdict]:
        self._org = OrgIndex.of(await self.client.list_series())
        return identify(
            desired=desired, state=self.store.state, org=self._org, distinct=self.distinct
        )

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

    # --- one create ----------------------------------------------------------------------

    async def create(self, item: SeriesPlan) -> SeriesOutcome:
        if item.key in self.store.state.ids:
            # Made by an earlier (interrupted) run of this very plan: finish it as an update.
            return await self.converge_existing(item, self.store.state.ids[item.key])
        if item.key in self._unsettled:
            return SeriesOutcome(
                item.key, item.action, Outcome.NOT_STARTED, message=self._unsettled[item.key]
            )
        verdict = self._verdicts.get(item.key)
        if isinstance(verdict, Known):
            # Found by an unfinished create's intent: its marker is still to be set.
            self.store.record_id(item.key, verdict.series_id, unmarked=True)
            self.notes.append(
                f"{item.key}: found in the CRM as series {verdict.series_id} "
                f"({verdict.how.value}) right before creating it: not created again"
            )
            return await self.converge_existing(item, verdict.series_id)
        if isinstance(verdict, Blocking):
            return SeriesOutcome(
                key=item.key,
                action=Action.CREATE,
                outcome=Outcome.FAILED,
                message=f"not created: {self._refusal(item.key, verdict)}",
            )
        if not isinstance(verdict, Absent):
            return SeriesOutcome(
                item.key, item.action, Outcome.FAILED, message="not created: not looked up"
            )
        return await self._post(item)

    def _refusal(self, key: str, verdict: Blocking) -> str:
        if isinstance(verdict, Lookalike):
            first = verdict.series_ids[0]
            return (
                f"{verdict.reason}. Adopt it with `{self.command(f'import {first} --key {key}')}`"
            )
        if isinstance(verdict, Disowned):
            return (
                f"the state records id {verdict.series_id}, which is not this key's series "
                f"({verdict.reason}); fix the state with `{self.command(f'state rm {key}')}`"
            )
        return (
            f"the state records id {verdict.series_id}, which the CRM does not list; "
            f"plan again to see why"
        )

    async def _post(self, item: SeriesPlan) -> SeriesOutcome:
        fields = dict(item.desired)
        code = str(fields.get("discountCode", ""))
        org = self._org
        intent = Intent(
            key=item.key,
            status=IntentStatus.PENDING,
            started_at=timestamp(self.now()),
            discount_code=code,
            description=str(fields.get("description", "")),
            known_before=org.discount_ids(code) if org is not None else None,
        )
        self.store.record_intent(intent)
        try:
            answer = await self.client.create_series(fields)
        except AmbiguousCreate as error:
            return self._ambiguous(item, intent, str(error), error=error)
        except ApiError as error:
            # The server answered with a refusal (or was never reached): no series was made.
            self.store.clear_intent(item.key)
            raise error from None
        sid = answer.get("id")
        why = self._answer_problem(sid)
        if why:
            return self._ambiguous(item, intent, why)
        assert isinstance(sid, int)
        self._claimed.add(sid)  # before any await: no concurrent create may claim it too
        try:
            read = await self.client.get_series([sid])
        except ApiError as error:
            return self._ambiguous(item, intent, f"series {sid} could not be read back: {error}")
        live = read.found.get(sid)
        why = self._read_back_problem(sid, live, fields)
        if why or live is None:
            return self._ambiguous(item, intent, why)
        late = {
            name: value
            for name, value in fields.items()
            if BY_NAME[name].set_on_update_only
            and diff_fields(desired=fields, live=live, fields=[name])
        }
        # The id at once; "unmarked" until the seriesCode PUT is answered, so a run killed in
        # between sets the marker next time (a lost state can then still find the series).
        self.store.record_id(item.key, sid, unmarked="seriesCode" in late)
        after: Mapping[str, Any] = live
        if late:
            after = await self.client.update_series(
                sid, put_body(live=live, changes=late), org_id=live.get("orgId")
            )
            self.store.record_marked(item.key)
        return SeriesOutcome(
            key=item.key,
            action=Action.CREATE,
            outcome=Outcome.DONE,
            series_id=sid,
            message="created" + (" (seriesCode set by a PUT)" if late else ""),
            mismatches=mismatches(sent=fields, answer=after, fields=list(fields)),
        )

    def _answer_problem(self, sid: Any) -> str:
        """Why the id a create's answer names cannot be this create's series ("" if it may)."""
        if not is_series_id(sid):
            return f"its answer names id {sid!r}, which is not a series id"
        known = self._org.by_id if self._org is not None else {}
        if sid in known or sid in self._claimed or sid in set(self.store.state.ids.values()):
            return (
                f"its answer names series {sid}, which existed before this create started "
                "(another series, not this one)"
            )
        return ""

    @staticmethod
    def _read_back_problem(
        sid: int, live: Mapping[str, Any] | None, sent: Mapping[str, Any]
    ) -> str:
        if live is None:
            return f"its answer names series {sid}, which a read by id does not return"
        if diff_fields(desired=sent, live=live, fields=["discountCode"]):
            return (
                f"its answer names series {sid}, whose discountCode is "
                f"{live.get('discountCode')!r}, not the {sent.get('discountCode')!r} sent"
            )
        return ""

    def _ambiguous(
        self, item: SeriesPlan, intent: Intent, detail: str, *, error: ApiError | None = None
    ) -> SeriesOutcome:
        """The create may have made a series, or not: kept as an ambiguous intent (never an
        id), so the next apply looks again before anything else."""
        self.store.record_intent(replace(intent, status=IntentStatus.AMBIGUOUS, detail=detail))
        return SeriesOutcome(
            key=item.key,
            action=item.action,
            outcome=Outcome.FAILED,
            status=error.status if error is not None else None,
            codes=error.codes if error is not None else (),
            message=(
                f"the create's outcome is unknown: {detail}. The series may exist: the next "
                "apply looks for it in the CRM and adopts it only on positive evidence, and "
                f"creates it again only if none appeared within {self._settle_text()}. To "
                "decide sooner, check the CRM, then run "
                f"`{self.command(f'import ID --key {item.key}')}` or "
                f"`{self.command(f'state clear-intent {item.key}')}`."
            ),
        )

    async def converge_existing(self, item: SeriesPlan, series_id: int) -> SeriesOutcome:
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
        answer = await self.client.update_series(
            series_id, put_body(live=live, changes=wanted), org_id=live.get("orgId")
        )
        return SeriesOutcome(
            item.key,
            item.action,
            Outcome.DONE,
            series_id,
            message="finished an earlier create",
            mismatches=mismatches(sent=wanted, answer=answer, fields=list(wanted)),
        )
