"""A killed apply (SIGKILL at random points, many trials), then a rerun: no duplicate series,
and the end state converged. The tool and the sandbox run as separate processes over
loopback HTTP, as they would in CI."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scenarios.processes import (
    RECONCILER,
    all_codes,
    child_env,
    project,
    run,
    sandbox_process,
)

TRIALS = int(os.environ.get("KILL_TRIALS", "12"))
SERIES_PER_TRIAL = 6


@pytest.fixture(scope="module")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("killed") / "sandbox.db"
    with sandbox_process(db=db, latency_ms=80) as url:
        yield url


@pytest.mark.slow
def test_killed_applies_never_duplicate_and_a_rerun_converges(
    sandbox_url: str, tmp_path: Path
) -> None:
    rng = random.Random(20261123)
    killed_mid_way = 0
    for trial in range(TRIALS):
        root = tmp_path / f"trial-{trial}"
        codes = project(root, sandbox_url, prefix=f"K{trial}N", n=SERIES_PER_TRIAL)
        proc = subprocess.Popen(
            [*RECONCILER, "apply", "--env", "local", "--auto-approve", "--parallelism", "2"],
            cwd=root,
            env=child_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Kill once the apply has started writing (its journal exists), at a random moment
        # after: a slow machine then still kills mid-apply instead of before or after it.
        journal = root / "series" / ".state" / "local.journal"
        deadline = time.monotonic() + 20
        while not journal.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed_mid_way += 1
        proc.wait(timeout=30)

        rerun = run(["apply", "--env", "local", "--auto-approve"], cwd=root)
        assert rerun.returncode == 0, f"trial {trial}: {rerun.stdout}\n{rerun.stderr}"
        counts = all_codes(sandbox_url)
        assert all(counts[code] == 1 for code in codes), (trial, {c: counts[c] for c in codes})
        plan = run(["plan", "--env", "local", "--detailed-exitcode"], cwd=root)
        assert plan.returncode == 0, f"trial {trial}: {plan.stdout}\n{plan.stderr}"
    assert killed_mid_way >= TRIALS // 2  # the kills really landed while applies ran
