"""Build a Plan: desired series + state + live series (fetched) → Plan.

The planner is one of the two places (with the applier) that wire the pure layers to I/O:
it reads the live series through the client, and nothing else. It never writes.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from reconciler import __version__
from reconciler.engine.diff import FieldChange, diff_fields, live_digest
from reconciler.engine.identity import (
    Absent,
    Blocking,
    Disowned,
    How,
    Known,
    OrgIndex,
    Unlisted,
    Verdict,
    identify,
    strays,
    with_marker,
)
from reconciler.engine.impact import with_business
from reconciler.engine.ownership import held_changes, held_create_note, resets_for
from reconciler.engine.plan import (
    Action,
    Blocked,
    IgnoredField,
    Move,
    Orphan,
    Plan,
    PlanWarning,
    SeriesPlan,
)
from reconciler.engine.state import Intent, State
from reconciler.errors import MissingId, MissingSeries, PlanError, ValidationFailed
from reconciler.files.loader import LoadResult
from reconciler.model.canonical import canonical, now_utc, timestamp, utc_day
from reconciler.model.catalogue import ABSENT, BY_NAME
from reconciler.model.desired import DesiredSeries, IgnoreRule
from reconciler.model.ports import SeriesReader
from reconciler.model.references import referenced_keys, resolve
from reconciler.problems import Severity


async def fetch_live(
    *, client: SeriesReader, ids: Mapping[str, int], environment: str
) -> dict[str, dict[str, Any]]:
    """The live series of ``ids`` (key → id), by key.

    An id the API does not return is an error naming the key and the id: a rename or a
    deleted series must never turn into a second create.
    """
    if not ids:
        return {}
    result = await client.get_series(sorted(set(ids.values())))
    found: Mapping[int, dict[str, Any]] = result.found
    missing = [MissingId(key, sid) for key, sid in sorted(ids.items()) if sid not in found]
    if missing:
        raise MissingSeries(missing, environment=environment)
    # The answers themselves, not copies: nothing changes them, and a copy of 10,000 series
    # was a sixth of a large plan's peak memory.
    return {key: found[sid] for key, sid in ids.items()}


def retire_fields(
    series: DesiredSeries, *, now: datetime, live: Mapping[str, Any] | None = None
) -> DesiredSeries:
    """A series marked ``retire: true`` ends today: its validTillDate is the current UTC day.

    A live series that already ended keeps its end date, so the plan stays empty on the days
    after the retiring apply instead of moving the end to each new day.
    """
    if not series.options.retire:
        return series
    today = utc_day(now)
    ended = canonical("validTillDate", (live or {}).get("validTillDate", ABSENT))
    fields = dict(series.fields)
    fields["validTillDate"] = ended if isinstance(ended, str) and ended <= today else today
    return DesiredSeries(
        key=series.key,
        file=series.file,
        fields=fields,
        declared=series.declared | {"validTillDate"},
        options=series.options,
        lines=series.lines,
        digest=series.digest,
        held=series.held - {"validTillDate"},
    )


def ignore_rules(
    series: DesiredSeries, global_rules: Sequence[IgnoreRule]
) -> dict[str, IgnoreRule]:
    """The rules that apply to ``series``: its own win over the settings' global ones."""
    rules = {rule.field: rule for rule in global_rules}
    rules.update({rule.field: rule for rule in series.options.ignore})
    return rules


