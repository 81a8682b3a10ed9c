"""Three-way field ownership: which live fields an update resets, and to what. Pure.

A series manages the fields its file (and the settings' defaults) declare. The state records,
per environment and key, the fields declared at the last successful apply. Comparing the
three (declared now, declared then, live) gives what ``kubectl apply`` gets from its
last-applied-configuration:

- a field declared now is compared as usual (not here: ``per_series.plan_series``);
- a field declared then and not now is *reset* to the server's default, the value the
  documented answers to minimal creates show (``reconciler.model.defaults``), shown as
  ``maxRedeem: 500 → -1 (no longer in the file: server default)``. A field with no such
  value is *released*: left as it is in the CRM, with a note saying why. That is every field
  the server derives when the series is made (info and tag from the description,
  redemptionValidFrom from the day) and every field no page shows a default for: the tool
  never resets to a guess;
- a field never declared is never touched: another person or tool owns it;
- a field under an ignore rule is never touched, whatever was declared (ignore rules win);
- a dependent field (``expiryStrategyValue`` of ``expiryStrategyType``) whose value breaks the
  catalogue's rules under the new combination of its controlling fields is reset with them,
  so a PUT (which replaces the whole series) never carries a stale value the combination
  forbids. Which fields depend on which is the catalogue's ``DEPENDENCIES`` table.

A file with ``reconciler: owns: all`` (every imported file) declares every field with a
documented default, at that default where the file writes nothing: the loader merges them
(``DesiredSeries.held``), so a CRM edit of one shows as drift, noted ``HELD_NOTE``.

Two fields appear in no answer on any page (``Field.answered``: productInfo,
redemptionOrgEntityDetails). A series that declares one cannot compare it when the live
answer leaves it out; a PUT, which replaces the whole series, would then clear it. So every
update of such a series re-sends the file's value (``Resets.carried``), and the plan says
the field is not compared (``unseen``).

With no record of what was declared (a state written before this feature, a rebuilt state),
nothing is reset: the tool never guesses that a field was its own.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.engine.diff import FieldChange
from reconciler.model.canonical import canonical
from reconciler.model.catalogue import ABSENT, BY_NAME, DEPENDENCIES, RULES, broken_rules
from reconciler.model.desired import DesiredSeries, IgnoreRule

RESET_NOTE = "no longer in the file: server default"
HELD_NOTE = "not in the file: the server's default, held by owns: all"


@dataclass(frozen=True)
class Reset:
    """One field an update sets back: ``value`` (API form) goes into the PUT body."""

    field: str
    value: Any
    change: FieldChange
    note: str


@dataclass(frozen=True)
class Resets:
    """What ownership adds to the plan of one existing series."""

    resets: tuple[Reset, ...] = ()
    # Said to the user, changing nothing: a released field, a kept value, an unseen field.
    notes: tuple[str, ...] = ()
    # Declared fields the live answer does not show (``Field.answered`` false): never
    # compared, and sent with every update of the series (merged into its ``desired`` when
    # it has changes) so the PUT does not clear them (API form).
    carried: Mapping[str, Any] = field(default_factory=dict)

    @property
    def changes(self) -> tuple[FieldChange, ...]:
        return tuple(r.change for r in self.resets)

    @property
    def body(self) -> dict[str, Any]:
        """The API-form values to merge into the series' ``desired`` (the PUT sends them)."""
        return {r.field: r.value for r in self.resets}

    @property
    def change_notes(self) -> dict[str, str]:
        """field → note, for the renderers to show after the change."""
        return {r.field: r.note for r in self.resets}

    @property
    def unseen(self) -> frozenset[str]:
        """The declared fields the plan cannot compare: the live answer does not show them."""
        return frozenset(self.carried)


def server_default(name: str) -> Any:
    """What a removed line is reset to (API form): the value the documented answers show the
    server storing when the field is left out; ``ABSENT`` when no page shows one (a required
    field, seriesCode, a derived value such as info, or a field no answer documents): such
    a field is released, left as it is."""
    spec = BY_NAME[name]
    return spec.default if spec.has_default else ABSENT


def release_note(name: str, live: Any) -> str:
    """Why a removed line leaves ``name`` as it is in the CRM."""
    spec = BY_NAME[name]
    kept = f"left as it is in the CRM ({_show(live)})"
    if spec.derived:
        return (
            f"{name} is no longer in the file: the server made it from {spec.derived} when the "
            f"series was made, and no page shows a value to go back to: {kept}"
        )
    return (
        f"{name} is no longer in the file and no page shows what the server stores without "
        f"it: {kept}; declare the value you want to change it"
    )


