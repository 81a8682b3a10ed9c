"""Policy rules applied to plans (``reconciler.engine.policy``): which series each check
matches, when, in which environment; overrides; and the one enforcement call an apply makes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reconciler.engine.diff import FieldChange
from reconciler.engine.facts import Business, Level, PolicyFinding, Status, Window
from reconciler.engine.plan import Plan, SeriesPlan
from reconciler.engine.policy import (
    check_overrides,
    enforce,
    evaluate,
    overridden,
    parse_overrides,
    with_policy,
)
from reconciler.errors import PolicyRefused, ReconcilerError
from reconciler.files.policy import Policy, PolicyRule, merged
from tests.render.factory import create, plan, unchanged, update


def rule(check: str, value: Any, *, level: str = "approve", **kw: Any) -> PolicyRule:
    return PolicyRule(
        id=kw.pop("id", check.replace("_", "-")), level=level, check=check, value=value, **kw
    )


def facts(**kw: Any) -> Business:
    base: dict[str, Any] = {
        "status": Status.ACTIVE,
        "issued": 10,
        "redeemed": 1,
        "discount_type": "PERC",
        "discount_value": 60,
        "before": Window("2026-01-01", "2026-12-31"),
        "after": Window("2026-01-01", "2026-12-31"),
    }
    base.update(kw)
    return Business(**base)


def with_facts(series: SeriesPlan, **kw: Any) -> SeriesPlan:
    return replace(series, business=facts(**kw))


def keys(findings: tuple[PolicyFinding, ...]) -> list[tuple[str, str]]:
    return [(f.rule, f.key) for f in findings]


def policy(*rules: PolicyRule) -> Policy:
    return Policy(rules=rules, file="series/policy.yaml")


# --- the checks -------------------------------------------------------------------------


def test_percent_above_looks_at_the_discount_once_applied_when_the_plan_touches_it() -> None:
    p = plan(
        series=[
            # The value changes; the type (PERC) comes from the live series.
            with_facts(update("a", 1, FieldChange("discountValue", 10, 60))),
            # 60% already, only the description changes: approved once, not asked again.
            with_facts(update("b", 2, FieldChange("description", "x", "y"))),
            # A create at 70%.
            replace(
                create("c", {"discountType": "PERC", "discountValue": 70}),
                business=facts(status=Status.NEW, discount_value=70, before=None),
            ),
            # Down to 40%: no finding.
            with_facts(update("d", 4, FieldChange("discountValue", 60, 40)), discount_value=40),
            # ABS 600 is no percentage.
            with_facts(
                update("e", 5, FieldChange("discountValue", 5, 600)),
                discount_type="ABS",
                discount_value=600,
            ),
            unchanged("f", 6),
        ]
    )
    found = evaluate(p, policy=policy(rule("percent_above", 50.0)))
    assert keys(found) == [("percent-above", "a"), ("percent-above", "c")]
    assert found[0].message == "discountValue 60% (PERC) is above 50%"
    amount = evaluate(p, policy=policy(rule("amount_above", 500, level="deny")))
    assert keys(amount) == [("amount-above", "e")]


def test_without_business_facts_the_changes_themselves_are_read() -> None:
    p = plan(
        series=[
            update(
                "a",
                1,
                FieldChange("discountType", "ABS", "PERC"),
                FieldChange("discountValue", 10, 80),
            )
        ]
    )
    assert keys(evaluate(p, policy=policy(rule("percent_above", 50)))) == [("percent-above", "a")]


def test_validity_longer_than_counts_both_ends_and_an_open_end_is_longer() -> None:
    p = plan(
        series=[
            with_facts(
                update("year", 1, FieldChange("validTillDate", "a", "b")),
                after=Window("2026-01-01", "2026-12-31"),
            ),
            with_facts(
                update("leap", 2, FieldChange("validTillDate", "a", "b")),
                after=Window("2026-01-01", "2027-01-01"),
            ),
            with_facts(
                update("open", 3, FieldChange("validTillDate", "a", None)),
                after=Window("2026-01-01", None),
            ),
            # A long series whose dates the plan does not touch.
            with_facts(
                update("untouched", 4, FieldChange("description", "a", "b")),
                after=Window("2020-01-01", "2030-01-01"),
            ),
        ]
    )
    found = evaluate(p, policy=policy(rule("validity_longer_than_days", 365, level="warn")))
    assert keys(found) == [
        ("validity-longer-than-days", "leap"),
        ("validity-longer-than-days", "open"),
    ]
    assert found[0].message == "valid 366 days (2026-01-01 to 2027-01-01), more than 365"


def test_frozen_once_issued_refuses_a_change_of_a_listed_field_once_coupons_were_issued() -> None:
    p = plan(
        series=[
            with_facts(update("issued", 1, FieldChange("discountValue", 10, 12))),
            with_facts(update("none-yet", 2, FieldChange("discountValue", 10, 12)), issued=0),
            with_facts(update("other-field", 3, FieldChange("description", "a", "b"))),
            replace(create("new", {"discountValue": 12}), business=facts(issued=0)),
        ]
    )
    r = rule("frozen_once_issued", ("discountType", "discountValue"), level="deny")
    found = evaluate(p, policy=policy(r))
    assert keys(found) == [("frozen-once-issued", "issued")]
    assert found[0].message == "discountValue change(s) with 10 coupons already issued"


def test_protected_covers_its_globs_in_its_environments_only() -> None:
    p = plan(
        environment="production",
        series=[
            update("vip/gold", 1, FieldChange("description", "a", "b")),
            create("vip/new", {"description": "x"}),
            update("public/sale", 2, FieldChange("description", "a", "b")),
            unchanged("vip/silver", 3),
        ],
    )
    here = rule("protected", True, level="deny", series=("vip/*",), environments=("production",))
    elsewhere = replace(here, id="only-testing", environments=("testing",))
    found = evaluate(p, policy=policy(here, elsewhere))
    assert keys(found) == [("protected", "vip/gold"), ("protected", "vip/new")]
    assert [f.message for f in found] == [
        "a protected series is changed",
        "a protected series is created",
    ]


def test_description_must_match_reads_the_new_description() -> None:
    p = plan(
        series=[
            create("bad-new", {"description": "cheap stuff"}),
            create("good-new", {"description": "Summer 10% off"}),
            update("bad-edit", 1, FieldChange("description", "Summer 10% off", "oops")),
            update("other", 2, FieldChange("discountValue", 1, 2)),
        ]
    )
    r = rule("description_must_match", r"^[A-Z].* [0-9]+% off$", level="warn", reason="house style")
    found = evaluate(p, policy=policy(r))
    assert keys(found) == [
        ("description-must-match", "bad-edit"),
        ("description-must-match", "bad-new"),
    ]
    assert found[0].message.endswith("(house style)")


def test_the_strictest_finding_first_and_one_per_rule_and_series() -> None:
    p = plan(series=[with_facts(update("a", 1, FieldChange("discountValue", 10, 60)))])
    # The same id twice (the files' rule and the trusted copy's, at two levels).
    found = evaluate(
        p,
        policy=policy(
            rule("percent_above", 50, id="big", level="warn"),
            rule("percent_above", 50, id="big", level="deny"),
            rule("percent_above", 20, id="any", level="warn"),
        ),
    )
    assert [(f.rule, f.level) for f in found] == [("big", Level.DENY), ("any", Level.WARN)]


# --- overrides and enforcement ---------------------------------------------------------------


def test_overrides_are_rule_equals_reason_and_must_say_why() -> None:
    (one, two) = parse_overrides(
        ["big=Diwali: approved by Asha", "big@summer/sale=one series only"], by="ci", source="x"
    )
    assert (one.rule, one.key, one.reason, one.by) == ("big", "", "Diwali: approved by Asha", "ci")
    assert (two.rule, two.key) == ("big", "summer/sale")
    for bad in ["big", "big=", "big=   ", "Big=x", "=x", "big@=x"]:
        with pytest.raises(ReconcilerError):
            parse_overrides([bad])


def test_an_override_must_name_a_rule_and_never_lifts_a_deny() -> None:
    p = policy(
        rule("percent_above", 50, id="big"), rule("amount_above", 9, id="never", level="deny")
    )
    check_overrides(p, parse_overrides(["big=ok"]))
    with pytest.raises(ReconcilerError, match="names no rule"):
        check_overrides(p, parse_overrides(["bgi=typo"]))
    with pytest.raises(ReconcilerError, match="deny rule"):
        check_overrides(p, parse_overrides(["never=please"]))
    # The same id as a deny rule in the trusted copy: no override.
    both = merged(p, policy(rule("percent_above", 50, id="big", level="deny")))
    with pytest.raises(ReconcilerError, match="deny rule"):
        check_overrides(both, parse_overrides(["big=ok"]))


def refused_plan() -> tuple[Plan, Policy]:
    p = plan(
        series=[
            with_facts(update("a", 1, FieldChange("discountValue", 10, 60))),
            with_facts(update("b", 2, FieldChange("discountValue", 10, 70)), discount_value=70),
        ]
    )
    return p, policy(rule("percent_above", 50, id="big"))


def test_enforce_refuses_an_approve_rule_without_an_override_and_says_how() -> None:
    p, rules = refused_plan()
    with pytest.raises(PolicyRefused) as refused:
        enforce(p, policy=rules)
    assert len(refused.value.reasons) == 2
    assert "--override 'big=REASON'" in refused.value.reasons[0]


def test_an_override_for_one_series_lifts_that_series_only() -> None:
    p, rules = refused_plan()
    with pytest.raises(PolicyRefused) as refused:
        enforce(p, policy=rules, overrides=parse_overrides(["big@a=for a"]))
    assert [r.split(":")[0] for r in refused.value.reasons] == ["b"]
    used = enforce(p, policy=rules, overrides=parse_overrides(["big=both", "big@a=a too"]))
    assert [o.reason for o in used] == ["both", "a too"]


def test_enforce_reads_the_plan_never_what_it_says_of_its_findings() -> None:
    """A plan file edited to drop its findings (or to mark them overridden) is refused the
    same: the findings are made again from the changes."""
    p, rules = refused_plan()
    shown = with_policy(p, policy=rules)
    assert all(f.blocking for f in shown.policy)
    for edited in (
        replace(shown, policy=()),
        replace(shown, policy=tuple(replace(f, override="trust me") for f in shown.policy)),
        replace(shown, policy=tuple(replace(f, level=Level.WARN) for f in shown.policy)),
    ):
        with pytest.raises(PolicyRefused):
            enforce(Plan.from_json(edited.to_json()), policy=rules)


def test_a_weakened_policy_is_still_held_to_the_trusted_rules() -> None:
    p, _ = refused_plan()
    files = policy(rule("percent_above", 90, id="big", level="warn"))  # the PR weakens it
    trusted = policy(rule("percent_above", 50, id="big"))  # as on the default branch
    assert not any(f.blocking for f in evaluate(p, policy=files))
    with pytest.raises(PolicyRefused):
        enforce(p, policy=merged(files, trusted))
    # Unchanged rules are not doubled.
    assert merged(trusted, trusted).rules == trusted.rules


def test_overridden_marks_only_approve_findings() -> None:
    findings = (
        PolicyFinding("x", Level.APPROVE, "a", "m"),
        PolicyFinding("x", Level.WARN, "a", "m"),
    )
    out = overridden(findings, parse_overrides(["x=because"], by="asha"))
    assert [(f.override, f.by, f.blocking) for f in out] == [
        ("because", "asha", False),
        ("", "", False),
    ]
