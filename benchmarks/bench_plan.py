"""How fast a plan is, and why: the figures behind the planner's design choices.

Run: ``.venv/bin/python benchmarks/bench_plan.py [--n 2000] [--repeat 3]``

Prints, for N series (default 2,000):

a. diff of N unchanged series: ``diff_fields`` (canonical form, cheap equality first, DeepDiff
   only for a field that differs) against a baseline that runs DeepDiff on every series;
b. fetching N series with ``CouponClient.get_series`` from the in-process sandbox: batch size
   1 against 50, concurrency 1 against 8 (calls, seconds, ratios); once with no latency (the
   tool's own cost per call) and once with a small latency added to each call (a stand-in
   for the network: where concurrency pays);
c. a whole ``plan`` of N series end to end (files on disk → load → fetch → diff → Plan).

Every figure is a ratio against a baseline measured in the same run, on the same machine:
absolute times vary; the ratios are what the design relies on. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from deepdiff import DeepDiff

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from reconciler.client import CouponClient  # noqa: E402
from reconciler.client.credentials import Credentials  # noqa: E402
from reconciler.engine.diff import canonical_fields, diff_fields  # noqa: E402
from reconciler.files.loader import load_series  # noqa: E402
from reconciler.sandbox import Faults, create_app, rules  # noqa: E402
from reconciler.sandbox.transport import inprocess_transport  # noqa: E402

SERIES = """\
description: {description}
discountCode: {code}
validTillDate: 2030-09-30T00:00:00+05:30
anyUser: true
discountValue: {value}
clientHandlingType: DISC_CODE
expiryStrategyType: SERIES_EXPIRY
discountType: PERC
smsTemplate: "Hi {{{{first_name}}}}, your code is {{{{voucher}}}}"
productInfo:
  - productType: SKU
    productIds: [10, 20, {value}]
targetUserDetails:
  validMaxUserTransactionLimit: 2
"""


def best(repeat: int, work: Callable[[], object]) -> float:
    """The shortest of ``repeat`` runs, in seconds (the least disturbed by the machine)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def ratio(slow: float, fast: float) -> str:
    return f"{slow / fast:,.1f}x" if fast > 0 else "n/a"


# --- the data: N series files, and the same series stored in a sandbox ------------------------


def make_world(root: Path, n: int) -> tuple[Path, Path, dict[str, int]]:
    """N series files under ``root/series``; a sandbox at ``root/sandbox`` holding them, live.

    The series are written into the sandbox's store in one transaction (a POST each would
    measure the sandbox, not the tool). The state maps each key to its id.
    """
    series = root / "series"
    for i in range(n):
        path = series / f"group{i % 20:02d}" / f"series-{i:05d}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            SERIES.format(
                description=json.dumps(f"Series {i}: {i % 50}% off"), code=f"B{i:05d}", value=i
            ),
            encoding="utf-8",
        )
    loaded = load_series(series)
    if not loaded.ok:
        raise SystemExit(f"the generated series do not validate: {loaded.problems[:3]}")
    home = root / "sandbox"
    app = create_app(db_path=home / "sandbox.db", seed=False)
    made = app.state.sandbox.preload([dict(s.fields) for s in loaded.series])
    ids = {s.key: sid for s, sid in zip(loaded.series, made, strict=True)}
    app.state.sandbox.close()
    state = {"format_version": 1, "environment": "sandbox", "ids": ids, "intents": {}}
    (home / "state.json").write_text(json.dumps(state, indent=2), encoding="utf-8")
    return series, home, ids


