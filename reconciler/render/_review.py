"""What every format shows first: the changed series, the risky ones first, with badges;
and the warnings grouped by kind. Format-neutral and pure.

A series' badges are the levels of the policy rules it matches (``deny``, ``approve``,
``warn``), ``retire`` when it ends the series, and the concerns of the fields it changes
(``discount``, ``validity``, ``limits``, ``audience``: ``catalogue.CONCERNS``, the one place
that says which field is which). The order: a series a policy refuses, then one a policy
flags, then by the weightiest concern, then by the coupons already issued, then by key.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.engine.diff import FieldChange
from reconciler.engine.facts import Level, PolicyFinding, Window
from reconciler.engine.plan import Action, Plan, PlanWarning, SeriesPlan
from reconciler.model.catalogue import CONCERNS, Concern
from reconciler.render._values import value_text

# How much each badge weighs in the order (the heaviest of a series counts first).
_WEIGHT = {
    "deny": 100,
    "approve": 90,
    "warn": 60,
    "retire": 45,
    "new": 35,
    Concern.DISCOUNT.value: 40,
    Concern.VALIDITY.value: 40,
    Concern.LIMITS.value: 30,
    Concern.AUDIENCE.value: 20,
}
SUMMARY_FIELDS = 3  # changed fields named on a summary line; the rest are counted
# What a summary line says of a new series (the rest of its fields are counted).
CREATE_FIELDS = ("discountType", "discountValue", "validTillDate")
SUMMARY_VALUE = 32  # characters of a value on a summary line


@dataclass(frozen=True)
class Entry:
    """One changed series as the summary shows it."""

    series: SeriesPlan
    badges: tuple[str, ...]
    findings: tuple[PolicyFinding, ...]

    @property
    def blocking(self) -> bool:
        return any(f.blocking for f in self.findings)


def entries(plan: Plan) -> list[Entry]:
    """The series the plan creates or updates, risky first (see the module's docstring)."""
    by_key: dict[str, list[PolicyFinding]] = {}
    for finding in plan.policy:
        by_key.setdefault(finding.key, []).append(finding)
    out = []
    for series in plan.series:
        if series.action is Action.UNCHANGED:
            continue
        found = tuple(by_key.get(series.key, ()))
        out.append(Entry(series, badges_of(series, found), found))
    return sorted(out, key=_order)


def badges_of(series: SeriesPlan, findings: Sequence[PolicyFinding]) -> tuple[str, ...]:
    levels = sorted({f.level for f in findings}, key=lambda level: -level.rank)
    badges = [level.value for level in levels]
    if series.retire:
        badges.append("retire")
    if series.action is Action.CREATE:
        # A new series declares every concern: the badge that says so is "new".
        return (*badges, "new")
    concerns = {CONCERNS[c.field] for c in series.changes if c.field in CONCERNS}
    badges += [c.value for c in Concern if c in concerns]
    return tuple(badges)


def _order(entry: Entry) -> tuple[int, int, int, str]:
    weight = max((_WEIGHT.get(b, 0) for b in entry.badges), default=0)
    if entry.blocking:
        weight += 50
    issued = entry.series.business.issued if entry.series.business is not None else None
    return (
        -weight,
        -len(entry.badges),
        -(issued or entry.series.live_issued or 0),
        entry.series.key,
    )


def change_parts(series: SeriesPlan) -> tuple[list[str], int]:
    """The changed fields of a summary line (``discountValue 10 → 15``), at most
    ``SUMMARY_FIELDS`` of them, the weightiest first, and how many more there are. Raw text:
    each format escapes it."""
    if series.action is Action.CREATE:
        values = {c.field: c.after for c in series.changes} or dict(series.desired)
        named = [n for n in CREATE_FIELDS if values.get(n) is not None]
        parts = [f"{name} {_short(values[name])}" for name in named]
        return parts, max(0, len(values) - len(named))
    changes = _weightiest(list(series.changes))
    parts = [f"{c.field} {_short(c.before)} → {_short(c.after)}" for c in changes]
    return parts[:SUMMARY_FIELDS], max(0, len(parts) - SUMMARY_FIELDS)


def change_line(series: SeriesPlan) -> str:
    parts, more = change_parts(series)
    text = "; ".join(parts) or ("new series" if series.action is Action.CREATE else "")
    return text + (f" (+{more} more)" if more else "")


def _weightiest(changes: Sequence[FieldChange]) -> list[FieldChange]:
    def weight(change: FieldChange) -> int:
        concern = CONCERNS.get(change.field)
        return -_WEIGHT.get(concern.value, 0) if concern is not None else 0

    return sorted(changes, key=weight)


def _short(value: object) -> str:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}T00:00:00Z", value):
        return value[:10]  # a UTC day, as the server keeps it
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", value):
        return value  # a code or an enum reads better bare
    return value_text(value, limit=SUMMARY_VALUE)


def window_text(window: Window | None) -> str:
    """A validity window in words: ``2026-06-01 to 2026-08-31``, ``none``."""
    if window is None:
        return "none"
    return f"{window.start or '?'} to {window.end or 'no end'}"


def business_line(series: SeriesPlan) -> str:
    """``1,234 issued, 56 redeemed; active, ending in 12 days`` (empty: no facts)."""
    facts = series.business
    if facts is None:
        if series.action is Action.CREATE:
            return "new series"
        if series.live_issued is None:
            return ""
        return f"{series.live_issued:,} issued"
    return f"{facts.coupons_text()}; {facts.status_text()}"


# --- warnings -----------------------------------------------------------------------------

EXAMPLES = 3
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_WITH_DIGIT = re.compile(r"\S*\d\S*")


@dataclass(frozen=True)
class WarningGroup:
    kind: str
    warnings: tuple[PlanWarning, ...]

    @property
    def count(self) -> int:
        return len(self.warnings)

    @property
    def examples(self) -> tuple[PlanWarning, ...]:
        return self.warnings[:EXAMPLES]


@functools.lru_cache(maxsize=4096)  # 10,000 series often share one warning's text
def warning_kind(message: str) -> str:
    """A warning's message with what varies between series (quoted text, numbers, dates,
    ids) taken out: ``validTillDate … is already past: the series has ended (…)``."""
    first = message.split("\n", 1)[0]
    text = _QUOTED.sub("…", first)
    text = _WITH_DIGIT.sub("…", text)
    text = re.sub(r"…(\W*…)+", "…", text)
    return text if len(text) <= 140 else text[:139] + "…"


def warning_groups(warnings: Sequence[PlanWarning]) -> list[WarningGroup]:
    """Warnings grouped by kind, the largest group first."""
    groups: dict[str, list[PlanWarning]] = {}
    for warning in warnings:
        groups.setdefault(warning_kind(warning.message), []).append(warning)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [WarningGroup(kind, tuple(items)) for kind, items in ordered]


def warning_where(warning: PlanWarning) -> str:
    if warning.file:
        return warning.file + (f":{warning.line}" if warning.line else "")
    return warning.key


# --- policy -------------------------------------------------------------------------------


def blocking_findings(plan: Plan) -> list[PolicyFinding]:
    return [f for f in plan.policy if f.blocking]


def finding_line(finding: PolicyFinding) -> str:
    """Raw text: ``summer/sale-10: big-percentage (approve): … — overridden: reason``."""
    text = f"{finding.key}: rule {finding.rule} ({finding.level.value}): {finding.message}"
    if finding.override:
        text += f" — overridden: {finding.override}" + (f" (by {finding.by})" if finding.by else "")
    elif finding.level is Level.APPROVE:
        text += f" — needs an override: --override '{finding.rule}=REASON'"
    return text
