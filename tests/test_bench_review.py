"""benchmarks/bench_review.py still runs and prints its figures (small N; no timing asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_review_runs_and_prints_its_ratios(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_review.py"),
            "--n",
            "40",
            "--applied",
            "5",
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "ratio ledger / journal:" in out
    assert "ratio with / without:" in out and "(2 records written)" in out
    assert "ratio markdown / to_json:" in out
