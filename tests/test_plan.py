from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from reconciler.engine.diff import FieldChange
from reconciler.engine.plan import Action, Plan, Rails, SeriesPlan, safety_violations
from reconciler.errors import PlanError

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def plan_of(*series: SeriesPlan) -> Plan:
    return Plan(
        environment="e", tool_version="1", created_at="t", desired_digest="d", series=series
    )


def update(
    key: str, *changes: FieldChange, issued: int | None = None, retire: bool = False
) -> SeriesPlan:
    return SeriesPlan(
        key, f"{key}.yaml", Action.UPDATE, 1, changes, live_issued=issued, retire=retire
    )


def unchanged(key: str) -> SeriesPlan:
    return SeriesPlan(key, f"{key}.yaml", Action.UNCHANGED, 1)


def test_share_rail_only_past_the_threshold_and_minimum() -> None:
    rails = Rails(max_update_share=0.3, share_min_series=10)
    change = FieldChange("description", "a", "b")
    many = [update(f"u{i}", change) for i in range(4)] + [unchanged(f"s{i}") for i in range(6)]
    (reason,) = safety_violations(plan_of(*many), rails=rails, now=NOW)
    assert "4 of 10 existing series" in reason
    few = [update(f"u{i}", change) for i in range(4)] + [unchanged(f"s{i}") for i in range(5)]
    assert safety_violations(plan_of(*few), rails=rails, now=NOW) == ()
    ok = [update(f"u{i}", change) for i in range(3)] + [unchanged(f"s{i}") for i in range(7)]
    assert safety_violations(plan_of(*ok), rails=rails, now=NOW) == ()


def test_ending_a_live_series_early_is_refused_unless_retired() -> None:
    change = FieldChange("validTillDate", "2030-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
    (reason,) = safety_violations(plan_of(update("s", change)), rails=Rails(), now=NOW)
    assert "ends a live series early" in reason
    assert (
        safety_violations(plan_of(update("s", change, retire=True)), rails=Rails(), now=NOW) == ()
    )
    later = FieldChange("validTillDate", "2030-01-01T00:00:00Z", "2031-01-01T00:00:00Z")
    assert safety_violations(plan_of(update("s", later)), rails=Rails(), now=NOW) == ()


def test_max_create_below_issued_is_refused() -> None:
    change = FieldChange("maxCreate", -1, 5)
    (reason,) = safety_violations(plan_of(update("s", change, issued=9)), rails=Rails(), now=NOW)
    assert "below the 9 coupons already issued" in reason
    assert safety_violations(plan_of(update("s", change, issued=2)), rails=Rails(), now=NOW) == ()


def test_unknown_plan_format_is_refused() -> None:
    with pytest.raises(PlanError, match="format_version 99"):
        Plan.from_json('{"format_version": 99}')
    with pytest.raises(PlanError, match="not JSON"):
        Plan.from_json("{")


# --- a saved plan file that this tool did not write (issue 11) ----------------------------------


def saved(**series: object) -> dict[str, object]:
    good = plan_of(
        SeriesPlan(
            "k",
            "k.yaml",
            Action.UPDATE,
            7,
            (FieldChange("description", "a", "b"),),
            desired={"description": "b"},
        )
    )
    data = good.to_dict()
    data["series"][0].update(series)  # type: ignore[index]
    return data


def test_a_saved_plan_round_trips() -> None:
    text = json.dumps(saved())
    assert Plan.from_json(text).series[0].desired == {"description": "b"}


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"format_version": 1, "a": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"format_version": 1, "a": ' + '{"a": ' * 5_000 + "1" + "}" * 5_000 + "}",
    ],
    ids=["top", "inside", "depth-5000"],
)
def test_a_deeply_nested_plan_file_is_a_plan_error(text: str) -> None:
    with pytest.raises(PlanError, match="damaged"):
        Plan.from_json(text)


def test_a_moderately_nested_value_is_refused_before_the_renderers_recurse() -> None:
    deep: object = 1
    for _ in range(500):
        deep = [deep]
    with pytest.raises(PlanError, match="nests more than 64 levels"):
        Plan.from_json(json.dumps(saved(desired={"description": deep})))


@pytest.mark.parametrize(
    ("series", "words"),
    [
        ({"desired": {"bogusField": 1}}, "'bogusField', not a field"),
        (
            {"changes": [{"field": "bogusField", "before": 1, "after": 2, "nested": []}]},
            "'bogusField', not a field",
        ),
        ({"id": 900002.7}, "not an integer"),
        ({"id": float("inf")}, "not an integer"),
        ({"id": True}, "not an integer"),
        ({"key": 12}, "not text"),
        ({"desired": [1, 2]}, "damaged"),
        ({"changes": ["x"]}, "damaged"),
    ],
)
def test_a_plan_with_unknown_fields_or_bad_ids_is_a_plan_error(
    series: dict[str, object], words: str
) -> None:
    with pytest.raises(PlanError, match=re.escape(words)):
        Plan.from_json(json.dumps(saved(**series)))
