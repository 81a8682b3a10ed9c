"""Full disks, file-size limits and a failed check after an apply (issue 22.10), the CLI in its
own process against the sandbox over loopback.

Before: a write that failed for the disk's sake ended in "internal error ... please report
it"; a check after an apply that failed printed nothing on stdout although creates had
succeeded. The file-size limit is the real one (``RLIMIT_FSIZE``, as ``ulimit -f`` sets it,
in the child only); a full disk (ENOSPC) is injected in the unit tests of the state and of
``safefile``, as a tiny tmpfs needs root.
"""

from __future__ import annotations

import json
import resource
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from reconciler.client.credentials import Credentials
from reconciler.engine.state import load_state
from reconciler.sandbox import create_app, running_server
from tests.scenarios.processes import RECONCILER, child_env
from tests.scenarios.served import Project


class ListsFailAfterWrites:
    """In front of the sandbox: once a POST has been answered, every list answers 503; once
    ``reads_fail_after_puts`` PUTs were (the creates' markers: the creates are done), every
    read does too, so the check after the apply (which reads back what it wrote) fails."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.wrote = False
        self.enabled = True
        self.puts = 0
        self.reads_fail_after_puts: int | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.enabled:
            limit = self.reads_fail_after_puts
            if scope["method"] == "PUT":
                self.puts += 1
            if scope["method"] == "POST" and "coupon" in scope["path"]:
                self.wrote = True
            elif scope["method"] == "GET" and (
                (self.wrote and scope["path"].startswith("/v1.1"))
                or (limit is not None and self.puts >= limit)
            ):
                await send({"type": "http.response.start", "status": 503, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[tuple[str, ListsFailAfterWrites, Callable[[], int]]]:
    app = create_app(db_path=tmp_path / "sandbox.db", credentials=Credentials.sandbox())
    front = ListsFailAfterWrites(app)
    with running_server(front) as url:
        yield url, front, app.state.sandbox.count_series
    app.state.sandbox.close()


def cli(
    args: list[str], *, cwd: Path, fsize: int | None = None, stdout: int | None = None
) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [*RECONCILER, *args],
        cwd=cwd,
        env=child_env(),
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        preexec_fn=limit,  # only setrlimit, before exec
    )


def test_a_failed_check_after_the_apply_still_prints_the_summary(
    gate: tuple[str, ListsFailAfterWrites, Callable[[], int]], tmp_path: Path
) -> None:
    url, front, count = gate
    project = Project(tmp_path / "checkout", url, timeout=2)
    project.add("a", "CHECK1")
    project.add("b", "CHECK2")
    before = count()
    front.reads_fail_after_puts = 2  # the two creates' marker PUTs: then the check's reads
    done = cli(["apply", "--env", "local", "--auto-approve"], cwd=project.root)
    assert front.wrote and count() == before + 2
    assert done.returncode == 1, done.stderr
    ids = load_state(project.state_file, environment="local").ids
    assert sorted(ids) == ["a", "b"]
    # stdout: which series were made, with their ids, and why it is not verified.
    for key, series_id in ids.items():
        assert f"{key} (created, id {series_id})" in done.stdout
    assert "Applied: 2 done" in done.stdout
    assert "Not verified: the plan after the apply failed: GET /v2/coupon/series" in done.stdout
    assert "503" in done.stdout and "plan again to check" in done.stdout
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


def test_a_file_size_limit_during_an_apply_is_a_clear_error_and_heals(
    gate: tuple[str, ListsFailAfterWrites, Callable[[], int]], tmp_path: Path
) -> None:
    url, front, count = gate
    front.enabled = False  # every list answered
    project = Project(tmp_path / "checkout", url, timeout=5)
    for n in range(8):
        project.add(f"s{n}", f"FSIZE{n}")
    before = count()
    # 1,200 bytes a file: the ledger's first line (written before any create) fits, the
    # journal of eight creates and the ledger's series lines do not.
    limited = cli(["apply", "--env", "local", "--auto-approve"], cwd=project.root, fsize=1200)
    assert limited.returncode == 1, limited.stdout + limited.stderr
    journal = project.journal.relative_to(project.root)
    ledger = journal.with_name("local.ledger.jsonl")
    # Each series that could not be recorded says why; the summary is on stdout.
    assert f"cannot write a change to the state journal {journal}: File too large" in (
        limited.stdout
    )
    assert "ulimit -f" in limited.stdout and "Applied: " in limited.stdout
    done = limited.stdout.count("(created, id ")
    assert 0 < done < 8, limited.stdout
    # The ledger too: said once on stderr, the apply goes on, and the summary says the
    # record is unfinished.
    said = f"cannot write the ledger {ledger}: File too large"
    assert limited.stderr.count(said) == 1 and "the apply goes on" in limited.stderr
    assert "this apply's record in the ledger is unfinished" in limited.stdout
    assert "internal error" not in limited.stderr and "Traceback" not in limited.stderr
    # The journal is readable as it is (a torn last line skipped), and heals on the next run.
    load_state(project.state_file, environment="local")
    again = cli(["apply", "--env", "local", "--auto-approve"], cwd=project.root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Converged" in again.stdout
    assert count() == before + 8  # no series made twice
    state = load_state(project.state_file, environment="local")
    assert sorted(state.ids) == [f"s{n}" for n in range(8)] and not state.intents
    # The ledger's torn line was cut off: both applies are listed, the first unfinished.
    history = cli(["history", "--env", "local", "--format", "json"], cwd=project.root)
    assert history.returncode == 0, history.stderr
    applies = json.loads(history.stdout)["applies"]
    assert [a["status"].split(" ")[0] for a in applies] == ["unfinished", "ok"], applies


def test_a_ledger_that_cannot_begin_refuses_the_apply_before_any_write(
    gate: tuple[str, ListsFailAfterWrites, Callable[[], int]], tmp_path: Path
) -> None:
    """The ledger's first line is written before the first write call: without it, none."""
    url, front, count = gate
    front.enabled = False
    project = Project(tmp_path / "checkout", url, timeout=5)
    for n in range(4):
        project.add(f"s{n}", f"BEGIN{n}")
    before = count()
    refused = cli(["apply", "--env", "local", "--auto-approve"], cwd=project.root, fsize=300)
    assert refused.returncode == 1
    assert count() == before
    ledger = project.journal.relative_to(project.root).with_name("local.ledger.jsonl")
    assert refused.stderr.strip().splitlines()[-1] == (
        f"Error: cannot write the ledger {ledger}: File too large; the file would pass the "
        "file-size limit of this process (`ulimit -f`): raise the limit, then run the "
        "command again"
    )
    assert "Traceback" not in refused.stderr


def test_plan_out_and_stdout_under_a_file_size_limit(
    gate: tuple[str, ListsFailAfterWrites, Callable[[], int]], tmp_path: Path
) -> None:
    url, _front, _count = gate
    project = Project(tmp_path / "checkout", url)
    for n in range(3):
        project.add(f"s{n}", f"OUT{n}")
    out = project.root / "plans" / "plan.json"
    saved = cli(["plan", "--env", "local", "--out", str(out)], cwd=project.root, fsize=400)
    assert saved.returncode == 1
    assert saved.stderr.strip().splitlines()[-1] == (
        f"Error: cannot write the plan file {out}: File too large; the file would pass the "
        "file-size limit of this process (`ulimit -f`): raise the limit, then run the "
        "command again"
    )
    assert not out.exists() and not list(out.parent.glob("*.tmp"))
    with (project.root / "plan.json").open("w") as handle:
        piped = cli(
            ["plan", "--env", "local", "--format", "json"],
            cwd=project.root,
            fsize=400,
            stdout=handle.fileno(),
        )
    assert piped.returncode == 1
    assert "Error: cannot write the output: File too large" in piped.stderr
    assert "internal error" not in piped.stderr and "Traceback" not in piped.stderr
