"""The benchmark scripts still run and print their figures (small N; no timing asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_plan_runs_and_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_plan.py"), "--n", "40", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "a. diff of 40 unchanged series" in out
    assert "ratio baseline / diff_fields:" in out
    assert "batch 50, concurrency 8:" in out and "fewer calls" in out
    assert "c. whole plan of 40 series" in out and "series/s" in out
    assert "40 unchanged" in out


def test_bench_state_runs_and_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_state.py"), "--creates", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "20,000 ids:" in done.stdout and "copying the maps:" in done.stdout


def test_bench_scale_runs_and_prints_its_figures() -> None:
    command = [sys.executable, str(ROOT / "benchmarks" / "bench_scale.py"), "--n", "30"]
    command += ["--skip", "rate,growth,creates,start", "--repeat", "1", "--updates", "3"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "x the floor" in out and "CPU" in out and "peak RSS" in out
    assert "3a. pull request: 3 files changed in 30" in out and "--target of the 3 keys" in out
    assert "summary: " in out


def test_bench_batch_runs_and_prints_its_figures() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_batch.py"),
            "--n",
            "60",
            "--limit",
            "10",
            "--latency-ms",
            "0",
            "--sizes",
            "5,10,30",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "batch    5:   12 calls + 0 refused" in out
    assert "batch   10:    6 calls + 0 refused" in out
    # above the limit: at most one refusal per concurrent slot (4), then the learned limit
    line = next(x for x in out.splitlines() if x.startswith("batch   30"))
    assert "6 calls" in line and "learned limit 10" in line
    refused = int(line.split("+ ")[1].split(" refused")[0])
    assert 1 <= refused <= 2  # 60 ids in batches of 30: two batches, both in flight at once


def test_bench_imported_runs_and_prints_its_figures() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_imported.py"),
            "--n",
            "20",
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "20 imported series" in out
    assert "load + validate: owns all" in out and "compare with live: owns all" in out
    assert "load + compare: ratio owns all / written:" in out
