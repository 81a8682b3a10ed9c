"""The CI flow carries the policy, the ledger and a refused plan's difference (issues 23, 20):
a pull request is held to the default branch's policy; a plan the policy refuses still
reaches the pull request (and fails its check); an override label counts only when someone
other than the author added it (or the environment's reviewers approved the deployment) and
is recorded in the ledger, which lives on the state branch with the state; a reviewed plan
edited after the review is refused with its difference shown on the pull request."""

from __future__ import annotations

import json
from pathlib import Path

from tests.workflows.conftest import GitHub, series_text
from tests.workflows.harness import World
from tests.workflows.test_flows import add_series, plan_comment

POLICY = """\
rules:
  - id: big-amount
    level: approve
    reason: more than 50 off needs the marketing lead
    amount_above: 50
  - id: huge-amount
    level: deny
    reason: never more than 500 off
    amount_above: 500
"""
ONLY_TESTING = {"environment": "testing"}


def with_policy(world: World) -> None:
    """main gets series/policy.yaml (a direct push, before the tests' pull requests)."""
    world.git("checkout", "-q", "-B", "main", "origin/main")
    world.write("series/policy.yaml", POLICY)
    world.commit("The policy")
    world.git("push", "-q", "origin", "HEAD:refs/heads/main")


def ledger(world: World, env: str) -> list[dict[str, object]]:
    world.git("fetch", "-q", "origin")
    text = world.git("show", f"origin/reconciler-state:series/.state/{env}.ledger.jsonl")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_pull_request_dropping_a_deny_rule_is_still_held_to_it_and_the_comment_says_so(
    github: GitHub,
) -> None:
    world = github.world
    with_policy(world)
    world.git("checkout", "-q", "-B", "pr-5", "origin/main")
    world.write("series/policy.yaml", "rules: []\n")  # the pull request drops every rule
    world.write("series/promo/huge.yaml", series_text("Huge", "HUGE", value=900))
    world.commit("PR 5")
    pr = world.open_pull_request("pr-5", 5)
    run = world.run_workflow("plan.yml", "pull_request", pull_request=pr, matrix=ONLY_TESTING)
    assert run.result("plan") == "failure", "a plan the policy refuses fails its check"
    body = plan_comment(world, 5, "testing")
    assert "refused by the policy" in body
    assert "huge-amount" in body and "(deny)" in body, body
    assert "Plan digest" in body
    assert "Error: the policy refuses this plan" in run.job("plan").log


def test_an_override_label_counts_only_from_someone_else_and_is_recorded_in_the_ledger(
    github: GitHub,
) -> None:
    world = github.world
    with_policy(world)
    pr = add_series(world, 6, {"promo/big": series_text("Big", "BIG", value=100)})
    run = world.run_workflow("plan.yml", "pull_request", pull_request=pr, matrix=ONLY_TESTING)
    assert run.result("plan") == "failure"
    body = plan_comment(world, 6, "testing")
    assert "`policy-override:big-amount`" in body, body

    # The author labels it: shown as pending, and the plan passes (the check is a preview).
    world.label(6, "policy-override:big-amount", by="dev")
    world.comment(6, "policy-override:big-amount trust me", by="dev")
    pr = world.refresh_pull_request(6)
    run = world.run_workflow("plan.yml", "pull_request", pull_request=pr, matrix=ONLY_TESTING)
    assert run.result("plan") == "success", run.job("plan").log
    assert "Pending" in plan_comment(world, 6, "testing")

    # Merged with only the author's label and no deployment approval: the apply refuses.
    world.merge_pull_request(6)
    run = world.run_workflow("apply.yml", "push", only=("reviewed-plan", "apply-testing"))
    assert run.result("apply-testing") == "failure"
    assert "BIG" not in github.by_code("testing"), "an author's own override lifts nothing"
    refused = world.comments(6)[-1]
    assert "big-amount" in refused and "New plan, sha256" in refused, refused

    # The lead adds the label and says why: the manual apply (after the merge) applies it.
    world.label(6, "policy-override:big-amount", by="lead", remove=True)
    world.label(6, "policy-override:big-amount", by="lead")
    world.comment(6, "ok\npolicy-override:big-amount Diwali <b>sale</b> $(id)", by="lead")
    world.review(6, "APPROVED", by="asha")
    run = world.run_workflow(
        "apply.yml",
        "workflow_dispatch",
        inputs={"environment": "testing", "force": False, "reason": "", "pull-request": "6"},
    )
    assert run.result("apply-testing") == "success", run.job("apply-testing").log
    assert "BIG" in github.by_code("testing")
    (record,) = [r for r in ledger(world, "testing") if r.get("op") == "begin"][-1:]
    (override,) = record["overrides"]
    assert override["rule"] == "big-amount"
    assert "Diwali <b>sale</b> $(id)" in override["reason"], "recorded as text, never run"
    assert "label by lead" in override["reason"]
    assert record["approved_by"] == "asha"


