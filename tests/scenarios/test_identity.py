"""Never a duplicate: the state file lost, late, older, conflicted or absent; an apply killed
at the worst moments; a server slow to act or failing after it acted; two checkouts at once.

The CLI runs as a child process against the sandbox served over loopback HTTP (a thread of
the test, behind a ``Door`` that counts writes and holds PUTs: ``tests/scenarios/served.py``).
Every test ends by counting the series of each discountCode in the sandbox: 1, always.

``IDENTITY_TRIALS`` (default 4) sets the trials of the slow-server kill test; the figures
reported in docs/reliability.md come from a run with ``IDENTITY_TRIALS=25``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.files.loader import validate_directory
from reconciler.sandbox import Faults
from tests.scenarios.conftest import series_text
from tests.scenarios.processes import RECONCILER, child_env, free_port, run
from tests.scenarios.served import SETTINGS, Project, Served, served

TRIALS = int(os.environ.get("IDENTITY_TRIALS", "4"))


def assert_once(server: Served, *projects: Project) -> None:
    """The count of series per discountCode in the sandbox: 1 for every declared code."""
    counts = server.per_code()
    codes = {c for p in projects for c in p.codes.values()}
    assert {c: counts[c] for c in codes} == dict.fromkeys(codes, 1)


def wait_for(check: Any, *, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    with served(tmp_path / "sandbox.db") as s:
        yield s


@pytest.fixture
def project(tmp_path: Path, server: Served) -> Project:
    p = Project(tmp_path / "checkout", server.url)
    for i in range(3):
        p.add(f"promo/p{i}", f"IDP{i:02d}")
    return p


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


# ---------------------------------------------------------------------------- the state file


def test_a_lost_state_costs_a_lookup_never_a_write(server: Served, project: Project) -> None:
    ok(project.apply())
    project.lose_state()
    server.door.reset_counts()

    plan = project.cli("plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr  # nothing to do
    assert "Plan: 0 to create, 0 to update, 3 unchanged" in plan.stdout
    ok(project.apply())

    assert server.door.writes == 0, server.door.calls
    assert set(json.loads(project.state_file.read_text())["ids"]) == set(project.codes)
    assert_once(server, project)


def test_an_older_state_file_creates_nothing_twice(server: Served, project: Project) -> None:
    ok(project.apply())
    older = project.state_file.read_text()
    project.add("promo/late0", "IDLATE0")
    project.add("promo/late1", "IDLATE1")
    ok(project.apply())
    project.journal.unlink(missing_ok=True)
    project.state_file.write_text(older)  # a checkout from before the last creates
    server.door.reset_counts()

    ok(project.apply())

    assert server.door.writes == 0, server.door.calls
    assert_once(server, project)


def _conflicted(text: str) -> str:
    """``text`` as git leaves a state file two branches both added ids to."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith('"promo/'))
    ours = '    "promo/ours": 900001,'
    theirs = '    "promo/theirs": 900002,'
    merged = [
        *lines[:at],
        "<<<<<<< HEAD",
        ours,
        "=======",
        theirs,
        ">>>>>>> import of the summer series",
        *lines[at:],
    ]
    return "\n".join(merged) + "\n"


