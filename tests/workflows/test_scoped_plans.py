"""A pull request's plan covers what it changes (``--changed-since`` its base), and the apply
after the merge rebuilds that scope; a change to a file every series depends on plans the
whole folder. Run through the workflows' own steps, fed GitHub's payloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.workflows.conftest import GitHub, series_text
from tests.workflows.test_flows import add_series, bootstrap, plan_comment


def reviewed_plan(github: GitHub, run_id: int, pr: dict[str, Any], env: str) -> dict[str, Any]:
    folder = github.world.store / str(run_id) / f"reconciler-plan-{env}-{pr['head']['sha']}"
    return dict(json.loads(Path(folder / f"plan-{env}.json").read_text()))


def test_a_pull_request_plan_covers_its_change_and_the_merge_applies_that_scope(
    github: GitHub,
) -> None:
    world = github.world
    bootstrap(github, 6)
    base = world.git("rev-parse", "origin/main").strip()
    pr = add_series(world, 5, {"bulk/s03": series_text("Series 3", "BULK03", 175)})
    run = world.run_workflow(
        "plan.yml", "pull_request", pull_request=pr, matrix={"environment": "testing"}
    )
    assert run.result("plan") == "success", run.job("plan").log
    plan = reviewed_plan(github, run.run_id, pr, "testing")
    scope = plan["scope"]
    assert scope is not None, "a pull request's plan is scoped to its change"
    assert (scope["changed"], scope["folder_wide"]) == (["bulk/s03"], [])
    assert scope["changed_since"] == base, "measured from the pull request's base"
    body = plan_comment(world, 5, "testing")
    assert "covers the 1 series whose files changed" in body
    assert "**Plan: 0 to create, 1 to update, 0 unchanged.**" in body, body

    world.merge_pull_request(5)
    run = world.run_workflow("apply.yml", "push", only=("reviewed-plan", "apply-testing"))
    assert run.result("apply-testing") == "success", run.job("apply-testing").log
    live = github.by_code("testing")
    assert live["BULK03"]["discountValue"] == 175
    assert all(live[f"BULK{i:02d}"]["discountValue"] == 100 for i in (0, 1, 2, 4, 5))


def test_a_policy_file_in_the_pull_request_plans_the_whole_folder(github: GitHub) -> None:
    world = github.world
    bootstrap(github, 4)
    world.git("checkout", "-q", "-B", "pr-6", "origin/main")
    world.write(
        "series/policy.yaml",
        "rules:\n  - id: big\n    level: warn\n    percent_above: 50\n",
    )
    world.commit("PR 6: a policy")
    pr = world.open_pull_request("pr-6", 6)
    run = world.run_workflow(
        "plan.yml", "pull_request", pull_request=pr, matrix={"environment": "testing"}
    )
    assert run.result("plan") == "success", run.job("plan").log
    scope = reviewed_plan(github, run.run_id, pr, "testing")["scope"]
    assert scope["folder_wide"] == ["policy.yaml"], scope
    assert "covers the whole folder" in plan_comment(world, 6, "testing")
    assert "4 unchanged" in plan_comment(world, 6, "testing")


def test_the_scheduled_drift_check_and_a_dispatched_plan_cover_the_whole_org() -> None:
    root = Path(__file__).resolve().parents[2] / ".github" / "workflows"
    assert "changed-since" not in (root / "drift.yml").read_text()
    plan = (root / "plan.yml").read_text()
    # Only a pull request has a base to measure from; a dispatched run leaves it empty.
    assert "changed-since: ${{ steps.changes.outputs.base }}" in plan
    # After a merge, the reviewed plan must cover what the push changed.
    apply = (root / "apply.yml").read_text()
    wanted = "changed-since: ${{ github.event_name == 'push' && github.event.before || '' }}"
    assert apply.count(wanted) == 2, "testing and production"