def test_the_environments_approval_grants_an_authors_override(github: GitHub) -> None:
    world = github.world
    with_policy(world)
    pr = add_series(world, 7, {"promo/big": series_text("Big", "BIG", value=100)})
    world.label(7, "policy-override:big-amount", by="dev")
    pr = world.refresh_pull_request(7)
    run = world.run_workflow("plan.yml", "pull_request", pull_request=pr, matrix=ONLY_TESTING)
    world.merge_pull_request(7)
    world.approve_next_deployment("testing", by="lead", comment="policy-override:big-amount ok")
    run = world.run_workflow("apply.yml", "push", only=("reviewed-plan", "apply-testing"))
    assert run.result("apply-testing") == "success", run.job("apply-testing").log
    (record,) = [r for r in ledger(world, "testing") if r.get("op") == "begin"]
    assert record["overrides"][0]["rule"] == "big-amount"
    assert "approved by lead" in record["overrides"][0]["reason"]


def test_two_applies_leave_both_records_on_the_state_branch_and_a_race_keeps_every_line(
    github: GitHub,
) -> None:
    world = github.world
    for number, code in ((11, "ONE"), (12, "TWO")):
        pr = add_series(world, number, {f"promo/{code.lower()}": series_text(code, code)})
        run = world.run_workflow("plan.yml", "pull_request", pull_request=pr, matrix=ONLY_TESTING)
        world.merge_pull_request(number)
        run = world.run_workflow("apply.yml", "push", only=("reviewed-plan", "apply-testing"))
        assert run.result("apply-testing") == "success", run.job("apply-testing").log
    begins = [r for r in ledger(world, "testing") if r.get("op") == "begin"]
    # Numbered 1 and 2: the second apply read the first record back from the branch.
    assert [r["number"] for r in begins] == [1, 2]
    kept = world.store / str(run.run_id) / f"reconciler-apply-testing-{run.run_id}-1"
    assert (kept / "ledger-testing.jsonl").is_file()

    # Another apply's line lands on the branch between this run's fetch and its push: the
    # union keeps it and this run's record.
    from tests.workflows.test_state_branch import race_the_next_state_push

    before = world.git("show", "origin/reconciler-state:series/.state/testing.ledger.jsonl")
    foreign = '{"op":"begin","v":1,"apply":"feed","number":9,"at":"","environment":"testing"}'
    race_the_next_state_push(
        world, "series/.state/testing.ledger.jsonl", before + "\n" + foreign + "\n"
    )
    pr = add_series(world, 13, {"promo/three": series_text("Three", "THREE")})
    world.run_workflow("plan.yml", "pull_request", pull_request=pr, matrix=ONLY_TESTING)
    world.merge_pull_request(13)
    run = world.run_workflow("apply.yml", "push", only=("reviewed-plan", "apply-testing"))
    assert run.result("apply-testing") == "success", run.job("apply-testing").log
    lines = [r for r in ledger(world, "testing") if r.get("op") == "begin"]
    assert [r["apply"] for r in lines][:2] == [b["apply"] for b in begins]
    assert "feed" in [r["apply"] for r in lines], "a record pushed meanwhile is never dropped"
    assert len(lines) == 4


def test_a_tampered_reviewed_plan_is_refused_with_its_difference_on_the_pull_request(
    github: GitHub,
) -> None:
    world = github.world
    pr = add_series(world, 8, {"promo/a": series_text("A", "CODEA", value=100)})
    run = world.run_workflow("plan.yml", "pull_request", pull_request=pr, matrix=ONLY_TESTING)
    assert run.result("plan") == "success"
    artifact = world.store / str(run.run_id) / f"reconciler-plan-testing-{pr['head']['sha']}"
    path = Path(artifact / "plan-testing.json")
    text = path.read_text()
    assert '"discountValue": 100' in text
    path.write_text(text.replace('"discountValue": 100', '"discountValue": 999'))
    world.merge_pull_request(8)
    run = world.run_workflow("apply.yml", "push", only=("reviewed-plan", "apply-testing"))
    assert run.result("apply-testing") == "failure"
    assert github.by_code("testing") == {}, "nothing written"
    comment = world.comments(8)[-1]
    assert "What differs" in comment, comment
    assert "| 999 |" in comment or "999" in comment
    assert "New plan, sha256" in comment
    assert "What differs" in run.job("apply-testing").summary
