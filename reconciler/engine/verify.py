"""After an apply, what it wrote read back and judged again: the plan of those series.

The promise is "after an apply, a plan is empty" for what the apply touched. The check does
not plan the whole org again (at 10,000 series that was about 500 calls, most of an apply's
time under a rate limit): it reads back, by id and in batches, every series the apply wrote
or tried to write, and plans each one again from its file, exactly as a plan would
(``per_series.plan_series``: the same canonical forms, ignore rules, field ownership, the
marker a create sets). Nothing is taken from an answer: a server that answered a PUT with
the value sent but did not store it shows as a change here. The series the apply did not
touch, and the rest of the org, are the scheduled drift check's.

Ids come from the state as this apply left it: the plan's (checked against the org's list
when the plan was made) and those of its creates (each read back before it was recorded).
A key with no id is a create whose outcome is unknown: it is planned as a create again. An
id a read no longer returns is blocked: the apply wrote to a series the CRM does not give
back. The plan's blocked keys and likely renames are carried over: the apply left them to a
person, so it has not converged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from reconciler import __version__
from reconciler.engine.identity import with_marker
from reconciler.engine.per_series import ignore_rules, plan_series, retire_fields
from reconciler.engine.plan import Action, Blocked, Plan, SeriesPlan
from reconciler.engine.result import Outcome, SeriesOutcome
from reconciler.engine.state import State
from reconciler.files.loader import LoadResult
from reconciler.model.canonical import timestamp
from reconciler.model.desired import DesiredSeries
from reconciler.model.ports import SeriesReader
from reconciler.model.references import resolve

# Outcomes after which a series may have been written: done, or failed part-way (a PUT whose
# answer was lost may have landed). Skipped and not-started series were not sent.
_WRITTEN = frozenset({Outcome.DONE, Outcome.FAILED})
_UNKNOWN = (
    "the outcome of its create is unknown (see the apply's result): the next apply looks for "
    "its series in the CRM before creating it again"
)


def written_keys(plan: Plan, outcomes: Iterable[SeriesOutcome]) -> tuple[str, ...]:
    """The keys of ``plan`` that the apply created or updated, or tried to."""
    acted = {s.key for s in plan.series if s.action in (Action.CREATE, Action.UPDATE)}
    return tuple(sorted({o.key for o in outcomes if o.outcome in _WRITTEN} & acted))


async def verify_written(
    *,
    plan: Plan,
    outcomes: Iterable[SeriesOutcome],
    loaded: LoadResult,
    state: State,
    client: SeriesReader,
    now: datetime,
    command: Callable[[str], str],
) -> Plan:
    """The plan, made now, of every series ``plan``'s apply wrote (``written_keys``), from
    their files and what a read by id returns: empty when the apply converged.

    ``loaded`` is the view of ``plan``'s environment; ``state`` the state after the apply.
    One batched read for all of them (``client.get_series`` splits it by the batch size).
    """
    keys = written_keys(plan, outcomes)
    planned = {s.key: s for s in plan.series}
    desired = {s.key: s for s in loaded.series}
    ids = {k: state.ids[k] for k in keys if k in state.ids and k in desired}
    found: Mapping[int, dict[str, Any]] = {}
    if ids:
        found = (await client.get_series(sorted(set(ids.values())))).found
    series: list[SeriesPlan] = []
    blocked: list[Blocked] = []
    for key in keys:
        file = desired.get(key)
        if file is None:  # a plan this process made from these files: never
            continue
        resolved = resolve(file, state.ids)
        if resolved.waiting:
            blocked.append(_blocked(file, f"it names {', '.join(resolved.waiting)}, not created"))
            continue
        wanted = _as_planned(resolved.series, planned[key])
        sid = ids.get(key)
        if sid is None:
            # No id: the create's outcome is unknown (its intent says so): still to create.
            note = _UNKNOWN if key in state.intents else ""
            series.append(
                plan_series(
                    with_marker(wanted), live=None, series_id=None, rules={}, intent_note=note
                )
            )
            continue
        live = found.get(sid)
        if live is None:
            blocked.append(
                _blocked(
                    file,
                    f"the apply wrote series {sid}, which a read by id no longer returns: "
                    f"plan again (`{command('plan')}`) to see what the CRM holds",
                )
            )
            continue
        wanted = retire_fields(wanted, now=now, live=live)
        series.append(
            plan_series(
                wanted,
                live=live,
                series_id=sid,
                rules=ignore_rules(wanted, loaded.settings.ignore),
                last_declared=state.fields.get(key),
                digest=False,
            )
        )
    return Plan(
        environment=plan.environment,
        tool_version=__version__,
        created_at=timestamp(now),
        desired_digest=plan.desired_digest,
        series=tuple(series),
        # What the plan left to a person is still theirs: the apply did not touch it.
        moves=plan.moves,
        blocked=(*plan.blocked, *blocked),
        targets=keys,
    )


def _as_planned(series: DesiredSeries, item: SeriesPlan) -> DesiredSeries:
    """``series`` with the marker its plan set (a create's, or one an earlier create never
    got to set): the read-back must carry it too."""
    return with_marker(series) if "seriesCode" in item.desired else series


def _blocked(series: DesiredSeries, reason: str) -> Blocked:
    return Blocked(key=series.key, file=series.file, reason=reason)


__all__ = ["verify_written", "written_keys"]
