"""The repository's policy rules, applied to a plan. Pure.

``evaluate`` says which rules of ``policy.yaml`` (``reconciler.files.policy``) a plan
matches; ``with_policy`` puts the findings into the plan a reviewer reads; ``enforce`` is the
one call an apply makes on the plan it is about to apply, whatever a plan file says.

A rule looks only at series the plan creates or updates, and at a series only when the
plan touches what the rule reads: a create, or a change of one of the rule's fields
(``TRIGGERS``). So a 60% series approved once is not refused again for a new description,
while any change that makes it 70% is. ``frozen_once_issued`` and ``protected`` look at any
update (and ``protected`` at a create) of the series they cover.

Levels: ``warn`` is shown; ``approve`` refuses the plan and the apply unless an override
names the rule (``RULE=REASON``, or ``RULE@KEY=REASON`` for one series) with a reason;
``deny`` refuses, and no override lifts it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from fnmatch import fnmatchcase
from typing import Any

from reconciler.engine.facts import Level, PolicyFinding
from reconciler.engine.plan import Action, Plan, SeriesPlan
from reconciler.errors import PolicyRefused, ReconcilerError
from reconciler.files.policy import Policy, PolicyRule
from reconciler.model.canonical import canonical
from reconciler.model.catalogue import ABSENT

# The fields whose change brings a series under a check (besides its create).
TRIGGERS: dict[str, tuple[str, ...]] = {
    "percent_above": ("discountType", "discountValue"),
    "amount_above": ("discountType", "discountValue"),
    "validity_longer_than_days": ("validTillDate", "redemptionValidFrom"),
    "description_must_match": ("description",),
}
_OVERRIDE = re.compile(
    r"^(?P<rule>[a-z0-9][a-z0-9-]{0,62})(@(?P<key>[^=]+))?=(?P<reason>.*)$", re.S
)


@dataclass(frozen=True)
class Override:
    """Lifts approve rule ``rule`` (for series ``key`` only, when given), for ``reason``."""

    rule: str
    reason: str
    key: str = ""
    by: str = ""
    source: str = ""  # where it came from: --override, or the variable CI sets

    def covers(self, finding: PolicyFinding) -> bool:
        return self.rule == finding.rule and self.key in ("", finding.key)

    def text(self) -> str:
        scope = f"@{self.key}" if self.key else ""
        return f"{self.rule}{scope}: {self.reason}" + (f" (by {self.by})" if self.by else "")

    def to_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "key": self.key,
            "reason": self.reason,
            "by": self.by,
            "source": self.source,
        }


def parse_overrides(
    texts: Iterable[str], *, by: str = "", source: str = ""
) -> tuple[Override, ...]:
    """``RULE=REASON`` or ``RULE@KEY=REASON`` each; a malformed one, or one without a
    reason, is a ``ReconcilerError`` (an override is recorded: it must say why)."""
    out = []
    for text in texts:
        found = _OVERRIDE.match(text.strip())
        if found is None:
            raise ReconcilerError(
                f"override {text!r} is not RULE=REASON (or RULE@KEY=REASON): name the rule "
                "of policy.yaml it lifts and say why"
            )
        reason = " ".join(found["reason"].split())
        if not reason:
            raise ReconcilerError(
                f"override {found['rule']!r} gives no reason: an override is recorded in the "
                "apply's output and the ledger, so it must say why"
            )
        key = (found["key"] or "").strip()
        out.append(Override(found["rule"], reason, key, by, source))
    return tuple(out)


def check_overrides(policy: Policy, overrides: Sequence[Override]) -> None:
    """Refuse an override that names no rule of ``policy``, or a deny rule."""
    for item in overrides:
        # A rule id may be in the files' policy and in the trusted copy, with two levels.
        rules = [r for r in policy.rules if r.id == item.rule]
        if not rules:
            known = ", ".join(sorted({r.id for r in policy.rules})) or "none: no policy.yaml"
            raise ReconcilerError(
                f"override {item.rule!r} names no rule of the policy (its rules: {known})"
            )
        if any(rule.level == Level.DENY.value for rule in rules):
            raise ReconcilerError(
                f"rule {item.rule!r} is a deny rule: no override lifts it (change the files, "
                "or the policy in a reviewed pull request of its own)"
            )


def evaluate(plan: Plan, *, policy: Policy) -> tuple[PolicyFinding, ...]:
    """Every (rule, series) of ``plan`` that ``policy`` matches in the plan's environment,
    sorted: the strictest level first."""
    found: dict[tuple[str, str], PolicyFinding] = {}
    today = _plan_day(plan)
    for rule in policy.rules:
        if rule.environments and plan.environment not in rule.environments:
            continue
        for series in plan.series:
            if series.action is Action.UNCHANGED or not _covers(rule, series.key):
                continue
            why = _matches(rule, series, today=today)
            if why is None:
                continue
            message = why + (f" ({rule.reason})" if rule.reason else "")
            finding = PolicyFinding(rule.id, Level(rule.level), series.key, message)
            held = found.get((rule.id, series.key))
            if held is None or finding.level.rank > held.level.rank:
                found[(rule.id, series.key)] = finding
    return tuple(sorted(found.values(), key=lambda f: (-f.level.rank, f.rule, f.key)))


def overridden(
    findings: Sequence[PolicyFinding], overrides: Sequence[Override]
) -> tuple[PolicyFinding, ...]:
    """``findings`` with each approve finding an override covers marked with its reason."""
    out = []
    for finding in findings:
        cover = next((o for o in overrides if o.covers(finding)), None)
        if cover is not None and finding.level is Level.APPROVE:
            out.append(replace(finding, override=cover.reason, by=cover.by))
        else:
            out.append(finding)
    return tuple(out)


def with_policy(plan: Plan, *, policy: Policy, overrides: Sequence[Override] = ()) -> Plan:
    """``plan`` carrying what ``policy`` finds in it (for the reviewer: every format shows it)."""
    return replace(plan, policy=overridden(evaluate(plan, policy=policy), overrides))


def enforce(
    plan: Plan, *, policy: Policy, overrides: Sequence[Override] = ()
) -> tuple[Override, ...]:
    """The one policy check of an apply, on the plan it is about to apply: the findings are
    made again from ``plan`` (what a plan file says about them is never read). Raises
    ``PolicyRefused`` when a deny rule matches or an approve rule has no override; returns
    the overrides that lifted findings (the apply records them)."""
    check_overrides(policy, overrides)
    findings = overridden(evaluate(plan, policy=policy), overrides)
    blocking = [f for f in findings if f.blocking]
    if blocking:
        raise PolicyRefused([refusal(f) for f in blocking])
    used = [o for o in overrides if any(o.covers(f) and f.override for f in findings)]
    return tuple(used)


def refusal(finding: PolicyFinding) -> str:
    """One line saying why ``finding`` refuses the plan, and how to lift it if it can be."""
    if finding.level is Level.DENY:
        return f"{finding.key}: rule {finding.rule} (deny): {finding.message}"
    return (
        f"{finding.key}: rule {finding.rule} (approve): {finding.message}; to go ahead, "
        f"--override '{finding.rule}=REASON' (in CI: the override label, see docs/ci.md)"
    )


# --- the checks ----------------------------------------------------------------------------


def _covers(rule: PolicyRule, key: str) -> bool:
    return not rule.series or any(fnmatchcase(key, glob) for glob in rule.series)


def _matches(rule: PolicyRule, series: SeriesPlan, *, today: date) -> str | None:
    """Why ``rule`` matches ``series`` (None: it does not)."""
    fields = TRIGGERS.get(rule.check)
    untouched = fields is not None and not any(series.change(n) is not None for n in fields)
    if untouched and series.action is Action.UPDATE:
        return None
    facts = series.business
    if rule.check in ("percent_above", "amount_above"):
        kind, value = _discount(series)
        wanted = "PERC" if rule.check == "percent_above" else "ABS"
        if kind == wanted and isinstance(value, int | float) and value > float(rule.value):
            unit = "%" if wanted == "PERC" else ""
            return f"discountValue {_num(value)}{unit} ({kind}) is above {_num(rule.value)}{unit}"
        return None
    if rule.check == "validity_longer_than_days":
        window = facts.after if facts is not None else None
        if window is None:
            return None
        start = _date(window.start) or today
        end = _date(window.end)
        if end is None:
            return f"the series has no end date (longer than {rule.value} days)"
        days = (end - start).days + 1
        if days > int(rule.value):
            span = f"{window.start or start} to {window.end}"
            return f"valid {days} days ({span}), more than {rule.value}"
        return None
    if rule.check == "frozen_once_issued":
        issued = facts.issued if facts is not None else series.live_issued
        changed = [n for n in rule.value if series.change(n) is not None]
        if series.action is Action.UPDATE and issued and changed:
            return f"{', '.join(changed)} change(s) with {issued:,} coupons already issued"
        return None
    if rule.check == "protected":
        verb = "created" if series.action is Action.CREATE else "changed"
        return f"a protected series is {verb}"
    if rule.check == "description_must_match":
        text = _after_text(series, "description")
        if text is None or re.search(str(rule.value), text[:10_000]):
            return None
        return f"the description does not match {rule.value!r}"
    return None  # pragma: no cover - the loader admits only the checks above


def _discount(series: SeriesPlan) -> tuple[Any, Any]:
    facts = series.business
    if facts is not None and facts.discount_type:
        return facts.discount_type, facts.discount_value
    # A plan without business facts (made by hand): what it changes is all there is.
    kind = series.change("discountType")
    value = series.change("discountValue")
    return (kind.after if kind else None), (value.after if value else None)


def _after_text(series: SeriesPlan, name: str) -> str | None:
    change = series.change(name)
    if change is not None:
        return change.after if isinstance(change.after, str) else ""
    value = canonical(name, series.desired.get(name, ABSENT))
    return value if isinstance(value, str) else None


def _plan_day(plan: Plan) -> date:
    return _date(plan.created_at[:10]) or date.today()


def _date(day: str | None) -> date | None:
    try:
        return date.fromisoformat(day) if day else None
    except ValueError:
        return None


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


__all__ = [
    "Override",
    "check_overrides",
    "enforce",
    "evaluate",
    "overridden",
    "parse_overrides",
    "refusal",
    "with_policy",
]
