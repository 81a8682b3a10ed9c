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


def test_the_benchmark_server_lists_in_the_vendor_s_shape(tmp_path: Path) -> None:
    # The benchmarks measure the list a real org answers: the vendor's 58 keys, every value a
    # string, the counts under "coupons" (tests/data/evidence/v1_1_list_example.json).
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import server  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    from reconciler.client.answers import list_items
    from reconciler.sandbox import create_app, rules

    app = create_app(db_path=tmp_path / "s.db", seed=True)
    stored = app.state.sandbox.all_series()
    items = [{rules.snake_case(k): v for k, v in doc.items()} for doc in stored]
    body = {"response": {"status": {}, "series": {"items": {"item": items}}}}
    example = server._example_item()
    shaped = server.vendor_body(body, example)["response"]["series"]["items"]["item"]

    def leaves(value: object) -> list[object]:
        if isinstance(value, dict):
            return [leaf for v in value.values() for leaf in leaves(v)]
        return [value]

    assert len(shaped) == len(stored) >= 2
    for one, doc in zip(shaped, stored, strict=True):
        assert list(one) == list(example)
        assert all(leaf is None or isinstance(leaf, str) for leaf in leaves(one))
        assert one["id"] == str(doc["id"]) and one["description"] == doc["description"]
        assert one["series_code"] == doc["seriesCode"]
    listed = list_items({"response": {"series": {"items": {"item": shaped}}}})
    assert [s.series_id for s in listed.series] == [doc["id"] for doc in stored]
