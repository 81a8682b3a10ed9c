"""Plans scoped to a change (``plan --changed-since REV``), end to end over loopback HTTP: the
list plus the changed series, the reviewed scope rebuilt and checked at apply, and what may
never be scoped away (the settings, a series a changed one names, another key's marker).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.scenarios.conftest import Guarded, series_text

LIST = "GET /v1.1/coupon/series"
READ = "GET /v2/coupon/series"
N = 30


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def committed(world: Guarded, message: str = "series") -> str:
    git(world.root, "add", "-A", "series")
    git(world.root, "commit", "-q", "-m", message)
    return git(world.root, "rev-parse", "HEAD")


def org(world: Guarded, n: int = N) -> str:
    """``n`` series applied, all committed: the commit a change is measured from."""
    git(world.root, "init", "-q")
    git(world.root, "config", "user.email", "t@example.com")
    git(world.root, "config", "user.name", "t")
    (world.root / ".gitignore").write_text(".reconciler/\n")
    for i in range(n):
        world.write(f"s/{i:02d}", series_text(f"Series {i}", f"CODE{i}"))
    done = world.cli("apply", "--env", "local", "--auto-approve")
    assert done.exit_code == 0, done.output
    return committed(world)


def plan(world: Guarded, *args: str) -> tuple[int, str, dict[str, object]]:
    out = world.root / "plan.json"
    result = world.cli("plan", "--env", "local", "--detailed-exitcode", "--out", str(out), *args)
    data = json.loads(out.read_text()) if out.exists() else {}
    return result.exit_code, result.output, data


def test_a_pull_requests_plan_reads_the_list_and_the_changed_series_only(
    guarded: Guarded,
) -> None:
    base = org(guarded)
    guarded.write("s/03", series_text("Series 3", "CODE3", value=130))
    guarded.write("s/17", series_text("Series 17, better", "CODE17"))
    guarded.write("new/one", series_text("New", "NEW1"))
    guarded.door.reset_counts()
    code, out, data = plan(guarded, "--changed-since", base)
    assert code == 2, out
    assert guarded.door.paths[LIST] == 2 and guarded.door.paths[READ] == 1, guarded.door.paths
    assert sum(guarded.door.calls.values()) == 3  # the list (twice) and one read
    assert "Plan: 1 to create, 2 to update, 0 unchanged" in out
    assert "covers the 3 series whose files changed since" in out
    assert data["targets"] == ["new/one", "s/03", "s/17"]
    assert data["scope"] == {
        "changed_since": base,
        "changed": ["new/one", "s/03", "s/17"],
        "named": [],
        "folder_wide": [],
    }
    # The reviewed plan applied after the merge: the same scope, checked against the commit
    # the merge changed from, then verified.
    committed(guarded, "the pull request")
    applied = guarded.cli(
        "apply", str(guarded.root / "plan.json"), "--auto-approve", "--changed-since", base
    )
    assert applied.exit_code == 0 and "Converged" in applied.output, applied.output
    assert plan(guarded)[0] == 0  # the whole org: nothing left


def test_no_series_changed_plans_no_series_and_calls_nothing_but_the_list(
    guarded: Guarded,
) -> None:
    base = org(guarded, 3)
    (guarded.series / "README.md").write_text("not a series")
    guarded.door.reset_counts()
    code, out, data = plan(guarded, "--changed-since", base)
    assert code == 0, out
    assert "No series file changed since" in out and data["targets"] == []
    assert guarded.door.paths[READ] == 0


def test_a_settings_change_is_never_scoped_away(guarded: Guarded) -> None:
    base = org(guarded, 12)
    settings = guarded.series / "reconciler.yaml"
    settings.write_text(
        settings.read_text().replace("your code is", "the code is"), encoding="utf-8"
    )
    code, out, data = plan(guarded, "--changed-since", base)
    assert code == 2, out
    assert "reconciler.yaml changed since" in out and "covers the whole folder" in out
    assert "Plan: 0 to create, 12 to update" in out
    assert data["targets"] == [] and data["scope"]["folder_wide"] == ["reconciler.yaml"]


def test_a_series_a_changed_one_names_is_in_the_scope(guarded: Guarded) -> None:
    base = org(guarded, 5)
    extra = "mutualExclusiveSeriesIds:\n  - series: s/04\n"
    guarded.write("s/00", series_text("Series 0", "CODE0", extra=extra))
    code, out, data = plan(guarded, "--changed-since", base)
    assert code == 2, out
    assert data["scope"]["changed"] == ["s/00"] and data["scope"]["named"] == ["s/04"]
    sid = guarded.state()["ids"]["s/04"]
    assert f"s/04 is id {sid}" in out


def test_a_reviewed_scope_that_misses_a_change_is_refused_with_no_write(
    guarded: Guarded,
) -> None:
    base = org(guarded, 4)
    guarded.write("s/01", series_text("Series 1", "CODE1", value=111))
    guarded.write("s/02", series_text("Series 2", "CODE2", value=222))
    code, out, data = plan(guarded, "--changed-since", base)
    assert code == 2, out
    # The plan file as a teammate with push access could leave it: s/02 dropped.
    data["scope"]["changed"] = ["s/01"]  # type: ignore[index]
    data["targets"] = ["s/01"]
    data["series"] = [s for s in data["series"] if s["key"] == "s/01"]  # type: ignore[attr-defined]
    forged = guarded.root / "forged.json"
    forged.write_text(json.dumps(data))
    committed(guarded, "the pull request")
    guarded.door.reset_counts()
    refused = guarded.cli("apply", str(forged), "--auto-approve", "--changed-since", base)
    assert refused.exit_code == 1, refused.output
    assert "not covered: s/02" in refused.output, refused.output
    assert guarded.door.writes == 0 and sum(guarded.door.calls.values()) == 0
    # A plan of the whole folder covers any change; a --target plan only its keys.
    whole = guarded.root / "whole.json"
    assert guarded.cli("plan", "--env", "local", "--out", str(whole)).exit_code == 0
    assert (
        guarded.cli("apply", str(whole), "--auto-approve", "--changed-since", base).exit_code == 0
    )
    assert guarded.cli("plan", "--env", "local", "--detailed-exitcode").exit_code == 0


def test_the_share_rail_weighs_the_whole_org_not_the_scope(guarded: Guarded) -> None:
    base = org(guarded, 40)
    for i in range(10):  # 10 of 40: 25%, under the 30% rail; 10 of 10 would trip it
        guarded.write(f"s/{i:02d}", series_text(f"Series {i}", f"CODE{i}", value=140))
    code, out, data = plan(guarded, "--changed-since", base)
    assert code == 2, out
    assert data["rails"] == [] and data["existing_outside"] == 30
    for i in range(10, 13):
        guarded.write(f"s/{i:02d}", series_text(f"Series {i}", f"CODE{i}", value=140))
    code, out, data = plan(guarded, "--changed-since", base)
    assert data["rails"] == [
        "13 of 40 existing series would be updated (32%, more than the 30% allowed)"
    ], data["rails"]


def test_a_marker_declared_in_an_unchanged_file_still_disowns_a_poisoned_state(
    guarded: Guarded,
) -> None:
    """The state (a branch anyone with push access can edit) names, for a changed key, the
    series of an unchanged file that declares its own seriesCode: the scoped plan, which
    parses that file only because it may declare one, blocks the key as a whole plan does."""
    git(guarded.root, "init", "-q")
    git(guarded.root, "config", "user.email", "t@example.com")
    git(guarded.root, "config", "user.name", "t")
    guarded.write("b", series_text("B", "SAME", extra="seriesCode: BMARK1\n"))
    assert guarded.cli("apply", "--env", "local", "--auto-approve").exit_code == 0
    theirs = guarded.state()["ids"]["b"]
    apart = f"seriesCode: AMARK1\nreconciler:\n  distinct_from: [{theirs}]\n"
    guarded.write("a", series_text("A", "SAME", extra=apart))
    made = guarded.cli("apply", "--env", "local", "--auto-approve")
    assert made.exit_code == 0, made.output
    base = committed(guarded)
    state_file = guarded.series / ".state" / "local.json"
    state = json.loads(state_file.read_text())
    state["ids"] = {"a": theirs}  # a's id: b's series (b's own entry gone)
    state_file.write_text(json.dumps(state))
    guarded.write("a", series_text("A, changed", "SAME", extra=apart))
    guarded.door.reset_counts()
    scoped = plan(guarded, "--changed-since", base)
    whole = plan(guarded)
    for code, out, _ in (scoped, whole):
        assert code == 2 and "is the marker of key 'b'" in out, out
    assert guarded.door.writes == 0
