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
    assert state_files(world) == [
        "series/.state/production.json",
        "series/.state/production.ledger.jsonl",
        "series/.state/testing.json",
        "series/.state/testing.ledger.jsonl",
    ]
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


def bootstrap(github: GitHub, n: int) -> None:
    """n series in main and in the testing org, through the workflows (PR, merge, apply)."""
    world = github.world
    files = {f"bulk/s{i:02d}": series_text(f"Series {i}", f"BULK{i:02d}") for i in range(n)}
    pr = add_series(world, 90, files)
    run = world.run_workflow(
        "plan.yml", "pull_request", pull_request=pr, matrix={"environment": "testing"}
    )
    assert run.result("plan") == "success", run.job("plan").log
    world.merge_pull_request(90)
    run = world.run_workflow("apply.yml", "push", only=("reviewed-plan", "apply-testing"))
    assert run.result("apply-testing") == "success", run.job("apply-testing").log
    assert len(github.by_code("testing")) == n


def test_a_pull_request_tripping_a_rail_shows_it_and_only_a_forced_manual_apply_passes(
    github: GitHub,
) -> None:
    world = github.world
    bootstrap(github, 10)
    changed = {f"bulk/s{i:02d}": series_text(f"Series {i}", f"BULK{i:02d}", 90) for i in range(4)}
    pr = add_series(world, 3, changed)
    run = world.run_workflow(
        "plan.yml", "pull_request", pull_request=pr, matrix={"environment": "testing"}
    )
    assert run.result("plan") == "success"
    body = plan_comment(world, 3, "testing")
    rail = "4 of 10 existing series would be updated (40%, more than the 30% allowed)"
    # At the top: the caution block comes before the counts.
    assert body.index("> [!CAUTION]") < body.index("| Action | Count |")
    assert f"> - {rail}" in body
    escaped = rail.replace("%", "%25")  # as workflow commands carry it
    assert any(escaped in a for a in run.job("plan").annotations("warning"))

    world.merge_pull_request(3)
    before = github.by_code("testing")
    run = world.run_workflow("apply.yml", "push", only=("reviewed-plan", "apply-testing"))
    assert run.result("apply-testing") == "failure"
    assert github.by_code("testing") == before, "the rail refused before any write"
    errors = run.job("apply-testing").annotations()
    assert any(f"refusing to apply: {escaped}" in a for a in errors), errors

    run = world.run_workflow(
        "apply.yml",
        "workflow_dispatch",
        inputs={
            "environment": "testing",
            "force": True,
            "reason": "spring prices",
            "pull-request": "",
        },
    )
    assert "force is set" in run.job("manual-plan").summary
    apply = run.job("apply-testing")
    assert run.result("apply-testing") == "success", apply.log
    assert "### Safety rails lifted (force)" in apply.summary and rail in apply.summary
    assert {s["discountValue"] for c, s in github.by_code("testing").items() if c < "BULK04"} == {
        90
    }


def test_state_lives_on_its_own_branch_so_a_protected_main_does_not_matter(
    github: GitHub,
) -> None:
    world = github.world
    pr = add_series(world, 4, {"promo/a": series_text("A", "CODEA")})
    world.merge_pull_request(4)
    # From now on main refuses every push (branch protection; GITHUB_TOKEN cannot bypass it).
    attempts = world.root / "main-push-attempts"
    hook = world.origin / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\n"
        "while read old new ref; do\n"
        f'  if [ "$ref" = refs/heads/main ]; then echo "$new" >>"{attempts}"; '
        'echo "protected branch" >&2; exit 1; fi\n'
        "done\n"
    )
    hook.chmod(0o755)
    dispatch = {"environment": "testing", "force": False, "reason": "", "pull-request": ""}
    for _ in range(2):
        run = world.run_workflow("apply.yml", "workflow_dispatch", inputs=dispatch)
        assert run.result("apply-testing") == "success", run.job("apply-testing").log
        assert github.by_code("testing").keys() == {"CODEA"}, "created once, never twice"
    assert "Plan: 0 to create, 0 to update, 1 unchanged." in run.job("manual-plan").summary
    assert state_files(world) == [
        "series/.state/testing.json",
        "series/.state/testing.ledger.jsonl",
    ]
    assert not attempts.exists(), "nothing tried to push to main"
    assert pr["number"] == 4
