"""Build a Plan: desired series + state + live series (fetched) → Plan.

The planner is one of the two places (with the applier) that wire the pure layers to I/O:
it reads the live series through the client, and nothing else. It never writes.
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from reconciler import __version__
from reconciler.engine.identity import (
    Absent,
    Blocking,
    Disowned,
    How,
    Known,
    OrgIndex,
    Unlisted,
    Verdict,
    derived_marker,
    identify,
    marker_of,
    strays,
    with_marker,
)
from reconciler.engine.impact import with_business
from reconciler.engine.per_series import find_moves, ignore_rules, plan_series, retire_fields
from reconciler.engine.plan import (
    Action,
    Blocked,
    Orphan,
    Plan,
    PlanWarning,
    SeriesPlan,
)
from reconciler.engine.scope import ChangeScope
from reconciler.engine.state import Intent, State
from reconciler.errors import MissingId, MissingSeries, PlanError, ValidationFailed
from reconciler.files.loader import LoadResult
from reconciler.model.canonical import now_utc, timestamp
from reconciler.model.desired import DesiredSeries, IgnoreRule
from reconciler.model.ports import SeriesReader, batches_of
from reconciler.model.references import referenced_keys, resolve
from reconciler.problems import Severity


async def read_live(
    *, client: SeriesReader, ids: Mapping[str, int], environment: str
) -> AsyncGenerator[tuple[str, Mapping[str, Any]], None]:
    """The live series of ``ids`` (key → id) as (key, answer), batch by batch when the
    client can, else all at once (``batches_of``).

    An id the API does not return is an error naming the key and the id, raised once every
    batch is in: a rename or a deleted series must never turn into a second create.
    """
    if not ids:
        return
    keys: dict[int, list[str]] = {}
    for key, sid in ids.items():
        keys.setdefault(sid, []).append(key)
    wanted = sorted(keys)
    seen: set[int] = set()
    async with contextlib.aclosing(batches_of(client, wanted)) as batches:
        async for batch in batches:
            for sid, answer in batch.found.items():
                seen.add(sid)
                for key in keys.get(sid, ()):
                    yield key, answer
    missing = [MissingId(key, sid) for key, sid in sorted(ids.items()) if sid not in seen]
    if missing:
        raise MissingSeries(missing, environment=environment)


def _plan_existing(
    series: DesiredSeries,
    *,
    verdict: Known,
    live: Mapping[str, Any],
    state: State,
    ignore: Sequence[IgnoreRule],
    now: datetime,
    digests: bool,
) -> tuple[SeriesPlan, list[PlanWarning]]:
    """The plan of a series found in the CRM, and what ownership says of it when it is
    unchanged (an unchanged series is not shown: a released line, a field the answer does
    not show, are warnings of the plan)."""
    key = series.key
    series = retire_fields(series, now=now, live=live)
    if verdict.how is How.INTENT or key in state.unmarked:
        series = with_marker(series)  # the marker its create never got to set
    found = _found_note(verdict)
    planned = plan_series(
        series,
        live=live,
        series_id=verdict.series_id,
        rules=ignore_rules(series, ignore),
        found_note=found,
        last_declared=state.fields.get(key),
        digest=digests,
    )
    if planned.action is not Action.UNCHANGED:
        return planned, []
    said = [PlanWarning(message=n, key=key, file=series.file) for n in planned.notes if n != found]
    return planned, said


def _command(words: str) -> str:
    return f"reconciler {words}"


async def build_plan(
    *,
    loaded: LoadResult,
    state: State,
    client: SeriesReader,
    targets: Sequence[str] = (),
    now: datetime | None = None,
    command: Callable[[str], str] = _command,
    digests: bool = True,
    scope: ChangeScope | None = None,
) -> Plan:
    """Compare the files with the live series of ``state``'s environment.

    ``targets`` (``--target``) or ``scope`` (``--changed-since``: ``engine/scope.py``) limit
    the plan to some keys; identity still reads the whole org's list and knows the markers
    of every key of the folder.

    Identity comes from the org (one list call, always: a plan that cannot reach the API fails
    instead of reading "nothing exists"); the state only saves lookups. ``command`` spells a
    suggested command with the flags that reach this environment. Without ``digests`` only
    the updates carry the digest of their live series: enough to apply the plan now, not to
    save it (a saved plan is refused when any of its series changed since).
    """
    moment = now or now_utc()
    loaded = environment_view(loaded, state.environment)
    desired = {s.key: s for s in loaded.series}
    in_scope = _keys_in_scope(loaded, state, targets=targets, scope=scope)
    org = OrgIndex.of(await client.list_series())
    wanted = {k: desired[k].fields for k in in_scope if k in desired}
    distinct = distinct_from(desired.values())
    others = _outside_markers(loaded, wanted=wanted)
    verdicts = identify(desired=wanted, state=state, org=org, distinct=distinct, others=others)
    orphan_ids = {k: state.ids[k] for k in in_scope if k not in desired and k in state.ids}
    gone = await _unlisted(
        client=client, verdicts=verdicts, orphans=orphan_ids, org=org, state=state
    )
    ids = {k: v.series_id for k, v in verdicts.items() if isinstance(v, Known)}
    ids.update({k: sid for k, sid in orphan_ids.items() if k not in gone})
    links = _link(
        desired=desired,
        in_scope=in_scope,
        verdicts=verdicts,
        state=state,
        org=org,
        distinct=distinct,
    )

    # First what needs no live series (creates, blocked keys), then each existing series as
    # its batch is answered: a batch's unchanged series are dropped once planned, so a plan
    # of 10,000 never holds every answer at once. Results are gathered by key and put in the
    # files' order, whatever order the batches come back in.
    planned_by_key: dict[str, SeriesPlan] = {}
    said_by_key: dict[str, list[PlanWarning]] = {}
    existing: dict[str, tuple[DesiredSeries, tuple[str, ...]]] = {}
    creates: list[DesiredSeries] = []
    blocked: list[Blocked] = []
    for key in in_scope:
        series = desired.get(key)
        if series is None:
            continue
        resolved = resolve(series, links.ids)
        stuck = [k for k in resolved.waiting if k not in links.creating]
        verdict = verdicts[key]
        if stuck:
            blocked.append(_blocked_reference(series, stuck, links))
        elif isinstance(verdict, Known):
            existing[key] = (resolved.series, resolved.notes)
        elif isinstance(verdict, Blocking):
            blocked.append(_blocked(series, verdict, command=command))
        else:
            series = retire_fields(resolved.series, now=moment, live=None)
            note = _intent_note(verdict.intent) if verdict.intent is not None else ""
            if verdict.intent is None:
                creates.append(series)
            rules = ignore_rules(series, loaded.settings.ignore)
            planned = plan_series(
                with_marker(series), live=None, series_id=None, rules=rules, intent_note=note
            )
            planned_by_key[key] = _with_notes(planned, resolved.notes)

    live: dict[str, Mapping[str, Any]] = {}  # kept: the changed series' and the orphans'
    # Closed however the loop ends: the batches still in flight are cancelled at once.
    reads = read_live(client=client, ids=ids, environment=state.environment)
    async with contextlib.aclosing(reads):
        async for key, answer in reads:
            if key not in existing:
                live[key] = answer  # an orphan: a likely rename is judged from its fields
                continue
            series, notes = existing[key]
            verdict = verdicts[key]
            assert isinstance(verdict, Known)
            planned, said_by_key[key] = _plan_existing(
                series,
                verdict=verdict,
                live=answer,
                state=state,
                ignore=loaded.settings.ignore,
                now=moment,
                digests=digests,
            )
            if planned.action is not Action.UNCHANGED:
                live[key] = answer  # its business facts are read from it (impact)
            planned_by_key[key] = _with_notes(planned, notes)
    plans = [planned_by_key[k] for k in in_scope if k in planned_by_key]
    said = [w for k in in_scope for w in said_by_key.get(k, ())]

    orphan_live = {k: live[k] for k in in_scope if k not in desired and k in live}
    moves = find_moves(creates=creates, orphans=orphan_live, state=state, command=command)
    moved_to = {m.to_key for m in moves}
    moved_from = {m.from_key for m in moves}
    orphans = [
        Orphan(key=k, series_id=state.ids[k], description=str(v.get("description", "")))
        for k, v in orphan_live.items()
        if k not in moved_from
    ]
    warnings = [
        PlanWarning(message=p.message, file=p.file, line=p.line)
        for p in loaded.problems
        if p.severity is Severity.WARNING
    ]
    warnings.extend(said)
    warnings.extend(_left_out_warnings(loaded, state))
    warnings.extend(_gone_warnings(orphan_ids, gone=gone, command=command))
    warnings += _stray_warnings(
        wanted,
        state=state,
        org=org,
        desired=desired,
        command=command,
        distinct=distinct,
        # The plan's own verdicts when no key outside the plan changed them (a whole plan).
        verdicts=None if others else verdicts,
    )
    plan = Plan(
        environment=state.environment,
        tool_version=__version__,
        created_at=timestamp(moment),
        desired_digest=loaded.digest,
        series=tuple(p for p in plans if p.key not in moved_to),
        orphans=tuple(orphans),
        moves=tuple(moves),
        blocked=tuple(blocked),
        warnings=tuple(warnings),
        targets=tuple(in_scope) if scope is not None and not scope.whole else tuple(targets),
        scope=scope,
        existing_outside=_existing(others, state=state, org=org, in_scope=in_scope),
    )
    return _with_review_facts(plan, live=live, org=org, moment=moment)


def _keys_in_scope(
    loaded: LoadResult, state: State, *, targets: Sequence[str], scope: ChangeScope | None
) -> list[str]:
    """The keys a plan covers: every key of the environment (files and the state's), the
    ``--target`` keys (each must be one of them), or a change's scope (its keys that are
    in this environment: a removed file's key only while the state still has it)."""
    desired = {s.key for s in loaded.series}
    everything = (desired | set(state.ids)) - loaded.left_out
    if scope is not None:
        if targets:
            raise PlanError("--target and --changed-since cannot be used together")
        return sorted(everything) if scope.whole else sorted(set(scope.keys) & everything)
    target_set = set(targets)
    left_out = sorted(target_set & loaded.left_out)
    if left_out:
        raise PlanError(
            f"--target names keys that are not in environment {state.environment!r} (their "
            f"files' only: leaves it out): {left_out}"
        )
    unknown = sorted(target_set - desired - set(state.ids))
    if unknown:
        raise PlanError(f"--target names keys that are neither files nor in the state: {unknown}")
    return sorted(target_set) if target_set else sorted(everything)


def _outside_markers(loaded: LoadResult, *, wanted: Mapping[str, Any]) -> dict[str, str]:
    """The markers of the folder's keys a plan of some keys leaves out: a file's own (loaded)
    or the one derived from its key (a file not parsed, which declares no seriesCode:
    ``service.load_scoped`` parses every file that may)."""
    out = {s.key: marker_of(s.key, s.fields) for s in loaded.series if s.key not in wanted}
    out.update({key: derived_marker(key) for key in loaded.unread if key not in wanted})
    return out


def _existing(
    others: Mapping[str, str], *, state: State, org: OrgIndex, in_scope: Sequence[str]
) -> int:
    """How many of the keys outside the plan have a series in the org (by the state's id or
    by their marker): the rest of the share a safety rail weighs."""
    scoped = set(in_scope)
    return sum(
        1
        for key, marker in others.items()
        if key not in scoped and (state.ids.get(key) in org.by_id or marker in org.by_code)
    )


def _with_review_facts(
    plan: Plan, *, live: Mapping[str, Mapping[str, Any]], org: OrgIndex, moment: datetime
) -> Plan:
    """What a reviewer weighs beside the changes: issued coupons, status, windows, impact,
    overlaps (``engine.impact``), read from what the plan already fetched: no extra call."""
    return with_business(plan, live=live, org=org, today=moment.astimezone(UTC).date())


def environment_view(loaded: LoadResult, environment: str) -> LoadResult:
    """``loaded`` resolved for ``environment`` (its values, its ``only:``); its problems
    there refuse the plan like any invalid file."""
    view = loaded.for_environment(environment)
    if not view.ok:
        raise ValidationFailed(view.problems)
    return view


@dataclass(frozen=True)
class _Links:
    """What references resolve against in one environment."""

    ids: Mapping[str, int]  # every key whose series is known in the CRM
    creating: frozenset[str]  # keys this plan creates (their ids are filled in by the apply)
    blocked: frozenset[str]  # keys whose series nobody can tell (look-alikes)


def _link(
    *,
    desired: Mapping[str, DesiredSeries],
    in_scope: Sequence[str],
    verdicts: Mapping[str, Verdict],
    state: State,
    org: OrgIndex,
    distinct: Mapping[str, tuple[int, ...]],
) -> _Links:
    """The ids references resolve to: the verdicts of the keys in scope, and those of keys
    outside a --target that a series in scope names."""
    named = {k for key in in_scope if key in desired for k in referenced_keys(desired[key])}
    outside = {k: desired[k].fields for k in sorted(named - set(verdicts)) if k in desired}
    everything = dict(verdicts)
    if outside:
        everything.update(identify(desired=outside, state=state, org=org, distinct=distinct))
    ids = {k: v.series_id for k, v in everything.items() if isinstance(v, Known)}
    creating = frozenset(
        k for k, v in verdicts.items() if isinstance(v, Absent) and k in set(in_scope)
    )
    blocked = frozenset(k for k, v in everything.items() if isinstance(v, Blocking))
    return _Links(ids=ids, creating=creating, blocked=blocked)


def distinct_from(series: Iterable[DesiredSeries]) -> dict[str, tuple[int, ...]]:
    """Per key, the ids its file says are other series (``reconciler: distinct_from:``)."""
    return {s.key: s.options.distinct_from for s in series if s.options.distinct_from}


async def _unlisted(
    *,
    client: SeriesReader,
    verdicts: Mapping[str, Verdict],
    orphans: Mapping[str, int],
    org: OrgIndex,
    state: State,
) -> frozenset[str]:
    """The keys whose state id names no series at all (neither listed nor read by id).

    A state id missing from the org's list is read by id: when the API returns it, the list
    was not complete, and nothing that rests on it (every create, every look-alike) can be
    planned: the plan fails. Otherwise the series is gone (or the id was never this org's):
    the key is blocked, never created.
    """
    unlisted = {k: v.series_id for k, v in verdicts.items() if isinstance(v, Unlisted)}
    unlisted.update({k: sid for k, sid in orphans.items() if sid not in org.by_id})
    if not unlisted:
        return frozenset()
    result = await client.get_series(sorted(set(unlisted.values())))
    returned = sorted(f"{k} (id {sid})" for k, sid in unlisted.items() if sid in result.found)
    if returned:
        raise PlanError(
            f"the org's list of environment {state.environment!r} is not complete: it leaves "
            f"out series the API returns by id ({', '.join(returned)}). A create or a "
            "look-alike cannot rest on such a list, so nothing was planned. Plan again; if it "
            "persists, the list call does not return every series of this org (report it)"
        )
    return frozenset(unlisted)


def _gone_warnings(
    orphans: Mapping[str, int], *, gone: frozenset[str], command: Callable[[str], str]
) -> list[PlanWarning]:
    """A key no file declares whose recorded id names no series: nothing to report but that."""
    return [
        PlanWarning(
            message=(
                f"{key} is in the state (id {sid}) but no file declares it and the CRM has no "
                f"such series: `{command(f'state rm {shlex.quote(key)}')}` forgets it"
            ),
            key=key,
        )
        for key, sid in sorted(orphans.items())
        if key in gone
    ]


def _blocked_reference(series: DesiredSeries, stuck: Sequence[str], links: _Links) -> Blocked:
    why = []
    for key in stuck:
        if key in links.blocked:
            why.append(f"{key} is blocked itself (see its entry)")
        else:
            why.append(f"{key} does not exist in the CRM yet and is outside --target: add it")
    return Blocked(
        key=series.key,
        file=series.file,
        reason="it names series whose id is not known: " + "; ".join(why),
    )


def _with_notes(planned: SeriesPlan, notes: Sequence[str]) -> SeriesPlan:
    return replace(planned, notes=(*planned.notes, *notes)) if notes else planned


def _left_out_warnings(loaded: LoadResult, state: State) -> list[PlanWarning]:
    """A key left out of this environment that still has an id here: it is left alone."""
    return [
        PlanWarning(
            message=(
                f"{key} is not in environment {state.environment!r} (its file's only: leaves "
                f"it out), but the state records id {state.ids[key]} here: it is neither "
                f"planned nor reported as an orphan; `reconciler state rm {key}` forgets it"
            ),
            key=key,
        )
        for key in sorted(loaded.left_out & set(state.ids))
    ]


def _stray_warnings(
    wanted: Mapping[str, Mapping[str, Any]],
    *,
    state: State,
    org: OrgIndex,
    desired: Mapping[str, DesiredSeries],
    command: Callable[[str], str],
    distinct: Mapping[str, tuple[int, ...]],
    verdicts: Mapping[str, Verdict] | None,
) -> list[PlanWarning]:
    """Series beside a key's own with its discountCode that no key manages (``strays``)."""
    found = strays(desired=wanted, state=state, org=org, distinct=distinct, verdicts=verdicts)
    out = []
    for key, ids in sorted(found.items()):
        listed = ", ".join(str(i) for i in ids)
        out.append(
            PlanWarning(
                message=(
                    f"the CRM has another series with this discountCode that no file manages "
                    f"(id {listed}): a create the server acted on after the settle time, or an "
                    f"older series. Check it in the CRM (`{command('list --unmanaged')}`)"
                ),
                key=key,
                file=desired[key].file,
            )
        )
    return out


def _found_note(verdict: Known) -> str:
    if verdict.how is How.MARKER:
        return (
            f"found in the CRM by its seriesCode (id {verdict.series_id}); the state did not "
            "know it: the apply records it"
        )
    if verdict.how is How.INTENT:
        return (
            f"made by an earlier create whose answer was lost (id {verdict.series_id}): the "
            "apply records it and sets its seriesCode"
        )
    return ""


def _intent_note(intent: Intent) -> str:
    return (
        f"an earlier create of this key did not finish ({intent.status.value} since "
        f"{intent.started_at}) and the CRM shows no series it made yet: the apply waits until "
        "it could no longer appear before creating it again"
    )


def _blocked(series: DesiredSeries, verdict: Blocking, *, command: Callable[[str], str]) -> Blocked:
    key = shlex.quote(series.key)
    if isinstance(verdict, Disowned):
        return Blocked(key=series.key, file=series.file, reason=_disowned(verdict, key, command))
    if isinstance(verdict, Unlisted):
        reason = (
            f"the state records id {verdict.series_id} for this key, but the CRM has no such "
            "series (neither the org's list nor a read by id returns it): it was removed, "
            "belongs to another org, or the state was edited. Nothing is created while the "
            f"state names it: `{command(f'state rm {key}')}` lets the next plan look for this "
            "key's series by its marker (or plan its create)"
        )
        return Blocked(key=series.key, file=series.file, reason=reason)
    first = verdict.series_ids[0]
    adopt = command(f"import {first} --key {key}")
    if len(verdict.series_ids) == 1:
        todo = f"exists in the CRM as id {first}: adopt it with `{adopt}`"
    else:
        todo = f"adopt the right one with `{command('import ID --key ' + key)}`"
    apart = (
        "; or, if it is another series, add its id to `distinct_from:` under `reconciler:` "
        "in the file to create this one beside it"
    )
    return Blocked(key=series.key, file=series.file, reason=f"{verdict.reason}; {todo}{apart}")


def _disowned(verdict: Disowned, key: str, command: Callable[[str], str]) -> str:
    sid = verdict.series_id
    own = (
        f"; series {verdict.marked} carries this key's marker and is most likely its own"
        if verdict.marked is not None
        else ""
    )
    return (
        f"the state records id {sid} for this key, but series {sid} is not this key's: "
        f"{verdict.reason}{own}. The state lives where others can edit it (or was damaged), "
        f"so nothing is written to series {sid}. Fix the state: `{command(f'state rm {key}')}` "
        "(the next plan finds this key's series by its marker, or shows what to do), or "
        f"`{command('state rebuild')}` to write every id anew from the CRM"
    )
