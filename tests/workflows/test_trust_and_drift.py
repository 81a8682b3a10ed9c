"""A pull request cannot steer the secrets; drift issues are stable and offer both ways out."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.workflows.conftest import GitHub, series_text
from tests.workflows.harness import ROOT, WorkflowRun, World
from tests.workflows.test_flows import add_series, bootstrap, plan_comment


class Listener:
    """A loopback port that records every byte sent to it and answers 401."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port: int = self.sock.getsockname()[1]
        self.received = b""
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    self.received += conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass


@contextmanager
def listening() -> Iterator[Listener]:
    listener = Listener()
    listener.thread.start()
    try:
        yield listener
    finally:
        listener.sock.close()


def test_a_pull_request_moving_base_url_gets_a_refusal_and_no_credential_leaves(
    github: GitHub,
) -> None:
    world = github.world
    bootstrap(github, 1)  # a series the plan has to read from the CRM
    settings = (ROOT / "series" / "reconciler.yaml").read_text(encoding="utf-8")
    with listening() as listener:
        moved = settings.replace(
            "  testing:\n",
            f"  testing:\n    base_url: http://127.0.0.1:{listener.port}\n",
        )
        assert moved != settings
        pr = add_series(world, 5, {"reconciler": moved})
        run = world.run_workflow(
            "plan.yml", "pull_request", pull_request=pr, matrix={"environment": "testing"}
        )
    assert listener.received == b"", listener.received[:200]
    assert listener.connections == 0
    job = run.job("plan")
    assert job.step("Validate").outcome == "success", "validation still shows"
    assert job.step("Plan").outcome == "failure"
    body = plan_comment(world, 5, "testing")
    assert "The plan failed" in body and "base_url" in body


def test_drift_opens_one_stable_issue_offering_revert_and_adopt_then_closes_it(
    github: GitHub,
) -> None:
    world = github.world
    world.actions_may_open_pull_requests(True)  # a team that turned the setting on
    bootstrap(github, 2)
    series_id = int(github.by_code("testing")["BULK00"]["id"])
    github.orgs["testing"].edit_series(series_id, {"description": "Edited in the CRM"})

    def drift() -> None:
        run = world.run_workflow("drift.yml", "schedule", matrix={"environment": "testing"})
        assert run.result("drift") == "success", run.job("drift").log

    drift()
    (issue,) = [i for i in world.api()["issues"] if i["state"] == "open"]
    body = issue["body"]
    assert body.startswith("<!-- reconciler-drift:testing -->\n")
    assert body.count("<!-- reconciler-") == 1
    assert "revert the CRM" in body and "adopt its values" in body
    assert "| description | &quot;Edited in the CRM&quot; | &quot;Series 0&quot; |" in body
    head = body.split("\n\n---\n<sub>")[0]
    assert "/actions/runs/" not in head, "no run link in the compared part"
    (pr,) = adopt_pulls(world)
    assert f'open pull request #{pr["number"]} "Adopt CRM changes (testing)"' in body

    calls = len(world.api()["calls"])
    drift()  # unchanged drift: the body is rewritten (new footer), no comment, no new issue
    after = world.api()
    assert [c["call"] for c in after["calls"][calls:]] == ["issues.update"]
    (same,) = [i for i in after["issues"] if i["state"] == "open"]
    assert same["number"] == issue["number"] and same["body"].split("\n\n---\n<sub>")[0] == head

    # Reverted in the CRM (the other way out): the issue and the adopt pull request close.
    github.orgs["testing"].edit_series(series_id, {"description": "Series 0"})
    drift()
    assert [i["state"] for i in world.api()["issues"]] == ["closed"]
    assert [p["state"] for p in adopt_pulls(world)] == ["closed"]
    assert "nothing to adopt" in world.comments(pr["number"])[-1]


def adopt_pulls(world: World) -> list[dict[str, Any]]:
    return [p for p in world.api()["pulls"] if p["head"]["ref"] == "reconciler/adopt-testing"]


def _drift(world: World) -> WorkflowRun:
    run = world.run_workflow("drift.yml", "schedule", matrix={"environment": "testing"})
    assert run.result("drift") == "success", run.job("drift").log
    return run


