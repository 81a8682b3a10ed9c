"""``compare.differences``: a reviewed plan beside the plan made now, action by action.

Each tampering of a plan file the issue names (a body edited, a create added, an update aimed
at another series, ids swapped, a key renamed, a reset removed or added, the rails removed)
is a difference; the plan as written compared with itself, or read back from its own JSON,
is none.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from reconciler import __version__
from reconciler.engine.compare import check_fresh, differences
from reconciler.engine.diff import FieldChange
from reconciler.engine.plan import Action, Blocked, Move, Plan, SeriesPlan

RESET = "no longer in the file: server default"


def plan_now() -> Plan:
    return Plan(
        environment="production",
        tool_version=__version__,
        created_at="2026-11-23T10:00:00Z",
        desired_digest="d" * 64,
        series=(
            SeriesPlan(
                key="summer/sale-10",
                file="series/summer/sale-10.yaml",
                action=Action.UPDATE,
                series_id=751412,
                changes=(
                    FieldChange("discountValue", 10.0, 15.0),
                    FieldChange("maxRedeem", 500, -1, note=RESET),
                ),
                desired={"discountValue": 15, "maxRedeem": -1},
                live_digest="a" * 64,
            ),
            SeriesPlan(
                key="summer/sale-20",
                file="series/summer/sale-20.yaml",
                action=Action.UNCHANGED,
                series_id=751413,
                live_digest="b" * 64,
            ),
            SeriesPlan(
                key="winter/new",
                file="series/winter/new.yaml",
                action=Action.CREATE,
                changes=(FieldChange("discountCode", None, "WINTER"),),
                desired={"discountCode": "WINTER", "discountValue": 5},
            ),
        ),
        moves=(Move("old", "renamed", 42, "same discountCode", "reconciler state mv old renamed"),),
        blocked=(Blocked("spring/x", "series/spring/x.yaml", "look-alike 9"),),
        rails=("1 of 2 existing series would be updated",),
    )


def tampered(change: Callable[[dict[str, Any]], None]) -> Plan:
    data = copy.deepcopy(plan_now().to_dict())
    change(data)
    return Plan.from_dict(data)


def lines(reviewed: Plan) -> list[str]:
    return [d.line() for d in differences(reviewed=reviewed, now=plan_now())]


def series(data: dict[str, Any], key: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in data["series"] if s["key"] == key)
    return found


def test_a_plan_equals_itself_and_its_own_json() -> None:
    assert differences(reviewed=plan_now(), now=plan_now()) == ()
    assert differences(reviewed=Plan.from_json(plan_now().to_json()), now=plan_now()) == ()


def test_what_a_reviewer_reads_but_an_apply_does_not_do_is_not_compared() -> None:
    def notes(data: dict[str, Any]) -> None:
        data["created_at"] = "2020-01-01T00:00:00Z"
        data["warnings"] = [{"message": "x"}]
        data["blocked"][0]["reason"] = "said with other flags"
        series(data, "winter/new")["notes"] = ["an intent note"]

    assert lines(tampered(notes)) == []


def test_an_edited_body_is_a_difference() -> None:
    def edit(data: dict[str, Any]) -> None:
        series(data, "summer/sale-10")["desired"]["discountValue"] = 99

    assert lines(tampered(edit)) == [
        "summer/sale-10: sends discountValue: reviewed: 99; now: 15",
    ]


def test_an_added_create_is_a_difference() -> None:
    def add(data: dict[str, Any]) -> None:
        evil = copy.deepcopy(series(data, "winter/new"))
        evil.update(key="evil", desired={"discountCode": "EVIL100"})
        data["series"].append(evil)

    assert lines(tampered(add)) == ["evil: series: reviewed: create; now: not in the plan"]


def test_an_update_aimed_at_another_series_is_a_difference() -> None:
    def aim(data: dict[str, Any]) -> None:
        series(data, "summer/sale-10")["id"] = 1

    assert lines(tampered(aim)) == ["summer/sale-10: series id: reviewed: 1; now: 751412"]


def test_swapped_ids_are_two_differences() -> None:
    def swap(data: dict[str, Any]) -> None:
        a, b = series(data, "summer/sale-10"), series(data, "summer/sale-20")
        a["id"], b["id"] = b["id"], a["id"]

    assert lines(tampered(swap)) == [
        "summer/sale-10: series id: reviewed: 751413; now: 751412",
        "summer/sale-20: series id: reviewed: 751412; now: 751413",
    ]


def test_a_renamed_key_is_a_difference() -> None:
    def rename(data: dict[str, Any]) -> None:
        series(data, "summer/sale-10")["key"] = "team-b/theirs"

    assert lines(tampered(rename)) == [
        "summer/sale-10: series: reviewed: not in the plan; now: update of series 751412",
        "team-b/theirs: series: reviewed: update of series 751412; now: not in the plan",
    ]


def test_a_removed_or_added_reset_is_a_difference() -> None:
    def remove(data: dict[str, Any]) -> None:
        entry = series(data, "summer/sale-10")
        entry["changes"] = [c for c in entry["changes"] if c["field"] != "maxRedeem"]

    assert lines(tampered(remove)) == [
        f"summer/sale-10: maxRedeem: reviewed: no change; now: 500 → -1 ({RESET})"
    ]

    def add(data: dict[str, Any]) -> None:
        series(data, "summer/sale-10")["changes"].append(
            {"field": "info", "before": "x", "after": "", "nested": [], "note": RESET}
        )

    assert lines(tampered(add)) == [
        f'summer/sale-10: info: reviewed: "x" → "" ({RESET}); now: no change'
    ]


def test_a_reset_shown_as_a_declared_change_is_a_difference() -> None:
    def unnote(data: dict[str, Any]) -> None:
        for change in series(data, "summer/sale-10")["changes"]:
            change["note"] = ""

    assert len(lines(tampered(unnote))) == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(rails=[]), "safety rails: reviewed: none; now: 1 of 2"),
        (lambda d: d.update(blocked=[]), "spring/x: blocked: reviewed: not blocked; now: blocked"),
        (lambda d: d.update(moves=[]), "renamed: likely rename: reviewed: none; now: from old"),
        (lambda d: d.update(targets=["summer/sale-10"]), "targets: reviewed: summer/sale-10;"),
        (
            lambda d: series(d, "summer/sale-20").update(live_digest="c" * 64),
            "summer/sale-20: the live series: reviewed: as the CRM had it at the review",
        ),
        (
            lambda d: series(d, "summer/sale-20").update(action="update"),
            "summer/sale-20: action: reviewed: update; now: unchanged",
        ),
        (
            lambda d: series(d, "winter/new")["desired"].pop("discountValue"),
            "winter/new: sends discountValue: reviewed: not sent; now: 5",
        ),
    ],
)
def test_each_part_of_what_an_apply_does_is_compared(
    change: Callable[[dict[str, Any]], Any], expected: str
) -> None:
    found = lines(tampered(change))
    assert len(found) == 1 and found[0].startswith(expected), found


def test_a_key_listed_twice_is_a_difference() -> None:
    def twice(data: dict[str, Any]) -> None:
        data["series"].append(copy.deepcopy(series(data, "summer/sale-20")))

    assert lines(tampered(twice)) == ["summer/sale-20: series entries: reviewed: 2; now: 1"]


def test_the_first_gate_names_tool_environment_and_files() -> None:
    reviewed = plan_now()
    assert check_fresh(plan=reviewed, digest="d" * 64, environment="production") == []
    reasons = check_fresh(plan=reviewed, digest="e" * 64, environment="testing")
    assert any("environment 'production', not 'testing'" in r for r in reasons)
    assert any("files or the settings changed" in r for r in reasons)
