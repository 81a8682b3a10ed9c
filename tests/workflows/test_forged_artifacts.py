"""A teammate with push access forges the reviewed plan (issue 20, "the artifact belongs to
this pull request"): the apply after a merge takes a plan only from a ``pull_request`` run
of plan.yml for the merged pull request into the default branch, and none from a pull
request that edits the workflows. The forged plans below are what an apply would write if
it took them (a create of a series no file declares); the apply-on-merge writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.workflows.conftest import GitHub, series_text
from tests.workflows.harness import World
from tests.workflows.test_flows import add_series

# A plan.yml that uploads, under the name the apply looks for, a plan the attacker made.
FORGING_PLAN_YML = """\
name: reconciler plan
on:
  pull_request:
permissions:
  contents: read
jobs:
  plan:
    name: plan testing
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          persist-credentials: false
      - run: cp forged/plan-testing.json plan-testing.json
      - uses: actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0
        with:
          name: reconciler-plan-testing-${{ github.event.pull_request.head.sha }}
          path: plan-testing.json
"""


def forged_plan(github: GitHub, merge_ref: str) -> str:
    """The plan of ``merge_ref`` against the testing org, with a create added that no file
    declares (EVIL100): what the apply would send if it trusted the file."""
    world = github.world
    work = world.root / f"forge-{merge_ref.replace('/', '-')}"
    world.git("clone", "-q", str(world.origin), str(work), cwd=world.root)
    world.git("fetch", "-q", "origin", merge_ref, cwd=work)
    world.git("checkout", "-q", "--detach", "FETCH_HEAD", cwd=work)
    env = {**world.env(), **world.env_secrets["testing"]}
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", "--env", "testing", "--out", "plan.json"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    plan: dict[str, Any] = json.loads((work / "plan.json").read_text())
    (create,) = [s for s in plan["series"] if s["action"] == "create"]
    evil = json.loads(json.dumps(create))
    evil["key"], evil["file"] = "promo/evil", "series/promo/evil.yaml"
    evil["desired"].update(discountCode="EVIL100", description="not in any file")
    evil["desired"].pop("seriesCode", None)
    plan["series"].append(evil)
    plan["counts"]["create"] += 1
    return json.dumps(plan, indent=2)


def push_forger(world: World, branch: str, base: str, plan: str) -> None:
    """``branch`` from ``base`` with the forging plan.yml and the forged plan file."""
    world.git("checkout", "-q", "-B", branch, f"origin/{base}")
    world.write(".github/workflows/plan.yml", FORGING_PLAN_YML)
    world.write("forged/plan-testing.json", plan)
    world.commit("forge")
    world.git("push", "-q", "-f", "origin", f"HEAD:refs/heads/{branch}")


def reviewed(run: Any) -> tuple[str, str]:
    job = run.job("reviewed-plan")
    return job.outputs["testing-run"], job.summary


def test_a_plan_from_a_pull_request_into_another_base_is_never_the_reviewed_one(
    github: GitHub,
) -> None:
    world = github.world
    # The honest pull request #41, planned and reviewed, into main.
    pr = add_series(world, 41, {"promo/a": series_text("A", "CODEA")})
    honest = world.run_workflow(
        "plan.yml", "pull_request", pull_request=pr, matrix={"environment": "testing"}
    )
    assert honest.result("plan") == "success", honest.job("plan").log
    # The attacker: a base branch whose plan.yml forges, and the same head proposed into it.
    push_forger(world, "evil", "main", forged_plan(github, "refs/pull/41/merge"))
    world.git("checkout", "-q", "pr-41")
    evil = world.open_pull_request("pr-41", 42, base="evil")
    forged = world.run_workflow("plan.yml", "pull_request", pull_request=evil)
    assert forged.result("plan") == "success", forged.job("plan").log
    name = f"reconciler-plan-testing-{pr['head']['sha']}"
    runs = [a["workflow_run"]["id"] for a in world.api()["artifacts"] if a["name"] == name]
    assert runs == [honest.run_id, forged.run_id], "the forgery is the newest artifact"

    world.merge_pull_request(41)
    run = world.run_workflow("apply.yml", "push", only=("reviewed-plan", "apply-testing"))
    taken, summary = reviewed(run)
    assert taken == str(honest.run_id), summary
    assert (
        f"not taken: run {forged.run_id}: made for another pull request (#42 into evil)"
        in (summary)
        or f"not taken: run {forged.run_id}: its branch is also proposed into evil" in summary
    )
    assert run.result("apply-testing") == "success", run.job("apply-testing").log
    assert set(github.by_code("testing")) == {"CODEA"}, "the reviewed plan, not the forgery"


def test_with_only_the_forged_plan_the_apply_on_merge_writes_nothing(github: GitHub) -> None:
    world = github.world
    add_series(world, 51, {"promo/a": series_text("A", "CODEA")})
    push_forger(world, "evil", "main", forged_plan(github, "refs/pull/51/merge"))
    world.git("checkout", "-q", "pr-51")
    evil = world.open_pull_request("pr-51", 52, base="evil")
    forged = world.run_workflow("plan.yml", "pull_request", pull_request=evil)
    assert forged.result("plan") == "success"

    world.merge_pull_request(51)
    run = world.run_workflow("apply.yml", "push", only=("reviewed-plan", "apply-testing"))
    taken, summary = reviewed(run)
    assert taken == "", summary
    assert "testing: no reviewed plan" in summary
    assert run.result("apply-testing") == "failure"
    assert github.by_code("testing") == {}, "0 writes: no EVIL100, and no unreviewed CODEA"
    refusal = world.comments(51)[-1]
    assert "Not applied to testing: nothing was written" in refusal and "CODEA" in refusal


def test_a_pull_request_that_edits_plan_yml_has_no_reviewed_plan(github: GitHub) -> None:
    world = github.world
    # The pull request changes a series AND the workflow that plans it.
    world.git("checkout", "-q", "-B", "pr-61", "origin/main")
    world.write("series/promo/a.yaml", series_text("A", "CODEA"))
    world.commit("a series")
    world.git("push", "-q", "origin", "HEAD:refs/heads/pr-61")
    honest_plan = forged_plan_for_branch(github, "pr-61")
    world.write(".github/workflows/plan.yml", FORGING_PLAN_YML)
    world.write("forged/plan-testing.json", honest_plan)
    world.commit("plan.yml that uploads my own plan")
    pr = world.open_pull_request("pr-61", 61)
    run = world.run_workflow("plan.yml", "pull_request", pull_request=pr)
    assert run.result("plan") == "success", "its own plan.yml ran"

    world.merge_pull_request(61)
    run = world.run_workflow("apply.yml", "push", only=("reviewed-plan", "apply-testing"))
    taken, summary = reviewed(run)
    assert taken == ""
    assert "changes .github/workflows/plan.yml" in summary and "no evidence" in summary
    assert github.by_code("testing") == {}, "0 writes"
    assert "Not applied to testing" in world.comments(61)[-1]


def forged_plan_for_branch(github: GitHub, branch: str) -> str:
    """As ``forged_plan``, for ``branch`` merged into main (the merge GitHub would make)."""
    world = github.world
    world.git("fetch", "-q", "origin")
    head = world.git("rev-parse", "HEAD")
    world.git("checkout", "-q", "--detach", "origin/main")
    world.git("merge", "-q", "--no-ff", "-m", "merge", f"origin/{branch}")
    merge = world.git("rev-parse", "HEAD")
    world.git("push", "-q", "-f", "origin", f"{merge}:refs/forge/merge")
    world.git("checkout", "-q", head)
    world.git("checkout", "-q", "-B", branch)
    return forged_plan(github, "refs/forge/merge")
