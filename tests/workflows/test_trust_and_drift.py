"""A pull request cannot steer the secrets; drift issues are stable and offer both ways out."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tests.workflows.conftest import GitHub, series_text
from tests.workflows.harness import ROOT
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
    adopt = subprocess.run(
        [sys.executable, "-m", "reconciler", "adopt", "--help"], capture_output=True
    )
    if adopt.returncode != 0:  # the command is not there yet: the step is skipped, said so
        assert "change the files to the CRM's values" in body

    calls = len(world.api()["calls"])
    drift()  # unchanged drift: the body is rewritten (new footer), no comment, no new issue
    after = world.api()
    assert [c["call"] for c in after["calls"][calls:]] == ["issues.update"]
    (same,) = [i for i in after["issues"] if i["state"] == "open"]
    assert same["number"] == issue["number"] and same["body"].split("\n\n---\n<sub>")[0] == head

    github.orgs["testing"].edit_series(series_id, {"description": "Series 0"})
    drift()
    assert [i["state"] for i in world.api()["issues"]] == ["closed"]


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
