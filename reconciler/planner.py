"""Build a Plan: desired series + state + live series (fetched) → Plan.

The planner is one of the two places (with the applier) that wire the pure layers to I/O:
it reads the live series through the client, and nothing else. It never writes.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from reconciler import __version__
from reconciler.canonical import canonical, utc_day
from reconciler.catalogue import ABSENT, BY_NAME
from reconciler.desired import DesiredSeries, IgnoreRule
from reconciler.diff import FieldChange, diff_fields, live_digest
from reconciler.errors import MissingId, MissingSeries, PlanError
from reconciler.identity import How, Known, Lookalike, OrgIndex, identify, with_marker
from reconciler.loader import LoadResult
from reconciler.plan import (
    Action,
    Blocked,
    IgnoredField,
    Move,
    Orphan,
    Plan,
    PlanWarning,
    SeriesPlan,
    now_utc,
    timestamp,
)
from reconciler.problems import Severity
from reconciler.state import Intent, State


class SeriesReader(Protocol):
    """What the planner needs of the client."""

    async def get_series(self, ids: Sequence[int]) -> Any: ...

    async def list_series(self) -> list[dict[str, Any]]: ...


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
    digest: bool = True,
) -> SeriesPlan:
    """The plan of one series: pure, given its desired and live forms.

    An update always carries the digest of the live series (the apply's check-and-set needs
    it); an unchanged series only with ``digest`` (a saved plan's staleness check reads it).
    """
    declared = set(series.declared)
    compared = declared - set(rules)
    if live is None:
        changes = tuple(
            FieldChange(field=name, before=None, after=canonical(name, series.fields[name]))
            for name in sorted(declared)
        )
        notes = [intent_note] if intent_note else []
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
    changes = diff_fields(desired=series.fields, live=live, fields=compared)
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
        desired={c.field: series.fields[c.field] for c in changes if c.field in series.fields},
        live_digest=live_digest(live) if digest or action is Action.UPDATE else None,
        live_issued=issued if isinstance(issued, int) else None,
        ignored=ignored,
        retire=series.options.retire,
        notes=(found_note,) if found_note else (),
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
    desired = {s.key: s for s in loaded.series}
    target_set = set(targets)
    unknown = sorted(target_set - set(desired) - set(state.ids))
    if unknown:
        raise PlanError(f"--target names keys that are neither files nor in the state: {unknown}")
    in_scope = sorted(target_set) if target_set else sorted(set(desired) | set(state.ids))
    org = OrgIndex.of(await client.list_series())
    wanted = {k: desired[k].fields for k in in_scope if k in desired}
    verdicts = identify(desired=wanted, state=state, org=org)
    ids = {k: v.series_id for k, v in verdicts.items() if isinstance(v, Known)}
    ids.update({k: state.ids[k] for k in in_scope if k not in desired and k in state.ids})
    live = await fetch_live(client=client, ids=ids, environment=state.environment)

    plans: list[SeriesPlan] = []
    creates: list[DesiredSeries] = []
    blocked: list[Blocked] = []
    for key in in_scope:
        series = desired.get(key)
        if series is None:
            continue
        series = retire_fields(series, now=moment, live=live.get(key))
        rules = ignore_rules(series, loaded.settings.ignore)
        verdict = verdicts[key]
        if isinstance(verdict, Known):
            if verdict.how is How.INTENT:
                series = with_marker(series)  # the marker its create never got to set
            plans.append(
                plan_series(
                    series,
                    live=live[key],
                    series_id=verdict.series_id,
                    rules=rules,
                    found_note=_found_note(verdict),
                    digest=digests,
                )
            )
            continue
        if isinstance(verdict, Lookalike):
            blocked.append(_blocked(series, verdict, command=command))
            continue
        note = _intent_note(verdict.intent) if verdict.intent is not None else ""
        if verdict.intent is None:
            creates.append(series)
        plans.append(
            plan_series(
                with_marker(series), live=None, series_id=None, rules=rules, intent_note=note
            )
        )

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
    return Plan(
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


def _blocked(
    series: DesiredSeries, verdict: Lookalike, *, command: Callable[[str], str]
) -> Blocked:
    first = verdict.series_ids[0]
    adopt = command(f"import {first} --key {series.key}")
    if len(verdict.series_ids) == 1:
        todo = f"exists in the CRM as id {first}: adopt it with `{adopt}`"
    else:
        todo = f"adopt the right one with `{command('import ID --key ' + series.key)}`"
    return Blocked(key=series.key, file=series.file, reason=f"{verdict.reason}; {todo}")
