"""Three-way field ownership: which live fields an update resets, and to what. Pure.

A series manages the fields its file (and the settings' defaults) declare. The state records,
per environment and key, the fields declared at the last successful apply. Comparing the
three (declared now, declared then, live) gives what ``kubectl apply`` gets from its
last-applied-configuration:

- a field declared now is compared as usual (not here: ``planner.plan_series``);
- a field declared then and not now is *reset* to the server's default from the catalogue,
  shown as ``maxRedeem: 500 → -1 (no longer in the file: server default)``;
- a field never declared is never touched: another person or tool owns it;
- a field under an ignore rule is never touched, whatever was declared (ignore rules win);
- a dependent field (``expiryStrategyValue`` of ``expiryStrategyType``) that the new
  combination of its controlling fields allows only one value for is reset with them, so a
  PUT (which replaces the whole series) never carries a stale value the combination forbids.
  Which fields depend on which is the catalogue's ``DEPENDENCIES`` table.

With no record of what was declared (a state written before this feature, a rebuilt state),
nothing is reset: the tool never guesses that a field was its own.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.engine.diff import FieldChange
from reconciler.model.canonical import canonical
from reconciler.model.catalogue import ABSENT, BY_NAME, DEPENDENCIES
from reconciler.model.desired import DesiredSeries, IgnoreRule

RESET_NOTE = "no longer in the file: server default"


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
    # Said to the user, changing nothing: a released field with no default, a kept value.
    notes: tuple[str, ...] = ()

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


def server_default(name: str) -> Any:
    """What a field is reset to (API form): its catalogue default, else its "no value"
    spelling (``""``, ``[]``, ``{}``); ``ABSENT`` when the server has neither (a required
    field, seriesCode): such a field is left as it is."""
    spec = BY_NAME[name]
    if spec.default is not ABSENT:
        return spec.default
    for value in spec.unset:
        if value is not None:
            return value
    return ABSENT


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
            if live.get(name) is not None:
                notes.append(
                    f"{name} is no longer in the file and the server has no default for it: "
                    "left as it is in the CRM"
                )
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
        only = dep.only(values)
        if only is ABSENT:
            current = live.get(dep.field)
            if moved and dep.field not in targets and current is not None:
                notes.append(
                    f"{dep.field} keeps the CRM's {_show(current)} with {_combo(values)}: "
                    "declare it if that is not meant"
                )
            continue
        previous = targets.get(dep.field)
        if previous is not None and canonical(dep.field, previous[0]) == canonical(dep.field, only):
            continue  # the server default is the value the combination needs
        targets[dep.field] = (only, f"reset with {_combo(values)}: {dep.why}")

    resets: list[Reset] = []
    for name in sorted(targets):
        value, note = targets[name]
        before = canonical(name, live.get(name, ABSENT))
        after = canonical(name, value)
        if before == after and type(before) is type(after):
            continue  # already so: nothing to send
        resets.append(Reset(name, value, FieldChange(name, before, after, note=note), note))
    return Resets(resets=tuple(resets), notes=tuple(notes))


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
    """``field_resets`` for a loaded series and its ignore rules (``planner.ignore_rules``)."""
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
    "RESET_NOTE",
    "Reset",
    "Resets",
    "field_resets",
    "fields_to_record",
    "resets_for",
    "server_default",
]
