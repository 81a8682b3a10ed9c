"""The workflows under the events GitHub really sends: a scheduled drift run (no repository
in its payload), required checks on pull requests that change no series, the adopt pull
request that GITHUB_TOKEN cannot start checks for, and a team with one org."""

from __future__ import annotations

from typing import Any

from tests.workflows.conftest import GitHub, series_text
from tests.workflows.harness import World
from tests.workflows.test_flows import add_series, bootstrap, plan_comment

ECHO_YML = """\
name: echo
on:
  schedule:
    - cron: "0 0 * * *"
  push:
  workflow_dispatch:
    inputs:
      flag:
        type: boolean
permissions:
  contents: read
jobs:
  echo:
    runs-on: ubuntu-latest
    timeout-minutes: 1
    steps:
      - env:
          EVENT: ${{ toJSON(github.event) }}
          FLAG: ${{ inputs.flag }}
          DEFAULT: ${{ github.event.repository.default_branch }}
        run: printf 'EVENT=%s\\nFLAG=%s\\nDEFAULT=%s\\n' "$EVENT" "$FLAG" "$DEFAULT"
"""


def adopt_pulls(world: World) -> list[dict[str, Any]]:
    return [p for p in world.api()["pulls"] if p["head"]["ref"] == "reconciler/adopt-testing"]


def test_the_events_carry_what_github_sends_and_nothing_more(github: GitHub) -> None:
    world = github.world
    seen: dict[str, Any] = {}
    # A workflow that records its event: the harness hands it what GitHub would.
    world.git("checkout", "-q", "-B", "main", "origin/main")
    world.write(".github/workflows/echo.yml", ECHO_YML)
    world.commit("echo")
    world.git("push", "-q", "origin", "HEAD:refs/heads/main")
    for event in ("schedule", "push", "workflow_dispatch"):
        inputs = {"flag": True} if event == "workflow_dispatch" else None
        run = world.run_workflow("echo.yml", event, inputs=inputs)
        seen[event] = run.job("echo").log
    assert '"schedule": "17 6 * * *"' in seen["schedule"]
    assert '"repository"' not in seen["schedule"], "a scheduled run names no repository"
    assert "\nDEFAULT=\n" in seen["schedule"], "so no default branch from the event"
    assert '"pull_request"' not in seen["push"] and "\nDEFAULT=main\n" in seen["push"]
    # The event's inputs are strings; the inputs context keeps the boolean.
    assert '"flag": "true"' in seen["workflow_dispatch"]
    assert "\nFLAG=true\n" in seen["workflow_dispatch"]


def test_a_scheduled_drift_run_opens_the_adopt_pull_request_into_the_default_branch(
    github: GitHub,
) -> None:
    world = github.world
    world.actions_may_open_pull_requests(True)  # a team that turned the setting on
    bootstrap(github, 1)
    live = github.by_code("testing")["BULK00"]
    github.orgs["testing"].edit_series(int(live["id"]), {"description": "Edited in the CRM"})
    run = world.run_workflow("drift.yml", "schedule", matrix={"environment": "testing"})
    assert run.result("drift") == "success", run.job("drift").log
    (pr,) = adopt_pulls(world)
    assert pr["base"]["ref"] == "main"
    (issue,) = [i for i in world.api()["issues"] if i["state"] == "open"]
    assert f"#{pr['number']}" in issue["body"]


def test_pull_requests_that_change_no_series_pass_the_required_checks_at_once(
    github: GitHub,
) -> None:
    world = github.world
    # A docs-only pull request, and a Dependabot-style bump of an action's pin.
    world.git("checkout", "-q", "-B", "docs", "origin/main")
    world.write("README.md", "coupon series, documented\n")
    world.commit("docs")
    docs = world.open_pull_request("docs", 11)
    world.git("checkout", "-q", "-B", "bump", "origin/main")
    path = world.dev / ".github" / "workflows" / "plan.yml"
    path.write_text(path.read_text().replace("# v7.0.1", "# v7.0.1 (bumped)"))
    world.commit("Bump actions/checkout")
    bump = world.open_pull_request("bump", 12)
    for pr in (docs, bump):
        calls = len(world.api()["calls"])
        run = world.run_workflow("plan.yml", "pull_request", pull_request=pr)
        assert run.triggered, "plan.yml runs on every pull request"
        legs = run.jobs["plan"]
        assert [j.result for j in legs] == ["success", "success"]  # both required checks
        for leg in legs:
            assert leg.step("Did this pull request change a series?").outputs == {
                "changed": "false"
            }
            assert leg.step("Validate").outcome == "skipped"
            assert "No series changed" in leg.summary
        assert run.result("comment") == "success"
        assert world.calls(calls) == [], "no comment on a pull request that plans nothing"

    # A pull request that changed a series, then took the change back: its comment says so.
    pr = add_series(world, 13, {"promo/a": series_text("A", "CODEA")})
    world.run_workflow("plan.yml", "pull_request", pull_request=pr)
    assert "1 to create" in plan_comment(world, 13, "testing")
    world.git("checkout", "-q", "pr-13")
    world.git("rm", "-q", "series/promo/a.yaml")
    world.commit("Not this one after all")
    pr = world.open_pull_request("pr-13", 13)
    world.run_workflow("plan.yml", "pull_request", pull_request=pr)
    body = plan_comment(world, 13, "testing")
    assert "No series changed in this pull request any more" in body