def test_a_conflicted_state_is_refused_with_the_rebuild_command_then_rebuilt(
    server: Served, project: Project
) -> None:
    ok(project.apply())
    project.state_file.write_text(_conflicted(project.state_file.read_text()))
    server.door.reset_counts()

    for command in (["plan"], ["apply", "--auto-approve"]):
        done = project.cli(*command)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "git conflict markers" in done.stderr
        assert "`reconciler state rebuild --env local`" in done.stderr
        assert "Traceback" not in done.stderr
    assert server.door.writes == 0

    said = ok(project.cli("state", "rebuild"))
    assert all(key in said for key in project.codes)
    plan = project.cli("plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert server.door.writes == 0
    assert_once(server, project)


# ---------------------------------------------------------------------------- first adoption


def _made_outside(server: Served, tmp_path: Path, codes: list[str]) -> dict[str, int]:
    """Series made in the CRM by other means (its screens, another tool): ids by code."""
    scratch = tmp_path / "outside"
    scratch.mkdir()
    (scratch / "reconciler.yaml").write_text(SETTINGS.format(url=server.url, settle=1, timeout=5))
    for code in codes:
        (scratch / f"{code.lower()}.yaml").write_text(series_text(f"series {code}", code))
    loaded = validate_directory(scratch)
    assert loaded.ok, loaded.problems
    made = [server.sandbox.create(s.fields) for s in loaded.series]
    return {str(m["discountCode"]): int(m["id"]) for m in made}


def test_first_adoption_blocks_lookalikes_and_import_all_unmanaged_adopts_them(
    server: Served, tmp_path: Path
) -> None:
    outside = _made_outside(server, tmp_path, [f"OUT{i}" for i in range(5)])
    project = Project(tmp_path / "checkout", server.url)
    for i in range(3):  # files written for three of them before any import
        project.add(f"promo/out{i}", f"OUT{i}")
    project.add("promo/new0", "NEW0")
    project.add("promo/new1", "NEW1")

    plan = project.plan_json()
    assert plan["counts"]["create"] == 2
    assert plan["counts"]["blocked"] == 3
    for item in plan["blocked"]:
        sid = outside[project.codes[item["key"]]]
        assert f"exists in the CRM as id {sid}" in item["reason"]
        assert f"reconciler import {sid} --key {item['key']}" in item["reason"]
    assert sorted(s["key"] for s in plan["series"] if s["action"] == "create") == [
        "promo/new0",
        "promo/new1",
    ]

    said = ok(project.cli("import", "--all-unmanaged"))
    # The three files that declare an unmanaged series' discountCode get its id; only the
    # two series no file declares get a file of their own.
    imported = sorted(p.relative_to(project.series) for p in project.series.rglob("imported/*"))
    assert [p.stem for p in imported] == ["series-out3", "series-out4"], said
    ids = json.loads(project.state_file.read_text())["ids"]
    assert {k: ids[k] for k in ("promo/out0", "promo/out1", "promo/out2")} == {
        f"promo/out{i}": outside[f"OUT{i}"] for i in range(3)
    }
    plan = project.plan_json()
    assert plan["counts"] | {"ignored_fields": 0} == {
        "create": 2,
        "update": 0,
        "unchanged": 5,
        "orphaned": 0,
        "moved": 0,
        "blocked": 0,
        "ignored_fields": 0,
    }
    ok(run(["validate"], cwd=project.root))

    ok(project.apply())
    for path in imported:
        project.codes[str(path)] = path.stem.removeprefix("series-").upper()
    assert_once(server, project)


# ---------------------------------------------------------------------------- no answer


def test_wrong_password_or_unreachable_url_fails_the_plan_of_an_empty_state(
    server: Served, project: Project, tmp_path: Path
) -> None:
    env = child_env() | {"CAPILLARY_PASSWORD": "not-the-password"}
    wrong = subprocess.run(
        [*RECONCILER, "plan", "--env", "local", "--detailed-exitcode"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert "401" in wrong.stderr and "to create" not in wrong.stdout
    assert "Traceback" not in wrong.stderr

    port = free_port()
    nowhere = Project(tmp_path / "nowhere", f"http://127.0.0.1:{port}", timeout=2)
    nowhere.add("promo/p0", "IDP00")
    done = nowhere.cli("plan", "--detailed-exitcode")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "to create" not in done.stdout and "Traceback" not in done.stderr
    assert "All connection attempts failed" in done.stderr
    assert f"on http://127.0.0.1:{port} failed" in done.stderr  # says which host it tried
    assert server.door.writes == 0
    assert server.per_code() == {}


# ---------------------------------------------------------------------------- killed applies


@pytest.mark.parametrize("lost", ["state file", "state file and journal"])
def test_killed_between_the_creates_answer_and_its_marker_then_state_lost(
    server: Served, project: Project, lost: str
) -> None:
    server.door.hold_puts = True  # every PUT waits at the door: the markers never land
    proc = project.start_apply()
    wait_for(lambda: server.door.held == 3, what="the three marker PUTs")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    server.door.hold_puts = False
    assert all(not s["seriesCode"].startswith("RC") for s in server.sandbox.all_series())

    if lost == "state file":
        project.state_file.unlink(missing_ok=True)
        done = project.apply()
        assert done.returncode == 0, done.stdout + done.stderr  # the journal knew the ids
        # ...and that their markers were never set: the rerun set them, so losing the
        # journal too from now on still finds every series.
        assert all(s["seriesCode"].startswith("RC") for s in server.sandbox.all_series())
        project.lose_state()
        assert project.cli("plan", "--detailed-exitcode").returncode == 0
    else:
        project.lose_state()
        done = project.apply()
        # Nothing on disk says these are ours: the tool stops and names what to check.
        assert done.returncode == 1, done.stdout + done.stderr
        for sid in (s["id"] for s in server.sandbox.all_series()):
            assert f"exists in the CRM as id {sid}" in done.stdout + done.stderr
        assert_once(server, project)
        ok(project.cli("state", "rebuild"))
        ok(project.apply())
    assert_once(server, project)
    plan = project.cli("plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr


def _kill_while_the_server_acts(server: Served, project: Project, rng: random.Random) -> bool:
    """Start an apply, SIGKILL it once its POSTs are on the server; True if any was pending."""
    posts = server.door.calls["POST"]
    proc = project.start_apply()
    wait_for(lambda: server.door.calls["POST"] > posts or proc.poll() is not None, what="POST")
    time.sleep(rng.uniform(0.0, 0.3))
    pending = server.sandbox.acts_pending > 0
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return pending


def test_killed_while_a_slow_server_acts_then_rerun_at_once_and_later(
    tmp_path: Path,
) -> None:
    delay = 1.0
    rng = random.Random(9)
    faults = Faults(post_act_delay_seconds=delay)
    pending = 0
    with served(tmp_path / "sandbox.db", faults=faults) as server:
        for trial in range(TRIALS):
            project = Project(tmp_path / f"t{trial}", server.url, settle=delay * 3)
            for i in range(4):
                project.add(f"slow{trial}/s{i}", f"SLOW{trial}N{i}")
            pending += _kill_while_the_server_acts(server, project, rng)

            at_once = project.apply()  # waits for the creates that may still land
            assert at_once.returncode == 0, at_once.stdout + at_once.stderr
            assert_once(server, project)
            assert server.sandbox.settle(timeout=30)
            later = project.cli("plan", "--detailed-exitcode")
            assert later.returncode == 0, later.stdout + later.stderr
            assert_once(server, project)
    print(f"slow-server kills: {TRIALS} trials, {pending} killed while the server acted")
    assert pending >= TRIALS // 2, "the kills landed while the server was acting"


def test_a_settle_time_shorter_than_the_server_takes_is_what_the_journal_cannot_cover(
    tmp_path: Path,
) -> None:
    """The settle time is the guarantee: shorter than the server's delay, a create killed
    in flight is sent again before the first lands (measured, and documented)."""
    delay = 2.0
    faults = Faults(post_act_delay_seconds=delay)
    with served(tmp_path / "sandbox.db", faults=faults) as server:
        project = Project(tmp_path / "short", server.url, settle=0.2)
        project.add("short/s0", "SHORT0")
        assert _kill_while_the_server_acts(server, project, random.Random(1))
        done = project.apply()
        assert server.sandbox.settle(timeout=30)
        counts = server.per_code()
        later = project.cli("plan", "--detailed-exitcode")
        unmarked = [s["id"] for s in server.sandbox.all_series() if s["seriesCode"][:2] != "RC"]
    said = done.stdout + done.stderr
    assert "made no series in 0.2s: creating it again" in said
    assert counts["SHORT0"] == 2, "the journal cannot tell a slow create from a lost one"
    # The second series is never silent: every plan names it until a person decides.
    assert later.returncode == 0, later.stdout + later.stderr
    assert len(unmarked) == 1, "the late one never got its marker: the apply was killed"
    assert f"another series with this discountCode that no file manages (id {unmarked[0]})" in (
        " ".join(later.stdout.split())
    )


def test_a_503_answered_after_the_server_acted_makes_no_duplicate(
    server: Served, project: Project
) -> None:
    server.sandbox.fail_next_call("503_after", method="POST")
    first = project.apply()
    assert first.returncode == 1, first.stdout + first.stderr
    assert "may exist" in first.stdout + first.stderr
    assert_once(server, project)
    ok(project.apply())
    assert_once(server, project)
    assert server.door.calls["POST"] == 3


def test_two_checkouts_applying_at_once_make_each_series_once(
    server: Served, tmp_path: Path
) -> None:
    checkouts = [Project(tmp_path / name, server.url) for name in ("one", "two")]
    for p in checkouts:
        for i in range(6):
            p.add(f"team/s{i}", f"TWIN{i}")
    procs = [
        subprocess.Popen(
            [*RECONCILER, "apply", "--env", "local", "--auto-approve"],
            cwd=p.root,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in checkouts
    ]
    results = [proc.communicate(timeout=120) for proc in procs]
    codes = [proc.returncode for proc in procs]
    assert 0 in codes, results
    for code, (out, err) in zip(codes, results, strict=True):
        assert code == 0 or "another reconciler command is writing" in err, out + err
    assert_once(server, *checkouts)
    for p in checkouts:  # the one refused converges on a rerun, creating nothing
        ok(p.apply())
        assert p.cli("plan", "--detailed-exitcode").returncode == 0
    assert server.door.calls["POST"] == 6
    assert_once(server, *checkouts)


def test_the_copy_of_a_checkout_finds_every_series_by_its_marker(
    server: Served, project: Project, tmp_path: Path
) -> None:
    """A second clone (no state at all) plans nothing: the markers say whose each is."""
    ok(project.apply())
    clone = tmp_path / "clone"
    shutil.copytree(project.root, clone, ignore=shutil.ignore_patterns(".state"))
    server.door.reset_counts()
    done = run(["apply", "--env", "local", "--auto-approve"], cwd=clone)
    assert done.returncode == 0, done.stdout + done.stderr
    assert server.door.writes == 0
    assert_once(server, project)