def field_resets(
    *,
    desired: Mapping[str, Any],
    declared: Collection[str],
    last_declared: Collection[str] | None,
    live: Mapping[str, Any],
    ignored: Collection[str] = (),
) -> Resets:
    """The resets of one existing series.

    ``desired``: the series' API-form fields (defaults merged); ``declared``: the fields it
    declares now; ``last_declared``: those it declared at the last successful apply (None:
    not recorded, nothing is reset); ``live``: the live series; ``ignored``: fields under an
    ignore rule.
    """
    declared = frozenset(declared)
    skip = frozenset(ignored)
    released = sorted(
        name
        for name in frozenset(last_declared or ()) - declared - skip
        if name in BY_NAME and BY_NAME[name].writable
    )
    targets: dict[str, tuple[Any, str]] = {}
    notes: list[str] = []
    for name in released:
        value = server_default(name)
        if value is ABSENT:
            if canonical(name, live.get(name, ABSENT)) is not None:
                notes.append(release_note(name, live.get(name)))
            continue
        targets[name] = (value, RESET_NOTE)

    def sent(name: str) -> Any:
        """The value the PUT will carry for ``name``."""
        if name in declared and name not in skip:
            return desired.get(name)
        if name in targets:
            return targets[name][0]
        return live.get(name)

    for dep in DEPENDENCIES:
        if dep.field in skip or dep.field in declared:
            continue  # ignore rules win; a declared value is the validator's to check
        moved = any(canonical(c, sent(c)) != canonical(c, live.get(c)) for c in dep.on)
        if not moved and dep.field not in targets:
            continue  # nothing this plan does makes the live value stale
        values = {c: sent(c) for c in dep.on}
        rules = tuple(r for r in RULES if r.name in dep.rules)
        carried = sent(dep.field)
        only = dep.only(values)
        if not broken_rules({**values, dep.field: carried}, rules=rules):
            # The value the PUT carries (the live one, or the default a removed line goes
            # back to) is one the combination allows: nothing to reset.
            if moved and only is ABSENT and dep.field not in targets and carried is not None:
                notes.append(
                    f"{dep.field} keeps the CRM's {_show(carried)} with {_combo(values)}: "
                    "declare it if that is not meant"
                )
            continue
        if only is ABSENT:
            continue
        targets[dep.field] = (only, f"reset with {_combo(values)}: {dep.why}")

    # A default the catalogue's rules flag in the series the PUT will carry (-1 days with
    # DAYS) is never sent: the line is released instead, and the plan says so.
    defaulted = {n for n, (_, note) in targets.items() if note == RESET_NOTE}
    if defaulted:  # (most series: no removed line, nothing to check)
        after = {**live, **{n: sent(n) for n in (*declared, *targets)}}
        defaulted &= {r.field for r in broken_rules(after)}
    for name in sorted(defaulted):
        notes.append(
            f"{name} is no longer in the file, and the server's default {_show(targets[name][0])} "
            f"breaks a rule of this series: left as it is in the CRM ({_show(live.get(name))})"
        )
        del targets[name]

    resets: list[Reset] = []
    for name in sorted(targets):
        value, note = targets[name]
        before = canonical(name, live.get(name, ABSENT))
        after = canonical(name, value)
        if before == after and type(before) is type(after):
            continue  # already so: nothing to send
        resets.append(Reset(name, value, FieldChange(name, before, after, note=note), note))

    carried_fields: dict[str, Any] = {}
    for name in sorted(declared - skip):
        spec = BY_NAME.get(name)
        if spec is None or spec.answered or name in live:
            continue
        if canonical(name, desired.get(name, ABSENT)) is None:
            continue  # "no value" declared: nothing to keep from being cleared
        carried_fields[name] = desired[name]
        notes.append(unseen_note(name))
    return Resets(resets=tuple(resets), notes=tuple(notes), carried=carried_fields)


def unseen_note(name: str) -> str:
    """What the plan says of a declared field the live answer does not show."""
    return (
        f"{name} is not in the CRM's answer (no page shows it answered): it cannot be "
        "compared, so a change to it alone is not planned; every update of this series sends "
        "the file's value, so an update never clears it"
    )


def held_changes(
    changes: tuple[FieldChange, ...], *, held: Collection[str]
) -> tuple[FieldChange, ...]:
    """``changes`` with the note ``HELD_NOTE`` on those of fields the file does not write
    but holds at their default (``reconciler: owns: all``)."""
    if not held:
        return changes
    return tuple(
        FieldChange(c.field, c.before, c.after, nested=c.nested, note=HELD_NOTE)
        if c.field in held and not c.note
        else c
        for c in changes
    )


def held_create_note(count: int) -> str:
    """What the plan of a create says of the fields it sends at their held default."""
    return (
        f"{count} more fields are sent at the server's documented default (owns: all), so "
        "the new series holds them from the start"
    )


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _combo(values: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{name} {_show(value) if not isinstance(value, str) else value}"
        for name, value in values.items()
    )


def resets_for(
    series: DesiredSeries,
    *,
    last_declared: Collection[str] | None,
    live: Mapping[str, Any],
    rules: Mapping[str, IgnoreRule],
) -> Resets:
    """``field_resets`` for a loaded series and its ignore rules (``per_series.ignore_rules``)."""
    return field_resets(
        desired=series.fields,
        declared=series.declared,
        last_declared=last_declared,
        live=live,
        ignored=rules.keys(),
    )


def fields_to_record(series: DesiredSeries) -> frozenset[str]:
    """The set the state records for ``series`` after it was applied: what it declares.

    Ignored fields are recorded too: an ignore rule is checked when resets are planned, so
    lifting a rule later does not forget that the field was once declared.
    """
    return frozenset(name for name in series.declared if name in BY_NAME)


__all__ = [
    "HELD_NOTE",
    "RESET_NOTE",
    "Reset",
    "Resets",
    "field_resets",
    "fields_to_record",
    "held_changes",
    "held_create_note",
    "release_note",
    "resets_for",
    "server_default",
    "unseen_note",
]
