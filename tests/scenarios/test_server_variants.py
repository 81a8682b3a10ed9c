"""The CLI against servers that answer where the vendor's pages are silent, one variant each.

Each variant is a switch of the sandbox (``docs/sandbox.md``, "Server variants"), served over
loopback HTTP behind the ``Door`` that counts writes (``tests/scenarios/served.py``); the CLI
runs as a child process. Every test ends the same way: 0 duplicates of a declared series, 0
writes to a series the project does not own, and, once the server answers well again, a
plan that is empty.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox import Faults
from tests.scenarios.conftest import series_body
from tests.scenarios.served import Project, Served, served

ENDED = "2020-01-31T00:00:00Z"  # a series that ended long ago: the v1.1 list's expired ones


def series_text(code: str, *, till: str = "2030-09-30T00:00:00Z") -> str:
    return (
        f"description: series {code}\n"
        f"discountCode: {code}\n"
        f"validTillDate: {till}\n"
        "anyUser: true\n"
        "discountValue: 100\n"
        "clientHandlingType: DISC_CODE\n"
        "expiryStrategyType: SERIES_EXPIRY\n"
        "discountType: ABS\n"
    )


def add(project: Project, key: str, code: str, *, till: str = "2030-09-30T00:00:00Z") -> None:
    path = project.series / f"{key}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(series_text(code, till=till), encoding="utf-8")
    project.codes[key] = code


def out(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, out(done)
    return out(done)


def converged(project: Project) -> None:
    done = project.cli("plan", "--detailed-exitcode")
    assert done.returncode == 0, out(done)


def no_duplicates(server: Served, project: Project) -> None:
    counts = server.per_code()
    assert {c: counts[c] for c in project.codes.values()} == dict.fromkeys(
        project.codes.values(), 1
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    with served(tmp_path / "sandbox.db", faults=Faults(hang_seconds=2.0)) as s:
        yield s


@pytest.fixture
def project(tmp_path: Path, server: Served) -> Project:
    p = Project(tmp_path / "checkout", server.url)
    add(p, "live/a", "VARA")
    add(p, "live/b", "VARB")
    add(p, "ended/c", "VARC", till=ENDED)
    add(p, "ended/d", "VARD", till=ENDED)
    return p


def test_a_list_whose_default_is_active_only(server: Served, project: Project) -> None:
    """Issue 21.1: measured on such a server, a lost state made 2 duplicates of 4 (exit 0),
    and an expired look-alike made outside the tool was created again."""
    ok(project.apply())
    server.sandbox.configure(list_default="active")
    outside = server.sandbox.create(series_body("made by hand", "VAROLD", validTillDate=ENDED))
    before = server.sandbox.get_series(outside["id"])
    add(project, "ended/old", "VAROLD", till=ENDED)
    project.lose_state()
    server.door.reset_counts()

    plan = project.cli("plan")
    assert plan.returncode == 0, out(plan)
    assert "0 to create" in plan.stdout  # the expired series are found (expired=true)
    assert f"id {outside['id']}" in out(plan)  # the look-alike: blocked, never created
    project.apply()  # the look-alike stays blocked: nothing to write
    assert server.door.writes == 0, server.door.calls
    assert server.sandbox.get_series(outside["id"]) == before  # not taken over
    no_duplicates(server, project)
    del project.codes["ended/old"]
    (project.series / "ended" / "old.yaml").unlink()
    converged(project)


def test_a_failure_inside_a_200_is_never_an_empty_org(server: Served, project: Project) -> None:
    """Issue 21.2: read as an empty org, a lost state recreated all 4 series (exit 0)."""
    ok(project.apply())
    project.lose_state()
    server.sandbox.configure(list_fails=True)
    server.door.reset_counts()

    for command in (("plan",), ("apply", "--auto-approve")):
        done = project.cli(*command)
        assert done.returncode == 1, out(done)
        assert "said the list failed" in out(done) and "nothing is planned" in out(done)
        assert "Traceback" not in out(done)
    assert server.door.writes == 0, server.door.calls
    no_duplicates(server, project)

    server.sandbox.configure(list_fails=False)
    ok(project.apply())  # the state found again from the markers: no write
    assert server.door.writes == 0, server.door.calls
    converged(project)


def test_a_series_listed_as_failed_stops_the_plan(server: Served, project: Project) -> None:
    ok(project.apply())
    sid = server.sandbox.all_series()[0]["id"]
    project.lose_state()
    server.sandbox.configure(list_failed_ids=(sid,))
    server.door.reset_counts()
    done = project.apply()
    assert done.returncode == 1 and f"series {sid} was listed with item_status" in out(done)
    assert server.door.writes == 0
    server.sandbox.configure(list_failed_ids=())
    converged(project)


def test_a_series_missing_from_the_list_is_never_made_twice(
    server: Served, project: Project
) -> None:
    """The state knows the id: the series is read by id, never created again."""
    ok(project.apply())
    hidden = next(s for s in server.sandbox.all_series() if s["discountCode"] == "VARA")
    server.sandbox.configure(list_hidden_ids=(hidden["id"],))
    server.door.reset_counts()
    project.apply()  # the exit code is trust's decision: see the next test
    assert server.door.writes == 0, server.door.calls
    no_duplicates(server, project)
    server.sandbox.configure(list_hidden_ids=())
    converged(project)


def test_a_series_missing_from_the_list_fails_the_plan_closed(
    server: Served, project: Project
) -> None:
    ok(project.apply())
    hidden = next(s for s in server.sandbox.all_series() if s["discountCode"] == "VARA")
    server.sandbox.configure(list_hidden_ids=(hidden["id"],))
    done = project.cli("plan")
    assert done.returncode == 1, out(done)
    assert str(hidden["id"]) in out(done)


def test_reads_in_the_documented_form_only(server: Served, project: Project) -> None:
    """The server refuses ``ids=1,2`` (the default): a plan that reads by id works."""
    assert server.sandbox.faults.comma_ids == "refuse"
    ok(project.apply())
    server.sandbox.edit_series(server.sandbox.all_series()[1]["id"], {"description": "drift"})
    plan = project.cli("plan", "--detailed-exitcode")
    assert plan.returncode == 2 and "drift" in out(plan)  # read by id, drift seen
    ok(project.apply())
    converged(project)


def test_puts_carry_the_org_id(server: Served, project: Project) -> None:
    """The server refuses a PUT without orgId (the default): the marker PUT after each
    create and an update both go through."""
    assert server.sandbox.faults.put_requires_org_id
    ok(project.apply())
    assert server.door.calls["PUT"] == 4  # each create's marker, set by a PUT
    assert all(s["seriesCode"].startswith("RC") for s in server.sandbox.all_series())
    (project.series / "live" / "a.yaml").write_text(
        series_text("VARA").replace("discountValue: 100", "discountValue: 150"), encoding="utf-8"
    )
    ok(project.apply())
    a = next(s for s in server.sandbox.all_series() if s["discountCode"] == "VARA")
    assert a["discountValue"] == 150
    converged(project)


def test_try_again_later_after_a_create_is_ambiguous(server: Served, project: Project) -> None:
    """A 400 with code 787 after the server stored the series: not "nothing was made"."""
    server.sandbox.configure(busy_status=400, busy_code=787)
    server.sandbox.fail_next_call("busy_after", method="POST")
    first = project.apply()
    assert first.returncode == 1, out(first)
    assert "ambiguous" in out(first)
    server.sandbox.fail_next_call("busy", method="GET")  # and a read told to wait: retried
    ok(project.apply())  # the series made by the ambiguous create is adopted
    no_duplicates(server, project)
    converged(project)
