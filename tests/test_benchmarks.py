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