def plan_series(
    series: DesiredSeries,
    *,
    live: Mapping[str, Any] | None,
    series_id: int | None,
    rules: Mapping[str, IgnoreRule],
    intent_note: str = "",
    found_note: str = "",
    last_declared: Collection[str] | None = None,
    digest: bool = True,
) -> SeriesPlan:
    """The plan of one series: pure, given its desired and live forms.

    ``last_declared``: the fields the series declared at its last successful apply (the
    state's record; None when there is none). An existing series gets the resets of field
    ownership on top of its declared changes (``ownership.resets_for``): a field declared
    then and not now goes back to the server's default, a dependent field with the fields it
    depends on. A create has nothing to reset.

    An update always carries the digest of the live series (the apply's check-and-set needs
    it); an unchanged series only with ``digest`` (a saved plan's staleness check reads it).
    """
    declared = set(series.declared)
    compared = declared - set(rules)
    if live is None:
        # Held defaults (owns: all) are sent, not listed: one note says so.
        changes = tuple(
            FieldChange(field=name, before=None, after=canonical(name, series.fields[name]))
            for name in sorted(declared - series.held)
        )
        notes = [intent_note] if intent_note else []
        if series.held:
            notes.append(held_create_note(len(series.held)))
        if any(BY_NAME[name].set_on_update_only for name in declared):
            notes.append(
                "the server makes its own seriesCode on create: the apply sets this one (which "
                "marks the series as this key's in the CRM) with a PUT right after"
            )
        return SeriesPlan(
            key=series.key,
            file=series.file,
            action=Action.CREATE,
            changes=changes,
            desired=dict(series.fields),
            retire=series.options.retire,
            notes=tuple(notes),
        )
    resets = resets_for(series, last_declared=last_declared, live=live, rules=rules)
    declared_changes = held_changes(
        diff_fields(desired=series.fields, live=live, fields=compared - resets.unseen),
        held=series.held,
    )
    changes = tuple(sorted((*declared_changes, *resets.changes), key=lambda c: c.field))
    desired = {
        c.field: series.fields[c.field] for c in declared_changes if c.field in series.fields
    }
    desired.update(resets.body)
    if changes:
        desired.update(resets.carried)  # a PUT replaces the series: never clear them
    ignored = tuple(
        IgnoredField(
            field=rule.field,
            reason=rule.reason,
            source=rule.source,
            differs=rule.field in declared
            and canonical(rule.field, series.fields.get(rule.field, ABSENT))
            != canonical(rule.field, live.get(rule.field, ABSENT)),
        )
        for rule in sorted(rules.values(), key=lambda r: r.field)
        if rule.field in declared
    )
    issued = live.get("numIssued")
    action = Action.UPDATE if changes else Action.UNCHANGED
    return SeriesPlan(
        key=series.key,
        file=series.file,
        action=action,
        series_id=series_id,
        changes=changes,
        desired=desired,
        live_digest=live_digest(live) if digest or action is Action.UPDATE else None,
        live_issued=issued if isinstance(issued, int) else None,
        ignored=ignored,
        retire=series.options.retire,
        notes=((found_note,) if found_note else ()) + resets.notes,
    )


