"""The plan of one series, and the likely renames: pure functions of desired and live forms.

``planner.build_plan`` finds each key's live series (identity, reads) and calls these; the
check after an apply (``engine/verify.py``) calls them on what it read back, so both judge a
series by the same rules.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from reconciler.engine.diff import FieldChange, diff_fields, live_digest
from reconciler.engine.ownership import held_changes, held_create_note, resets_for
from reconciler.engine.plan import Action, IgnoredField, Move, SeriesPlan
from reconciler.engine.state import State
from reconciler.model.canonical import canonical, utc_day
from reconciler.model.catalogue import ABSENT, BY_NAME
from reconciler.model.desired import DesiredSeries, IgnoreRule


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


__all__ = ["find_moves", "ignore_rules", "plan_series", "retire_fields"]