def test_the_adopt_pull_request_gets_its_plan_by_a_dispatch_and_merging_it_applies_nothing(
    github: GitHub,
) -> None:
    world = github.world
    world.actions_may_open_pull_requests(True)  # a team that turned the setting on
    bootstrap(github, 2)
    live = github.by_code("testing")["BULK01"]
    github.orgs["testing"].edit_series(int(live["id"]), {"discountValue": 125})
    run = world.run_workflow("drift.yml", "schedule", matrix={"environment": "testing"})
    assert run.result("drift") == "success", run.job("drift").log
    (pr,) = adopt_pulls(world)
    assert "close and reopen this pull request" in pr["body"]
    # GITHUB_TOKEN's pull request starts no run; the drift job asked for a dispatch instead.
    (dispatch,) = world.take_dispatches()
    assert dispatch == {
        "workflow_id": "plan.yml",
        "ref": "reconciler/adopt-testing",
        "inputs": {"pull-request": str(pr["number"])},
    }
    run = world.run_workflow(
        "plan.yml",
        "workflow_dispatch",
        ref=dispatch["ref"],
        inputs=dispatch["inputs"],
        actor="github-actions[bot]",
        matrix={"environment": "testing"},
    )
    assert run.result("plan") == "success", run.job("plan").log
    assert run.result("comment") == "success", run.job("comment").log
    body = plan_comment(world, pr["number"], "testing")
    # The branch holds the CRM's value: its plan is empty, which is what the reviewer checks.
    assert "Plan: 0 to create, 0 to update" in body

    # The same drift the next day: nothing pushed, so no new dispatch.
    world.run_workflow("drift.yml", "schedule", matrix={"environment": "testing"})
    assert world.take_dispatches() == []

    # Merged: no reviewed plan (a dispatched run is not this pull request's review), but the
    # plan of main is empty, so the apply succeeds, writes nothing and opens no issue.
    world.merge_pull_request(pr["number"])
    before = github.by_code("testing")
    issues = len(world.api()["issues"])
    run = world.run_workflow("apply.yml", "push", only=("reviewed-plan", "apply-testing"))
    assert run.result("apply-testing") == "success", run.job("apply-testing").log
    assert github.by_code("testing") == before
    assert len(world.api()["issues"]) == issues, "no 'not applied' issue"
    assert "Nothing to apply to testing" in world.comments(pr["number"])[-1]


def test_a_dispatch_naming_another_pull_request_comments_nothing(github: GitHub) -> None:
    world = github.world
    pr = add_series(world, 21, {"promo/a": series_text("A", "CODEA")})
    world.git("push", "-q", "origin", "HEAD:refs/heads/other")
    calls = len(world.api()["calls"])
    run = world.run_workflow(
        "plan.yml",
        "workflow_dispatch",
        ref="other",
        inputs={"pull-request": str(pr["number"])},
        matrix={"environment": "testing"},
    )
    assert run.result("comment") == "failure"
    assert "is not an open pull request whose head is other" in run.job("comment").log
    assert world.calls(calls) == []


def test_with_a_github_app_the_adopt_pull_request_is_its_and_no_dispatch_is_needed(
    github: GitHub,
) -> None:
    world = github.world
    bootstrap(github, 1)
    world.vars["RECONCILER_APP_CLIENT_ID"] = "Iv1.0123456789abcdef"
    world.repo_secrets["RECONCILER_APP_PRIVATE_KEY"] = "-----BEGIN RSA PRIVATE KEY-----..."
    live = github.by_code("testing")["BULK00"]
    github.orgs["testing"].edit_series(int(live["id"]), {"description": "Edited in the CRM"})
    run = world.run_workflow("drift.yml", "schedule", matrix={"environment": "testing"})
    assert run.result("drift") == "success", run.job("drift").log
    (pr,) = adopt_pulls(world)
    assert "close and reopen" not in pr["body"]
    assert world.take_dispatches() == []


