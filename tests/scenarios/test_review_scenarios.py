"""Policy rules, overrides and the ledger end to end: the CLI against the sandbox over loopback
HTTP (``plan``, ``apply``, ``history``, ``show-apply``), and the variables CI passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scenarios.conftest import World, series_text

POLICY = """\
rules:
  - id: big-percentage
    level: approve
    reason: more than 20% off needs the marketing lead
    percent_above: 20
  - id: long-validity
    level: warn
    validity_longer_than_days: 3650
  - id: vip
    level: deny
    protected: true
    series: ["vip/*"]
"""

CI = ("GITHUB_ACTOR", "GITHUB_SHA", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
OURS = ("RECONCILER_OVERRIDES", "RECONCILER_APPROVED_BY", "RECONCILER_COMMIT")


@pytest.fixture(autouse=True)
def no_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests say what CI passes; the CI they may run in passes its own."""
    for name in (*CI, *OURS, "RECONCILER_TRUSTED_POLICY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECONCILER_COMMIT", "c0ffee" + "0" * 34)


def perc(description: str, code: str, value: int) -> str:
    return series_text(description, code, value).replace("discountType: ABS", "discountType: PERC")


def ledger(world: World) -> Path:
    return world.series / ".state" / "local.ledger.jsonl"


def history(world: World) -> list[dict[str, object]]:
    result = world.cli("history", "--env", "local", "--format", "json")
    assert result.exit_code == 0, result.output
    applies: list[dict[str, object]] = json.loads(result.stdout)["applies"]
    return applies


