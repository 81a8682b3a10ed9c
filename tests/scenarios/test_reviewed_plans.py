"""`apply PLANFILE` rebuilds the plan and compares it with the reviewed one: a plan file edited
after the review writes nothing, and says how it differs.

The CLI runs in process against the sandbox over loopback HTTP, behind a door that counts
every POST and PUT reaching the server (``conftest.guarded``). Each tampering the issue names
is tried on a real saved plan: refused with exit 1, 0 writes, the difference shown as
"reviewed: X; now: Y"; the untouched plan still applies, without --env.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.scenarios.conftest import Guarded, series_body, series_text

Tamper = Callable[[dict[str, Any], dict[str, int]], None]


def ok(world: Guarded, *args: str) -> str:
    result = world.cli(*args)
    assert result.exit_code == 0, result.output
    return result.output


def reviewed(world: Guarded) -> tuple[Path, dict[str, int]]:
    """Two managed series, then a plan that updates one, creates one and resets a field."""
    world.write("a/one", series_text("One", "ONE", extra="maxRedeem: 500\n"))
    world.write("a/two", series_text("Two", "TWO"))
    ok(world, "apply", "--env", "local", "--auto-approve")
    ids = dict(world.state()["ids"])
    world.write("a/one", series_text("One", "ONE", value=150))  # and maxRedeem removed
    world.write("b/new", series_text("New", "NEW"))
    plan_file = world.root / "plan.json"
    ok(world, "plan", "--env", "local", "--out", str(plan_file))
    return plan_file, ids


def entry(data: dict[str, Any], key: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in data["series"] if s["key"] == key)
    return found


def body_edited(data: dict[str, Any], ids: dict[str, int]) -> None:
    entry(data, "a/one")["desired"]["discountValue"] = 999


def create_added(data: dict[str, Any], ids: dict[str, int]) -> None:
    evil = json.loads(json.dumps(entry(data, "b/new")))
    evil["key"], evil["file"] = "evil", "series/evil.yaml"
    evil["desired"]["discountCode"] = "EVIL100"
    data["series"].append(evil)


def aimed_at_unmanaged(data: dict[str, Any], ids: dict[str, int]) -> None:
    entry(data, "a/one")["id"] = 698948  # a seeded series no file manages


def ids_swapped(data: dict[str, Any], ids: dict[str, int]) -> None:
    one, two = entry(data, "a/one"), entry(data, "a/two")
    one["id"], two["id"] = two["id"], one["id"]


def key_renamed(data: dict[str, Any], ids: dict[str, int]) -> None:
    entry(data, "a/one")["key"] = "team-b/theirs"


def reset_removed(data: dict[str, Any], ids: dict[str, int]) -> None:
    one = entry(data, "a/one")
    one["changes"] = [c for c in one["changes"] if c["field"] != "maxRedeem"]
    one["desired"].pop("maxRedeem")


def reset_added(data: dict[str, Any], ids: dict[str, int]) -> None:
    two = entry(data, "a/two")
    two["action"] = "update"
    two["changes"].append(
        {"field": "discountValue", "before": 100, "after": 1, "nested": [], "note": "x"}
    )
    two["desired"]["discountValue"] = 1


@pytest.mark.parametrize(
    ("tamper", "shown"),
    [
        (body_edited, "a/one: sends discountValue: reviewed: 999; now: 150"),
        (create_added, "evil: series: reviewed: create; now: not in the plan"),
        (aimed_at_unmanaged, "a/one: series id: reviewed: 698948; now: "),
        (ids_swapped, "a/two: series id: reviewed: "),
        (key_renamed, "team-b/theirs: series: reviewed: update of series"),
        (reset_removed, "a/one: maxRedeem: reviewed: no change; now: 500 → -1"),
        (reset_added, "a/two: action: reviewed: update; now: unchanged"),
    ],
)
def test_a_tampered_plan_file_writes_nothing_and_shows_the_difference(
    guarded: Guarded, tamper: Tamper, shown: str
) -> None:
    plan_file, ids = reviewed(guarded)
    data = json.loads(plan_file.read_text())
    tamper(data, ids)
    plan_file.write_text(json.dumps(data))
    before = {s["id"]: dict(s) for s in guarded.sandbox.all_series()}
    guarded.door.reset_counts()

    result = guarded.cli("apply", str(plan_file))

    assert result.exit_code == 1, result.output
    assert guarded.door.writes == 0, guarded.door.calls
    assert {s["id"]: dict(s) for s in guarded.sandbox.all_series()} == before
    assert "differs from the reviewed plan" in result.stderr and "nothing was written" in (
        result.stderr
    )
    assert shown in result.stderr, result.stderr
    assert "EVIL100" not in guarded.codes()


def test_the_rails_removed_from_a_plan_file_are_a_difference(guarded: Guarded) -> None:
    guarded.write("a/one", series_text("One", "ONE"))
    ok(guarded, "apply", "--env", "local", "--auto-approve")
    ended = series_text("One", "ONE").replace("2030-09-30", "2021-01-31")
    guarded.write("a/one", ended)  # ends a live series early: a rail
    plan_file = guarded.root / "plan.json"
    ok(guarded, "plan", "--env", "local", "--out", str(plan_file))
    data = json.loads(plan_file.read_text())
    assert data["rails"], data
    data["rails"] = []
    plan_file.write_text(json.dumps(data))
    guarded.door.reset_counts()

    result = guarded.cli("apply", str(plan_file))

    assert result.exit_code == 1 and guarded.door.writes == 0
    assert "safety rails: reviewed: none; now: a/one: validTillDate moves" in result.stderr


def test_the_reviewed_plan_applies_in_its_own_environment_without_env(guarded: Guarded) -> None:
    plan_file, ids = reviewed(guarded)
    guarded.door.reset_counts()

    result = guarded.cli("apply", str(plan_file))

    assert result.exit_code == 0, result.output
    assert "Converged" in result.output
    live = guarded.sandbox.get_series(ids["a/one"])
    assert live is not None and live["discountValue"] == 150
    assert guarded.codes().count("NEW") == 1
    assert guarded.door.calls["POST"] == 1


def test_a_plan_file_for_another_environment_or_targets_is_refused_before_any_call(
    guarded: Guarded,
) -> None:
    plan_file, _ = reviewed(guarded)
    guarded.door.reset_counts()
    for flags, said in (
        (["--env", "production"], "made for environment 'local'"),
        (["--sandbox"], "made for environment 'local'"),
        (["--target", "a/one"], "other keys than the plan file's targets"),
    ):
        result = guarded.cli("apply", str(plan_file), *flags)
        assert result.exit_code == 1 and said in result.stderr, result.output
    assert sum(guarded.door.calls.values()) == 0


def test_a_series_made_in_the_crm_since_the_review_is_a_difference(guarded: Guarded) -> None:
    # A look-alike appearing after the review turns the reviewed create into "blocked".
    plan_file, _ = reviewed(guarded)
    guarded.sandbox.create(series_body("Made by hand", "NEW"))
    guarded.door.reset_counts()

    result = guarded.cli("apply", str(plan_file))

    assert result.exit_code == 1 and guarded.door.writes == 0
    assert "b/new: blocked: reviewed: not blocked; now: blocked" in result.stderr
    assert guarded.codes().count("NEW") == 1