def test_one_org_is_configuration_not_a_new_apply_workflow(github: GitHub) -> None:
    world = github.world
    world.vars["RECONCILER_ENVIRONMENTS"] = '["production"]'
    for name in list(world.repo_secrets):
        if name.startswith("CAPILLARY_TESTING_"):
            del world.repo_secrets[name]
    del world.env_secrets["testing"]
    pr = add_series(world, 31, {"promo/a": series_text("A", "CODEA")})
    run = world.run_workflow("plan.yml", "pull_request", pull_request=pr)
    assert len(run.jobs["plan"]) == 1 and run.result("plan") == "success"
    assert "1 to create" in plan_comment(world, 31, "production")
    assert not [b for b in world.comments(31) if "reconciler-plan:testing" in b]
    world.merge_pull_request(31)
    run = world.run_workflow("apply.yml", "push")
    assert run.result("apply-testing") == "skipped"
    assert run.result("apply-production") == "success", run.job("apply-production").log
    assert set(github.by_code("production")) == {"CODEA"}
    assert github.by_code("testing") == {}
    run = world.run_workflow("drift.yml", "schedule")
    assert [j.result for j in run.jobs["drift"]] == ["success"]


def test_a_manual_apply_reason_cannot_hide_the_force_warning(github: GitHub) -> None:
    from markdown_it import MarkdownIt

    world = github.world
    bootstrap(github, 1)
    reason = "routine <!-- | [x](https://evil.example) @team `code`"
    run = world.run_workflow(
        "apply.yml",
        "workflow_dispatch",
        inputs={"environment": "testing", "force": True, "reason": reason, "pull-request": ""},
        only=("manual-plan",),
    )
    summary = run.job("manual-plan").summary
    assert "routine <!--" not in summary and "](https://evil" not in summary
    assert "@team" not in summary
    assert summary.index("force is set") < summary.index("Reason:"), "the warning comes first"
    html = MarkdownIt("gfm-like").render(summary)
    assert "force is set: the safety rails below are lifted" in html
    assert "Plan digest" in html, "and the plan is not swallowed by a comment"
    assert "routine &lt;!--" in html


def test_by_default_a_person_opens_the_adopt_pull_request_and_its_checks_start(
    github: GitHub,
) -> None:
    world = github.world
    world.actions_may_open_pull_requests(False)  # GitHub's default, and docs/ci.md's advice
    bootstrap(github, 2)
    live = github.by_code("testing")["BULK01"]
    github.orgs["testing"].edit_series(int(live["id"]), {"discountValue": 125})
    run = world.run_workflow("drift.yml", "schedule", matrix={"environment": "testing"})
    assert run.result("drift") == "success", run.job("drift").log
    assert adopt_pulls(world) == [], "GitHub Actions may not open it"
    assert "pulls.create" in world.api().get("denied", [])
    assert world.take_dispatches() == []
    (issue,) = [i for i in world.api()["issues"] if i["state"] == "open"]
    link = "/compare/main...reconciler/adopt-testing?expand=1"
    assert link in issue["body"] and "open its pull request" in issue["body"]

    # A person opens it from the link: a person's pull request starts its plan like any other.
    world.git("fetch", "-q", "origin")
    world.git("checkout", "-q", "-B", "reconciler/adopt-testing", "origin/reconciler/adopt-testing")
    pr = world.open_pull_request(
        "reconciler/adopt-testing", 71, title="Adopt CRM changes (testing)"
    )
    run = world.run_workflow("plan.yml", "pull_request", pull_request=pr)
    assert [j.result for j in run.jobs["plan"]] == ["success", "success"]
    assert "Plan: 0 to create, 0 to update" in plan_comment(world, 71, "testing")

    # The next drift run finds that pull request and names it; the CRM reverted, it closes it.
    world.run_workflow("drift.yml", "schedule", matrix={"environment": "testing"})
    (issue,) = [i for i in world.api()["issues"] if i["state"] == "open"]
    assert 'open pull request #71 "Adopt CRM changes (testing)"' in issue["body"]
    github.orgs["testing"].edit_series(int(live["id"]), {"discountValue": 100})
    world.run_workflow("drift.yml", "schedule", matrix={"environment": "testing"})
    assert [p["state"] for p in adopt_pulls(world)] == ["closed"]