def test_drift_opens_the_adopt_pull_request_and_merging_it_ends_the_drift(
    github: GitHub,
) -> None:
    world = github.world
    world.actions_may_open_pull_requests(True)  # a team that turned the setting on
    bootstrap(github, 2)
    live = github.by_code("testing")["BULK01"]
    # A limit raised in the CRM on purpose (declared: drift), and a field no file declares.
    github.orgs["testing"].edit_series(int(live["id"]), {"discountValue": 125, "maxCreate": 500})
    run = _drift(world)
    assert "bulk/s01: adopted discountValue" in run.job("drift").step("Adopt").log

    (pr,) = adopt_pulls(world)
    assert (pr["title"], pr["state"], pr["head"]["ref"], pr["base"]["ref"]) == (
        "Adopt CRM changes (testing)",
        "open",
        "reconciler/adopt-testing",
        "main",
    )
    assert "- bulk/s01: adopted discountValue → series/bulk/s01.yaml" in pr["body"]
    (issue,) = [i for i in world.api()["issues"] if i["state"] == "open"]
    assert f'open pull request #{pr["number"]} "Adopt CRM changes (testing)"' in issue["body"]

    # The branch: main plus the adopted value, one line of one file; no state on it.
    world.git("fetch", "-q", "origin")
    branch = "origin/reconciler/adopt-testing"
    assert world.git("diff", "--name-only", "origin/main", branch) == "series/bulk/s01.yaml"
    diff = world.git("diff", "-U0", "origin/main", branch, "--", "series/bulk/s01.yaml")
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
    # Production reads the file's top-level discountValue too: testing's goes in its block.
    assert changed == [
        "+reconciler:",
        "+  environments:",
        "+    testing:",
        "+      discountValue: 125",
    ]
    assert ".state" not in world.git("ls-tree", "-r", "--name-only", branch)
    assert world.git("log", "-1", "--format=%s", branch) == "Adopt CRM changes (testing)"
    tip = world.git("rev-parse", branch)

    # The same drift the next day: the same pull request, the branch not pushed again.
    calls = len(world.api()["calls"])
    _drift(world)
    assert [c["call"] for c in world.api()["calls"][calls:]] == ["issues.update"]
    world.git("fetch", "-q", "origin")
    assert world.git("rev-parse", branch) == tip

    # The reviewer merges it: the files now say what the CRM says, and the drift is gone.
    world.git("branch", "-f", "reconciler/adopt-testing", branch)
    world.merge_pull_request(pr["number"])
    _drift(world)
    assert [i["state"] for i in world.api()["issues"]] == ["closed"]
    assert [p["state"] for p in adopt_pulls(world)] == ["closed"]
    after = github.by_code("testing")["BULK01"]
    assert (after["discountValue"], after["maxCreate"]) == (125, 500)  # nothing written


def test_a_failing_adopt_is_said_in_the_issue_which_still_opens(github: GitHub) -> None:
    world = github.world
    bootstrap(github, 1)
    live = github.by_code("testing")["BULK00"]
    github.orgs["testing"].edit_series(int(live["id"]), {"description": "Edited in the CRM"})
    # The tool's block in flow style: adopt cannot add testing's value to it (production
    # reads the top-level description, so testing's goes in a block) and refuses.
    world.git("checkout", "-q", "-B", "main", "origin/main")
    text = (world.dev / "series/bulk/s00.yaml").read_text(encoding="utf-8")
    world.write("series/bulk/s00.yaml", text + "reconciler: {retire: false}\n")
    world.commit("A flow block")
    world.git("push", "-q", "origin", "HEAD:refs/heads/main")
    run = _drift(world)
    (warning,) = run.job("drift").annotations("warning")
    assert "reconciler adopt failed" in warning and "Traceback" not in run.job("drift").log
    (issue,) = [i for i in world.api()["issues"] if i["state"] == "open"]
    assert "could not write the files" in issue["body"]
    assert adopt_pulls(world) == []


def test_a_failing_plan_is_annotated_with_the_tools_own_error(github: GitHub) -> None:
    world = github.world
    bootstrap(github, 1)
    world.repo_secrets["CAPILLARY_TESTING_PASSWORD"] = "not-the-password"
    pr = add_series(world, 6, {"bulk/s00": series_text("Series 0", "BULK00", 120)})
    run = world.run_workflow(
        "plan.yml", "pull_request", pull_request=pr, matrix={"environment": "testing"}
    )
    job = run.job("plan")
    assert run.result("plan") == "failure"
    (error,) = job.annotations()
    assert error.startswith("::error title=reconciler plan (testing)::")
    message = error.split("::", 2)[2]
    assert "401" in message and "not-the-password" not in message
    assert "exit 1" not in message, "the tool's words, not a bare exit code"
    body = plan_comment(world, 6, "testing")
    assert f"The plan failed:** {message.split(' ')[0]}" in body