def show(world: World, number: int) -> dict[str, object]:
    result = world.cli("show-apply", str(number), "--env", "local", "--format", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def setup(world: World) -> None:
    (world.series / "policy.yaml").write_text(POLICY)
    world.write("sale/big", perc("Big sale", "BIG30", 30))
    world.write("sale/small", perc("Small sale", "SMALL10", 10))


def test_each_level_through_plan_and_apply(world: World) -> None:
    setup(world)
    before = world.codes()
    plan = world.cli("plan", "--env", "local")
    # Refused: shown in full first (exit 1 after the plan).
    assert plan.exit_code == 1
    assert "The policy refuses this plan" in plan.stdout
    assert "sale/big: rule big-percentage (approve)" in plan.stdout
    assert "discountValue 30% (PERC) is above 20%" in plan.stdout
    assert "Error: the policy refuses this plan" in plan.stderr
    as_json = world.cli("plan", "--env", "local", "--format", "json")
    findings = json.loads(as_json.stdout)["policy"]
    assert [(f["rule"], f["key"], f["blocking"]) for f in findings] == [
        ("big-percentage", "sale/big", True)
    ]
    # The apply refuses it: nothing written, the refusal recorded.
    applied = world.cli("apply", "--env", "local", "--auto-approve")
    assert applied.exit_code == 1
    assert "the policy refuses this plan" in applied.output
    assert world.codes() == before
    (refused,) = history(world)
    assert refused["result"] == "refused" and refused["done"] == 0
    # With an override it goes ahead, and says so.
    applied = world.cli(
        "apply",
        "--env",
        "local",
        "--auto-approve",
        "--override",
        "big-percentage=Diwali, ok by Asha",
    )
    assert applied.exit_code == 0, applied.output
    assert "Policy rules overridden" in applied.stdout
    assert "big-percentage: Diwali, ok by Asha" in applied.stdout
    assert {"BIG30", "SMALL10"} <= set(world.codes())
    record = show(world, 2)
    assert record["result"] == "ok"
    assert record["overrides"] == [
        {
            "rule": "big-percentage",
            "key": "",
            "reason": "Diwali, ok by Asha",
            "by": record["ran_by"],
            "source": "--override",
        }
    ]
    assert world.cli("plan", "--env", "local", "--detailed-exitcode").exit_code == 0


def test_a_warning_is_shown_and_applied(world: World) -> None:
    (world.series / "policy.yaml").write_text(POLICY.replace("3650", "30"))
    world.write("sale/small", perc("Small sale", "SMALL10", 10))
    plan = world.cli("plan", "--env", "local", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert "rule long-validity (warn)" in plan.stdout
    assert world.cli("apply", "--env", "local", "--auto-approve").exit_code == 0


def test_a_deny_rule_is_never_applied_whatever_the_override(world: World) -> None:
    setup(world)
    world.write("vip/gold", series_text("VIP gold", "VIPGOLD"))
    before = world.codes()
    for extra in ([], ["--override", "vip=please"], ["--override", "big-percentage=ok"]):
        applied = world.cli("apply", "--env", "local", "--auto-approve", *extra)
        assert applied.exit_code == 1, applied.output
        assert world.codes() == before
    assert (
        "rule 'vip' is a deny rule: no override lifts it"
        in world.cli("apply", "--env", "local", "--auto-approve", "--override", "vip=please").output
    )
    assert "vip/gold: rule vip (deny)" in world.cli("plan", "--env", "local").stdout


def test_an_override_of_no_rule_is_an_error_not_a_silent_no_op(world: World) -> None:
    setup(world)
    result = world.cli("plan", "--env", "local", "--override", "big-percentagee=typo")
    assert result.exit_code == 1
    assert "names no rule of the policy" in result.output
    result = world.cli("plan", "--env", "local", "--override", "big-percentage")
    assert result.exit_code == 1 and "is not RULE=REASON" in result.output


def test_a_plan_file_edited_to_drop_its_findings_is_still_refused(
    world: World, tmp_path: Path
) -> None:
    setup(world)
    saved = tmp_path / "plan.json"
    assert world.cli("plan", "--env", "local", "--out", str(saved)).exit_code == 1
    data = json.loads(saved.read_text())
    assert data["policy"]
    data["policy"] = []
    saved.write_text(json.dumps(data))
    before = world.codes()
    applied = world.cli("apply", str(saved), "--env", "local")
    assert applied.exit_code == 1, applied.output
    assert "rule big-percentage (approve)" in applied.output
    assert world.codes() == before


def test_a_plan_file_edited_to_lower_a_value_is_still_refused(world: World, tmp_path: Path) -> None:
    setup(world)
    saved = tmp_path / "plan.json"
    world.cli("plan", "--env", "local", "--out", str(saved))
    data = json.loads(saved.read_text())
    for series in data["series"]:
        if series["key"] == "sale/big":
            series["desired"]["discountValue"] = 15
            for change in series["changes"]:
                if change["field"] == "discountValue":
                    change["after"] = 15
            series["business"]["discount_value"] = 15
    data["policy"] = []
    saved.write_text(json.dumps(data))
    applied = world.cli("apply", str(saved), "--env", "local")
    assert applied.exit_code == 1, applied.output
    assert "BIG30" not in world.codes()


def test_ci_passes_overrides_approver_and_run_through_variables(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the workflows do: an override label becomes RECONCILER_OVERRIDES, the approver
    RECONCILER_APPROVED_BY; GitHub's own variables say who ran it, which commit, which run."""
    setup(world)
    monkeypatch.delenv("RECONCILER_COMMIT")
    monkeypatch.setenv(
        "RECONCILER_OVERRIDES",
        "big-percentage=label reconciler-override:big-percentage added by ravi\n",
    )
    monkeypatch.setenv("RECONCILER_APPROVED_BY", "ravi")
    monkeypatch.setenv("GITHUB_ACTOR", "github-merge-bot")
    monkeypatch.setenv("GITHUB_SHA", "abc123" + "0" * 34)
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/coupons")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    plan = world.cli("plan", "--env", "local", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert (
        "overridden: label reconciler-override:big-percentage added by ravi (by ravi)"
        in plan.stdout
    )
    applied = world.cli("apply", "--env", "local", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    record = show(world, 1)
    assert record["commit"] == "abc123" + "0" * 34
    assert (record["ran_by"], record["approved_by"]) == ("github-merge-bot", "ravi")
    assert record["run_url"] == "https://github.com/acme/coupons/actions/runs/42"
    assert record["overrides"] == [
        {
            "rule": "big-percentage",
            "key": "",
            "reason": "label reconciler-override:big-percentage added by ravi",
            "by": "ravi",
            "source": "RECONCILER_OVERRIDES",
        }
    ]


def test_a_pull_request_that_weakens_the_policy_is_held_to_the_trusted_copy(
    world: World, tmp_path: Path
) -> None:
    setup(world)
    trusted = tmp_path / "policy-on-main.yaml"
    trusted.write_text(POLICY)
    (world.series / "policy.yaml").write_text(POLICY.replace("level: approve", "level: warn"))
    assert world.cli("plan", "--env", "local").exit_code == 0
    held = world.cli("plan", "--env", "local", "--trusted-policy", str(trusted))
    assert held.exit_code == 1 and "rule big-percentage (approve)" in held.stdout
    applied = world.cli(
        "apply", "--env", "local", "--auto-approve", "--trusted-policy", str(trusted)
    )
    assert applied.exit_code == 1 and "BIG30" not in world.codes()


def test_history_after_three_applies(world: World) -> None:
    world.write("sale/one", series_text("One", "ONE"))
    assert world.cli("apply", "--env", "local", "--auto-approve").exit_code == 0
    world.write("sale/one", series_text("One, better", "ONE", value=120))
    world.write("sale/two", series_text("Two", "TWO"))
    assert world.cli("apply", "--env", "local", "--auto-approve").exit_code == 0
    world.write("sale/two", series_text("Two, better", "TWO", value=130))
    assert world.cli("apply", "--env", "local", "--auto-approve").exit_code == 0
    # An apply with nothing to do records nothing.
    assert world.cli("apply", "--env", "local", "--auto-approve").exit_code == 0
    applies = history(world)
    assert [(a["number"], a["result"], a["series_count"], a["done"]) for a in applies] == [
        (1, "ok", 1, 1),
        (2, "ok", 2, 2),
        (3, "ok", 1, 1),
    ]
    commit = "c0ffee" + "0" * 34
    assert all(a["commit"] == commit for a in applies)
    assert all(str(a["revert"]).startswith(f"git revert {commit}") for a in applies)
    text = world.cli("history", "--env", "local")
    assert text.exit_code == 0
    assert text.stdout.count(f"to undo: git revert {commit}") == 3
    second = show(world, 2)
    ids = world.state()["ids"]
    assert [(s["key"], s["action"], s["id"], s["result"]) for s in second["series"]] == [
        ("sale/one", "update", ids["sale/one"], "done"),
        ("sale/two", "create", ids["sale/two"], "done"),
    ]
    shown = world.cli("show-apply", "2", "--env", "local")
    assert "✓ done" in shown.stdout and "sale/two (create, id" in shown.stdout
    missing = world.cli("show-apply", "9", "--env", "local")
    assert (
        missing.exit_code == 1
        and "no apply number 9" in missing.output
        and "(1 to 3)" in missing.output
    )