def find_moves(
    *,
    creates: Sequence[DesiredSeries],
    orphans: Mapping[str, Mapping[str, Any]],
    state: State,
    command: Callable[[str], str] = lambda words: f"reconciler {words}",
) -> list[Move]:
    """Vanished keys whose live series matches a new file: most likely renames.

    A match is the same discountCode (the POS identifier) or every declared field equal.
    """
    moves: list[Move] = []
    taken: set[str] = set()
    for series in creates:
        for old_key, live in sorted(orphans.items()):
            if old_key in taken:
                continue
            code = series.fields.get("discountCode")
            same_code = code is not None and canonical("discountCode", code) == canonical(
                "discountCode", live.get("discountCode", ABSENT)
            )
            same_all = not diff_fields(desired=series.fields, live=live, fields=series.declared)
            if same_code or same_all:
                why = (
                    "its declared fields all match"
                    if same_all
                    else "it has the same discountCode as"
                )
                moves.append(
                    Move(
                        from_key=old_key,
                        to_key=series.key,
                        series_id=state.ids[old_key],
                        reason=f"{why} the live series of the vanished key {old_key!r}",
                        command=command(
                            f"state mv {shlex.quote(old_key)} {shlex.quote(series.key)}"
                        ),
                    )
                )
                taken.add(old_key)
                break
    return moves


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
) -> Plan:
    """Compare the files with the live series of ``state``'s environment.

    Identity comes from the org (one list call, always: a plan that cannot reach the API fails
    instead of reading "nothing exists"); the state only saves lookups. ``command`` spells a
    suggested command with the flags that reach this environment. Without ``digests`` only
    the updates carry the digest of their live series: enough to apply the plan now, not to
    save it (a saved plan is refused when any of its series changed since).
    """
    moment = now or now_utc()
    loaded = environment_view(loaded, state.environment)
    desired = {s.key: s for s in loaded.series}
    target_set = set(targets)
    left_out = sorted(target_set & loaded.left_out)
    if left_out:
        raise PlanError(
            f"--target names keys that are not in environment {state.environment!r} (their "
            f"files' only: leaves it out): {left_out}"
        )
    unknown = sorted(target_set - set(desired) - set(state.ids))
    if unknown:
        raise PlanError(f"--target names keys that are neither files nor in the state: {unknown}")
    everything = (set(desired) | set(state.ids)) - loaded.left_out
    in_scope = sorted(target_set) if target_set else sorted(everything)
    org = OrgIndex.of(await client.list_series())
    wanted = {k: desired[k].fields for k in in_scope if k in desired}
    distinct = distinct_from(desired.values())
    verdicts = identify(desired=wanted, state=state, org=org, distinct=distinct)
    orphan_ids = {k: state.ids[k] for k in in_scope if k not in desired and k in state.ids}
    gone = await _unlisted(
        client=client, verdicts=verdicts, orphans=orphan_ids, org=org, state=state
    )
    ids = {k: v.series_id for k, v in verdicts.items() if isinstance(v, Known)}
    ids.update({k: sid for k, sid in orphan_ids.items() if k not in gone})
    live = await fetch_live(client=client, ids=ids, environment=state.environment)
    links = _link(
        desired=desired,
        in_scope=in_scope,
        verdicts=verdicts,
        state=state,
        org=org,
        distinct=distinct,
    )

    plans: list[SeriesPlan] = []
    creates: list[DesiredSeries] = []
    blocked: list[Blocked] = []
    said: list[PlanWarning] = []
    for key in in_scope:
        series = desired.get(key)
        if series is None:
            continue
        resolved = resolve(series, links.ids)
        stuck = [k for k in resolved.waiting if k not in links.creating]
        if stuck:
            blocked.append(_blocked_reference(series, stuck, links))
            continue
        series = retire_fields(resolved.series, now=moment, live=live.get(key))
        rules = ignore_rules(series, loaded.settings.ignore)
        verdict = verdicts[key]
        if isinstance(verdict, Known):
            if verdict.how is How.INTENT or key in state.unmarked:
                series = with_marker(series)  # the marker its create never got to set
            found = _found_note(verdict)
            planned = plan_series(
                series,
                live=live[key],
                series_id=verdict.series_id,
                rules=rules,
                found_note=found,
                last_declared=state.fields.get(key),
                digest=digests,
            )
            if planned.action is Action.UNCHANGED:
                # An unchanged series is not shown: what ownership says of it (a released
                # line, a field the answer does not show) is a warning of the plan.
                said += [
                    PlanWarning(message=n, key=key, file=series.file)
                    for n in planned.notes
                    if n != found
                ]
            plans.append(_with_notes(planned, resolved.notes))
            continue
        if isinstance(verdict, Blocking):
            blocked.append(_blocked(series, verdict, command=command))
            continue
        note = _intent_note(verdict.intent) if verdict.intent is not None else ""
        if verdict.intent is None:
            creates.append(series)
        planned = plan_series(
            with_marker(series), live=None, series_id=None, rules=rules, intent_note=note
        )
        plans.append(_with_notes(planned, resolved.notes))

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
        wanted, state=state, org=org, desired=desired, command=command, distinct=distinct
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
        targets=tuple(sorted(target_set)),
    )
    return _with_review_facts(plan, live=live, org=org, moment=moment)


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
) -> list[PlanWarning]:
    """Series beside a key's own with its discountCode that no key manages (``strays``)."""
    found = strays(desired=wanted, state=state, org=org, distinct=distinct)
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
