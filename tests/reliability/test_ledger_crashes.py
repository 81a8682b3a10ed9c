"""The ledger under SIGKILL: applies killed at random moments, one after another on one
checkout, then one that finishes. Every apply that wrote has exactly one record (no lost
record, none doubled), the records are numbered without gap, a line torn by a kill never
breaks the file, and the last record is the finished apply.

The CLI runs as a child process against the sandbox over loopback HTTP (80 ms a call), the
kill lands a random moment after the apply's first write reached the server (or, for some
trials, as soon as the ledger file grows: while the record is being begun). Bounded in CI;
``RELIABILITY_FULL=1`` runs 40 trials.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from reconciler.engine.ledger import Ledger
from reconciler.sandbox import Faults
from tests.reliability.harness import FULL, figure
from tests.scenarios.conftest import series_text
from tests.scenarios.served import Project, served

TRIALS = 40 if FULL else 8
SERIES = 6
SUITE = "ledger crash trials"


@pytest.mark.slow
def test_killed_applies_leave_one_record_each_and_the_ledger_readable(tmp_path: Path) -> None:
    rng = random.Random(20261204)
    counts = {"killed mid-apply": 0, "killed before the first write": 0, "lost": 0, "doubled": 0}
    with served(tmp_path / "sandbox.db", faults=Faults(latency_seconds=0.08)) as server:
        project = Project(tmp_path / "checkout", server.url)
        ledger = Ledger(project.series / ".state" / "local.ledger.jsonl")
        for i in range(SERIES):
            project.add(f"crash/s{i}", f"LEDGER{i}")
        for trial in range(TRIALS):
            if trial:  # every trial has work: a new description for every series
                for i in range(SERIES):
                    (project.series / f"crash/s{i}.yaml").write_text(
                        series_text(f"series {i}, version {trial}", f"LEDGER{i}")
                    )
            records_before = len(ledger.records())
            size_before = ledger.path.stat().st_size if ledger.path.exists() else 0
            writes_before = server.door.writes
            proc = project.start_apply("--parallelism", "2")
            early = trial % 3 == 2  # some kills land while the record is being begun

            def ready(
                early: bool = early, size: int = size_before, writes: int = writes_before
            ) -> bool:
                if early:
                    return ledger.path.exists() and ledger.path.stat().st_size > size
                return server.door.writes > writes

            deadline = time.monotonic() + 30
            while not ready() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.05 if early else 0.4))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                counts["killed mid-apply"] += 1
            proc.wait(timeout=30)
            wrote = server.door.writes > writes_before
            counts["killed before the first write"] += int(not wrote)
            records, damaged = ledger.read()
            assert damaged == 0, f"trial {trial}: damaged lines"
            added = len(records) - records_before
            # One apply, at most one record; an apply that wrote, exactly one.
            counts["doubled"] += max(0, added - 1)
            counts["lost"] += int(wrote and added == 0)
        final = project.apply()
        assert final.returncode == 0, final.stdout + final.stderr
    records, damaged = ledger.read()
    assert damaged == 0
    assert [r.number for r in records] == list(range(1, len(records) + 1))
    assert len({r.apply_id for r in records}) == len(records)
    assert records[-1].status == "ok"
    unfinished = sum(1 for r in records if not r.finished)
    figure(SUITE, "trials", TRIALS)
    figure(SUITE, "killed mid-apply", counts["killed mid-apply"])
    figure(SUITE, "records", len(records))
    figure(SUITE, "records left unfinished by a kill", unfinished)
    figure(SUITE, "killed before the first write", counts["killed before the first write"])
    figure(SUITE, "records lost (an apply wrote, no record)", counts["lost"])
    figure(SUITE, "records doubled (two for one apply)", counts["doubled"])
    assert counts["lost"] == counts["doubled"] == 0
    assert counts["killed mid-apply"] >= TRIALS // 2  # the kills really landed mid-apply
    assert unfinished >= 1
