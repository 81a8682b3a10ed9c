"""Fault injection: 20% of the calls fail, before and after the server acted; several applies.

The sandbox over loopback HTTP, the CLI a child process. One call in five, of every kind
(the org's list, reads, creates, the marker PUTs, updates), fails with one of seven modes
drawn evenly:

- before the server acts: ``503``, ``429`` with ``Retry-After``, ``reset`` (connection
  dropped), ``timeout_before`` (hangs past the client's timeout, then 503);
- after the server acted: ``503_after``, ``500_after``, ``timeout_after`` (the answer comes
  after the client gave up).

Each project is applied until an apply ends with exit 0 (at most ``MAX_APPLIES`` times),
then every file changes a value and is applied again the same way (updates under faults).
With the faults off, the plan must be empty. Counted: duplicates, unreported series, corrupt
states, missing series, projects that did not converge. All must be 0.

Bounded in CI; ``RELIABILITY_FULL=1`` runs more projects (docs/reliability.md).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from reconciler.sandbox import Faults
from tests.reliability.harness import FULL, figure
from tests.scenarios.conftest import series_text
from tests.scenarios.served import DOOR_MODES, Project, Served, Tally, served

RATE = 0.20
SANDBOX_MODES = ("503", "reset", "timeout_before", "timeout_after", "503_after")
MODES = len(SANDBOX_MODES) + len(DOOR_MODES)
# The Door draws first (its 2 modes of 7), then the sandbox (5 of 7) from what is left, so
# that one call in five fails and the seven modes are drawn about as often.
DOOR_RATE = RATE * len(DOOR_MODES) / MODES
SANDBOX_RATE = (RATE - DOOR_RATE) / (1 - DOOR_RATE)
PROJECTS = 20 if FULL else 2
SERIES = 6
MAX_APPLIES = 12
TIMEOUT = 1.0  # the client's; the sandbox hangs longer, so a timeout is a timeout

SUITE = "fault injection"


def _converge(project: Project, runs: Counter[str]) -> bool:
    for _ in range(MAX_APPLIES):
        done = project.apply()
        runs["applies"] += 1
        runs[f"applies exiting {done.returncode}"] += 1
        if done.returncode == 0:
            return True
    return False


def _project(root: Path, server: Served, n: int) -> Project:
    project = Project(root / f"p{n}", server.url, settle=1, timeout=TIMEOUT)
    for i in range(SERIES):
        project.add(f"faults/p{n}/s{i}", f"FLT{n}N{i}")
    return project


def _change_every_file(project: Project) -> None:
    for key, code in project.codes.items():
        path = project.series / f"{key}.yaml"
        path.write_text(series_text(f"series {code}", code, value=150), encoding="utf-8")


@pytest.mark.slow
def test_one_call_in_five_failing_before_or_after_acting_makes_no_duplicate(
    tmp_path: Path,
) -> None:
    faults = Faults(
        failure_rate=SANDBOX_RATE,
        failure_modes=SANDBOX_MODES,
        hang_seconds=TIMEOUT * 1.5,
        random_seed=7,
    )
    runs: Counter[str] = Counter()
    total = Tally()
    unconverged = 0
    with served(tmp_path / "sandbox.db", faults=faults, door_seed=11) as server:
        server.door.failure_rate = DOOR_RATE
        projects = [_project(tmp_path, server, n) for n in range(PROJECTS)]
        for project in projects:
            unconverged += not _converge(project, runs)
            _change_every_file(project)
            unconverged += not _converge(project, runs)
        calls = sum(server.door.calls.values())
        injected = dict(server.door.injected)
        server.door.failure_rate = 0.0
        server.sandbox.configure(failure_rate=0.0)
        assert server.sandbox.settle(timeout=60)
        for project in projects:
            plan = project.cli("plan", "--detailed-exitcode")
            if plan.returncode != 0:
                total.problems.append(f"{project.root.name}: {plan.stdout}{plan.stderr}")
            total.add(project.tally(server))
            values = {
                s["discountValue"]
                for s in server.sandbox.all_series()
                if s["discountCode"] in project.codes.values()
            }
            if values != {150.0}:
                total.problems.append(f"{project.root.name}: discountValue {values}")

    figure(SUITE, "projects", PROJECTS)
    figure(SUITE, "series per project", SERIES)
    figure(SUITE, "calls", calls)
    figure(SUITE, "faults injected", sum(injected.values()))
    figure(SUITE, "share of calls failed", round(sum(injected.values()) / calls, 3))
    figure(SUITE, "faults by mode", dict(sorted(injected.items())))
    figure(SUITE, "applies", dict(sorted(runs.items())))
    figure(SUITE, "not converged", unconverged)
    figure(SUITE, "duplicates", total.duplicates)
    figure(SUITE, "unreported series", total.unreported)
    figure(SUITE, "corrupt states", total.corrupt_states)
    figure(SUITE, "missing series", total.missing)
    assert not unconverged
    assert total.clean and not total.problems, total.problems[:10]
    assert sum(injected.values()) / calls > 0.1, (injected, calls)  # the faults really landed