class CountingTransport(httpx.AsyncBaseTransport):
    """The in-process sandbox, counting the calls that reach it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


# --- a. diff ----------------------------------------------------------------------------------


def bench_diff(series_dir: Path, home: Path, ids: dict[str, int], repeat: int) -> None:
    loaded = load_series(series_dir)
    app = create_app(db_path=home / "sandbox.db", seed=False)
    sandbox = app.state.sandbox
    pairs: list[tuple[dict[str, Any], dict[str, Any], list[str]]] = []
    for desired in loaded.series:
        doc = sandbox.get_series(ids[desired.key])
        assert doc is not None
        live = rules.answer(doc, warnings=False)
        pairs.append((dict(desired.fields), live, sorted(desired.declared)))
    sandbox.close()

    def cheap() -> int:
        return sum(len(diff_fields(desired=d, live=lv, fields=f)) for d, lv, f in pairs)

    def deep_everywhere() -> int:
        # The cost the cheap test avoids: DeepDiff over every series' canonical fields.
        return sum(
            len(DeepDiff(canonical_fields(lv, f), canonical_fields(d, f), ignore_order=False))
            for d, lv, f in pairs
        )

    assert cheap() == 0 and deep_everywhere() == 0, "the series are not unchanged"
    t_cheap = best(repeat, cheap)
    t_deep = best(repeat, deep_everywhere)
    n = len(pairs)
    print(f"a. diff of {n:,} unchanged series ({len(pairs[0][2])} declared fields each)")
    print(f"   diff_fields (cheap equality first):  {t_cheap * 1000:9.1f} ms")
    print(f"   DeepDiff on every series (baseline): {t_deep * 1000:9.1f} ms")
    print(f"   ratio baseline / diff_fields:        {ratio(t_deep, t_cheap):>9}")


# --- b. fetch ---------------------------------------------------------------------------------


async def _fetch(
    home: Path, ids: Sequence[int], *, batch: int, concurrency: int, latency: float
) -> int:
    app = create_app(
        db_path=home / "sandbox.db", seed=False, faults=Faults(latency_seconds=latency)
    )
    transport = CountingTransport(inprocess_transport(app))
    async with CouponClient(
        base_url="http://127.0.0.1",
        credentials=Credentials.sandbox(),
        auth="basic",  # no token call: every call counted is a GET of a batch
        transport=transport,
        rate_limit_per_minute=10_000_000,
        batch_size=batch,
        concurrency=concurrency,
    ) as client:
        result = await client.get_series(ids)
    app.state.sandbox.close()
    if len(result.found) != len(ids):
        raise SystemExit(f"fetched {len(result.found)} of {len(ids)} series")
    return transport.calls


def bench_fetch(home: Path, ids: dict[str, int], repeat: int, latency_ms: float) -> None:
    wanted = sorted(ids.values())
    for latency in (0.0, latency_ms / 1000):
        where = f"{latency_ms:g} ms a call" if latency else "no added latency"
        print(f"b. fetch {len(wanted):,} series by id (in-process sandbox, {where})")
        rows = []
        for batch, concurrency in ((1, 1), (1, 8), (50, 1), (50, 8)):
            calls = 0

            def work(b: int = batch, c: int = concurrency, lat: float = latency) -> None:
                nonlocal calls
                calls = asyncio.run(_fetch(home, wanted, batch=b, concurrency=c, latency=lat))

            seconds = best(repeat if batch > 1 else 1, work)
            rows.append((batch, concurrency, calls, seconds))
            print(
                f"   batch {batch:>2}, concurrency {concurrency}: {calls:6,} calls "
                f"{seconds:8.3f} s {len(wanted) / seconds:9,.0f} series/s"
            )
        base_calls, base = rows[0][2], rows[0][3]
        for batch, concurrency, calls, seconds in rows[1:]:
            print(
                f"   vs batch 1, concurrency 1: batch {batch:>2}, concurrency {concurrency}: "
                f"{ratio(base, seconds):>7} faster, {base_calls / calls:,.0f}x fewer calls"
            )


# --- c. whole plan ----------------------------------------------------------------------------


def bench_plan(series_dir: Path, home: Path, n: int, repeat: int) -> None:
    from reconciler import service

    os.environ["RECONCILER_SANDBOX_DIR"] = str(home)
    plans = []

    def work() -> None:
        plans.append(service.make_plan(directory=series_dir, sandbox=True))

    seconds = best(repeat, work)
    counts = plans[-1].counts
    if counts.unchanged != n:
        raise SystemExit(f"the plan is not all unchanged: {plans[-1].summary()}")
    print(f"c. whole plan of {n:,} series (files on disk, in-process sandbox, batch 50 x 8)")
    print(f"   {seconds:8.3f} s, {n / seconds:,.0f} series/s ({plans[-1].summary()})")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, default=int(os.environ.get("BENCH_N", "2000")), help="series (2000)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is kept")
    parser.add_argument(
        "--latency-ms", type=float, default=2.0, help="added to each call in the second fetch run"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(
        f"reconciler plan benchmarks: N={args.n:,}, best of {args.repeat}, Python "
        f"{sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
        series_dir, home, ids = make_world(Path(tmp), args.n)
        print(f"   (setup: {time.perf_counter() - started:.1f} s)")
        bench_diff(series_dir, home, ids, args.repeat)
        bench_fetch(home, ids, args.repeat, args.latency_ms)
        bench_plan(series_dir, home, args.n, args.repeat)
    print(f"total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
