"""The policy in CI: a pull request is held to the default branch's rules (it cannot weaken
its own guard-rails), and a plan the policy refuses still reaches the pull request."""

from __future__ import annotations

from tests.workflows.conftest import GitHub, series_text
from tests.workflows.test_flows import bootstrap, ledger_begins, plan_comment

DENY = """\
rules:
  - id: big-amount
    level: deny
    reason: more than 500 off is never applied by a pull request
    amount_above: 500
"""


def put_policy_on_main(github: GitHub) -> None:
    world = github.world
    world.git("checkout", "-q", "-B", "main", "origin/main")
    world.write("series/policy.yaml", DENY)
    world.commit("policy on main")
    world.git("push", "-q", "origin", "HEAD:refs/heads/main")


def test_a_pull_request_that_drops_a_deny_rule_is_still_held_to_it(github: GitHub) -> None:
    world = github.world
    bootstrap(github, 2)
    put_policy_on_main(github)
    world.git("checkout", "-q", "-B", "pr-20", "origin/main")
    world.git("rm", "-q", "series/policy.yaml")
    world.write("series/bulk/s01.yaml", series_text("Series 1", "BULK01", 900))
    world.commit("PR 20: drop the rule, and 900 off")
    pr = world.open_pull_request("pr-20", 20)
    run = world.run_workflow(
        "plan.yml", "pull_request", pull_request=pr, matrix={"environment": "testing"}
    )
    assert run.result("plan") == "failure", "the check fails: the default branch's rule holds"
    log = run.job("plan").log
    assert "Trusted policy: series/policy.yaml of main." in log
    body = plan_comment(world, 20, "testing")
    assert "big-amount" in body, body
    assert "| discountValue | 100 | 900 |" in body, body
    assert int(github.by_code("testing")["BULK01"]["discountValue"]) == 100, "nothing written"


def test_without_a_policy_on_main_a_pull_request_plans_as_before(github: GitHub) -> None:
    world = github.world
    bootstrap(github, 1)
    world.git("checkout", "-q", "-B", "pr-21", "origin/main")
    world.write("series/bulk/s00.yaml", series_text("Series 0", "BULK00", 900))
    world.commit("PR 21")
    pr = world.open_pull_request("pr-21", 21)
    run = world.run_workflow(
        "plan.yml", "pull_request", pull_request=pr, matrix={"environment": "testing"}
    )
    assert run.result("plan") == "success", run.job("plan").log
    assert "Trusted policy" not in run.job("plan").log


APPROVE = DENY.replace("level: deny", "level: approve").replace(
    "is never applied by a pull request", "needs the marketing lead"
)


def big_discount_pull_request(github: GitHub, number: int) -> None:
    """main holds an approve rule; a pull request trips it (its plan shown, its check red)."""
    world = github.world
    bootstrap(github, 1)
    world.git("checkout", "-q", "-B", "main", "origin/main")
    world.write("series/policy.yaml", APPROVE)
    world.commit("policy on main")
    world.git("push", "-q", "origin", "HEAD:refs/heads/main")
    world.git("checkout", "-q", "-B", f"pr-{number}", "origin/main")
    world.write("series/bulk/s00.yaml", series_text("Series 0", "BULK00", 900))
    world.commit(f"PR {number}: 900 off")
    pr = world.open_pull_request(f"pr-{number}", number)
    run = world.run_workflow(
        "plan.yml", "pull_request", pull_request=pr, matrix={"environment": "testing"}
    )
    assert run.result("plan") == "failure"
    body = plan_comment(world, number, "testing")
    assert "The policy refuses this plan" in body and "big-amount" in body, body


def test_an_override_label_added_by_a_reviewer_lifts_the_rule_and_is_recorded(
    github: GitHub,
) -> None:
    world = github.world
    big_discount_pull_request(github, 30)
    world.label_pull_request(30, "policy-override:big-amount", by="marketing-lead")
    world.review_pull_request(30, by="marketing-lead")
    world.review_pull_request(30, by="dev")  # the author's own approval counts for nothing
    world.merge_pull_request(30)
    run = world.run_workflow("apply.yml", "push", only=("reviewed-plan", "apply-testing"))
    assert run.result("apply-testing") == "success", run.job("apply-testing").log
    assert int(github.by_code("testing")["BULK00"]["discountValue"]) == 900
    assert "Policy overrides granted by labels: `big-amount`" in run.job("reviewed-plan").summary
    (record,) = [r for r in ledger_begins(world, "testing") if r.get("overrides")]
    (override,) = record["overrides"]
    assert override["rule"] == "big-amount"
    assert "@marketing-lead" in override["reason"] and "#30" in override["reason"]
    assert record["approved_by"] == "@marketing-lead"


def test_an_override_label_the_author_added_lifts_nothing(github: GitHub) -> None:
    world = github.world
    big_discount_pull_request(github, 31)
    world.label_pull_request(31, "policy-override:big-amount", by="dev")  # dev: the author
    world.merge_pull_request(31)
    run = world.run_workflow("apply.yml", "push", only=("reviewed-plan", "apply-testing"))
    assert run.result("apply-testing") == "failure"
    assert "not counted" in run.job("reviewed-plan").summary
    assert int(github.by_code("testing")["BULK00"]["discountValue"]) == 100, "nothing written"
    (error,) = [a for a in run.job("apply-testing").annotations() if "reconciler apply" in a]
    assert "big-amount" in error or "policy" in error, error
