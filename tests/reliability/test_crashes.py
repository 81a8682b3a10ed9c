"""Crash trials: applies killed with SIGKILL at random moments, then rerun, counted.

Two servers (the sandbox over loopback HTTP, the CLI a child process):

- **fast**: 80 ms per call; the kill lands anywhere in an apply (before a POST, between a
  POST's answer and its marker's PUT, between series, during the compaction of the state);
- **slow to act**: every create is acted on seconds after it arrived, whatever happens to
  the client; the kill lands while POSTs are on the server, and the rerun starts at once
  (it must wait for them, not create again).

Every fourth trial kills the first rerun as well (a crash during recovery). Then an apply
runs to the end and, once the server has acted on everything, a plan must be empty. Counted
over all trials: duplicates (series beyond the first of a discountCode), unreported series
(in the CRM, but no state id and no marker accounts for them), corrupt states (a state that
does not load, or an id that is not its key's series), and missing series. All must be 0.

Bounded in CI; ``RELIABILITY_FULL=1`` runs 110 trials (docs/reliability.md).
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.sandbox import Faults
from tests.reliability.harness import FIGURES, FULL, figure
from tests.scenarios.served import Project, Served, Tally, served

SERIES_PER_TRIAL = 5
FAST_TRIALS = 80 if FULL else 6
SLOW_TRIALS = 30 if FULL else 3
# The slow server's delay; the trials' settle time is longer, as the default (600 s) is
# longer than any server's.
SLOW_DELAY = 1.5
SETTLE = 4.0

SUITE = "crash trials"


def _bump(name: str, by: int = 1) -> None:
    figures = FIGURES.setdefault(SUITE, {})
    figures[name] = int(str(figures.get(name, 0))) + by


def _start(project: Project) -> subprocess.Popen[bytes]:
    # Two at a time, so that a kill lands with some series done and others not started.
    return project.start_apply("--parallelism", "2")


def _kill_soon(
    proc: subprocess.Popen[bytes], *, ready: Callable[[], bool], rng: random.Random
) -> bool:
    """SIGKILL ``proc`` a random moment after ``ready()`` holds; True if it was still running."""
    deadline = time.monotonic() + 30
    while not ready() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(rng.uniform(0.0, 0.6))
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return alive


def _trial(server: Served, project: Project, *, rng: random.Random, slow: bool, n: int) -> Tally:
    posts = server.door.calls["POST"]
    proc = _start(project)

    def ready() -> bool:
        return server.door.calls["POST"] > posts if slow else project.journal.exists()

    killed = _kill_soon(proc, ready=ready, rng=rng)
    _bump("killed mid-apply", int(killed))
    _bump("killed while the server was acting", int(server.sandbox.acts_pending > 0))
    if n % 4 == 3:  # a crash during the recovery too
        again = _start(project)
        _bump("reruns killed too", int(_kill_soon(again, ready=lambda: True, rng=rng)))
    rerun = project.apply()
    _bump("reruns", 1)
    _bump("reruns converged (exit 0)", int(rerun.returncode == 0))
    assert server.sandbox.settle(timeout=60)
    later = project.cli("plan", "--detailed-exitcode")
    _bump("plans empty once the server settled", int(later.returncode == 0))
    out = project.tally(server)
    if rerun.returncode != 0 or later.returncode != 0:
        out.problems.append(f"rerun {rerun.returncode}: {rerun.stdout}{rerun.stderr}")
        out.problems.append(f"plan {later.returncode}: {later.stdout}{later.stderr}")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("slow", [False, True], ids=["fast server", "server slow to act"])
def test_killed_applies_make_no_duplicate_and_leave_nothing_unreported(
    tmp_path: Path, slow: bool
) -> None:
    trials = SLOW_TRIALS if slow else FAST_TRIALS
    faults = Faults(post_act_delay_seconds=SLOW_DELAY) if slow else Faults(latency_seconds=0.08)
    rng = random.Random(20261124 + slow)
    total = Tally()
    name = "slow" if slow else "fast"
    with served(tmp_path / "sandbox.db", faults=faults) as server:
        for n in range(trials):
            project = Project(tmp_path / f"{name}-{n}", server.url, settle=SETTLE)
            for i in range(SERIES_PER_TRIAL):
                project.add(f"crash/{name}{n}/s{i}", f"CR{name[0].upper()}{n}N{i}")
            total.add(_trial(server, project, rng=rng, slow=slow, n=n))
    _bump("trials", trials)
    _bump(
        f"trials, server slow to act ({SLOW_DELAY:g}s)" if slow else "trials, fast server", trials
    )
    figure(SUITE, "series per trial", SERIES_PER_TRIAL)
    _bump("duplicates", total.duplicates)
    _bump("unreported series", total.unreported)
    _bump("corrupt states", total.corrupt_states)
    _bump("missing series", total.missing)
    assert total.clean and not total.problems, total.problems[:10]
