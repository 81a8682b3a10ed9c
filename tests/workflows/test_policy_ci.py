"""The policy in CI: a pull request is held to the default branch's rules (it cannot weaken
its own guard-rails), and a plan the policy refuses still reaches the pull request."""

from __future__ import annotations

from tests.workflows.conftest import GitHub, series_text
from tests.workflows.test_flows import bootstrap, plan_comment

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
