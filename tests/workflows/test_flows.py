"""The pull-request flow end to end, run locally: plan on the pull request, apply the reviewed
plan on merge, refuse a stale one, apply by hand behind the environment's approval."""

from __future__ import annotations

import hashlib
import re

from tests.workflows.conftest import GitHub, series_text
from tests.workflows.harness import World

MARKERS = re.compile(r"<!-- reconciler-[a-z]+(?::[a-z]+)? -->")


def add_series(world: World, number: int, files: dict[str, str]) -> dict[str, object]:
    world.git("checkout", "-q", "-B", f"pr-{number}", "origin/main")
    for key, text in files.items():
        world.write(f"series/{key}.yaml", text)
    world.commit(f"PR {number}")
    return world.open_pull_request(f"pr-{number}", number)


def state_files(world: World) -> list[str]:
    world.git("fetch", "-q", "origin")
    return world.git("ls-tree", "-r", "--name-only", "origin/reconciler-state").split()


def plan_comment(world: World, number: int, env: str) -> str:
    (body,) = [
        b for b in world.comments(number) if b.startswith(f"<!-- reconciler-plan:{env} -->\n")
    ]
    return body


def test_the_reviewed_plan_is_applied_and_a_stale_one_is_refused_then_applied_by_hand(
    github: GitHub,
) -> None:
    world = github.world
    # 1. A pull request adds two series: one plan comment per environment, with its digest.
    pr = add_series(
        world, 1, {"promo/a": series_text("A", "CODEA"), "promo/b": series_text("B", "CODEB")}
    )
    run = world.run_workflow("plan.yml", "pull_request", pull_request=pr)
    assert run.result("plan") == "success", run.job("plan").log
    for env in ("testing", "production"):
        body = plan_comment(world, 1, env)
        assert len(MARKERS.findall(body)) == 1, body
        assert "**Plan: 2 to create, 0 to update, 0 unchanged.**" in body
        artifact = world.store / str(run.run_id) / f"reconciler-plan-{env}-{pr['head']['sha']}"
        digest = hashlib.sha256((artifact / f"plan-{env}.json").read_bytes()).hexdigest()
        assert f"`{digest}`" in body

    # 2. Merged: the apply finds that plan and applies it, testing then production.
    world.merge_pull_request(1)
    run = world.run_workflow("apply.yml", "push")
    assert run.result("reviewed-plan") == "success"
    assert run.result("apply-testing") == "success", run.job("apply-testing").log
    assert run.result("apply-production") == "success", run.job("apply-production").log
    for env in ("testing", "production"):
        assert set(github.by_code(env)) == {"CODEA", "CODEB"}
    assert "Converged" in run.job("apply-production").summary
    assert state_files(world) == ["series/.state/production.json", "series/.state/testing.json"]
    assert (
        "Applied to testing" in world.comments(1)[-2]
        and "Applied to production" in world.comments(1)[-1]
    )

    # 3. A pull request changes one value; the plan comment is updated in place.
    pr = add_series(world, 2, {"promo/a": series_text("A", "CODEA", value=150)})
    run = world.run_workflow("plan.yml", "pull_request", pull_request=pr)
    assert run.result("plan") == "success", run.job("plan").log
    reviewed = plan_comment(world, 2, "testing")
    assert "| discountValue | 100 | 150 |" in reviewed

    # 4. After the review, someone edits the series in the testing CRM. The merge's apply
    #    refuses the stale plan: no write in either org, the new plan goes on the pull request.
    a_id = int(github.by_code("testing")["CODEA"]["id"])
    github.orgs["testing"].edit_series(a_id, {"description": "Edited in the CRM"})
    before = {env: github.by_code(env) for env in ("testing", "production")}
    world.merge_pull_request(2)
    run = world.run_workflow("apply.yml", "push")
    apply = run.job("apply-testing")
    assert run.result("apply-testing") == "failure"
    assert run.result("apply-production") == "skipped", "production waits for testing"
    assert {env: github.by_code(env) for env in ("testing", "production")} == before, "0 writes"
    (error,) = [a for a in apply.annotations() if "title=reconciler apply (testing)" in a]
    assert "the saved plan is stale" in error and "changed in the CRM since the plan" in error
    refusal = world.comments(2)[-1]
    assert refusal.startswith("<!-- reconciler-apply:testing -->\n")
    assert len(MARKERS.findall(refusal)) == 1
    assert "Not applied to testing: nothing was written" in refusal
    assert "| description | &quot;Edited in the CRM&quot; | &quot;A&quot; |" in refusal
    assert "| discountValue | 100 | 150 |" in refusal

    # 5. A maintainer applies the new plan by hand: the plan job shows it (with its digest)
    #    before the apply job, which runs in the environment (its reviewers approve here).
    run = world.run_workflow(
        "apply.yml",
        "workflow_dispatch",
        inputs={
            "environment": "testing",
            "force": False,
            "reason": "CRM edit",
            "pull-request": "2",
        },
    )
    assert list(run.jobs) == ["manual-plan", "apply-testing"]
    shown = run.job("manual-plan").summary
    assert "Plan digest" in shown and "| discountValue | 100 | 150 |" in shown
    assert run.result("apply-testing") == "success", run.job("apply-testing").log
    live = github.by_code("testing")["CODEA"]
    assert (live["discountValue"], live["description"]) == (150, "A")
    assert "Applied to testing" in world.comments(2)[-1]
