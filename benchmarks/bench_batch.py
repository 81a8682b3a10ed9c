"""How many ids one read should ask for: the default batch size, measured.

Run: ``.venv/bin/python benchmarks/bench_batch.py [--n 5000] [--limit 100] [--latency-ms 20]``

The docs give no largest batch for ``GET /v2/coupon/series?ids=..`` ("batch support: yes").
The sandbox refuses more than ``--limit`` ids (``Faults.max_batch_size``, 400 "At most N ids
per call"), as a server with a limit would; the client learns the limit from the refusal and
splits. For each batch size, the same N ids are read with ``CouponClient.get_series`` from
the in-process sandbox with ``--latency-ms`` added to each call, and the script prints:

- the calls made (refused ones apart) and the wall time, each as a ratio against batch 20
  (the former default) in the same run;
- the time those calls take under the documented rate limit of demo and testing clusters
  (100 calls a minute): calls / 100 minutes, since at that limit calls are the time;
- with a batch above the limit, how many calls were refused before the limit was learned:
  at most one per concurrent slot, never one per queued batch.

Every figure is from this run; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from reconciler.client import CallDone, ClientEvent, CouponClient  # noqa: E402
from reconciler.client.credentials import Credentials  # noqa: E402
from reconciler.model.settings import DEFAULT_BATCH_SIZE  # noqa: E402
from reconciler.sandbox import Faults, Sandbox, create_app, inprocess_transport  # noqa: E402

BODY = {
    "description": "Bench",
    "discountCode": "BENCH",
    "validTillDate": "2030-09-30T00:00:00+05:30",
    "anyUser": True,
    "smsTemplate": "Hi",
    "discountValue": 10,
    "clientHandlingType": "DISC_CODE",
    "expiryStrategyType": "SERIES_EXPIRY",
    "discountType": "ABS",
}
RATE_LIMIT = 100  # calls a minute: "Demo and Testing clusters: 100 requests per minute"


async def _read(
    app: object, ids: list[int], *, batch: int, concurrency: int
) -> tuple[int, int, float, int | None]:
    events: list[ClientEvent] = []
    async with CouponClient(
        base_url="http://localhost",
        credentials=Credentials.sandbox(environ={}),
        transport=inprocess_transport(app),  # type: ignore[arg-type]
        batch_size=batch,
        concurrency=concurrency,
        rate_limit_per_minute=10**9,
        on_event=events.append,
    ) as client:
        started = time.perf_counter()
        result = await client.get_series(ids)
        seconds = time.perf_counter() - started
        learned = client.batch_limit
    assert len(result.found) == len(ids), (len(result.found), len(ids))
    done = [e for e in events if isinstance(e, CallDone) and e.method == "GET"]  # no token
    refused = sum(1 for e in done if e.status == "400")
    return len(done) - refused, refused, seconds, learned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="ids read (default 5,000)")
    parser.add_argument("--limit", type=int, default=100, help="the server's largest batch")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="added to each call")
    parser.add_argument("--concurrency", type=int, default=4, help="reads at once (default 4)")
    parser.add_argument("--sizes", default="20,50,100,200,500", help="batch sizes tried")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            db_path=Path(tmp) / "bench.db",
            faults=Faults(max_batch_size=args.limit, latency_seconds=args.latency_ms / 1000),
            seed=False,
        )
        sandbox: Sandbox = app.state.sandbox
        ids = sandbox.preload([{**BODY, "discountCode": f"B{n}"} for n in range(args.n)])
        print(
            f"{args.n} ids read with get_series, concurrency {args.concurrency}, "
            f"{args.latency_ms:g} ms a call, the server's limit {args.limit} ids "
            f"(default batch_size: {DEFAULT_BATCH_SIZE})"
        )
        rows = {}
        for size in sizes:
            rows[size] = asyncio.run(_read(app, ids, batch=size, concurrency=args.concurrency))
        base_calls, _, base_seconds, _ = rows[sizes[0]]
        for size, (calls, refused, seconds, learned) in rows.items():
            limited = (calls + refused) / RATE_LIMIT * 60
            print(
                f"batch {size:>4}: {calls:>4} calls + {refused} refused, {seconds:6.2f} s "
                f"({base_calls / calls:4.1f}x fewer calls, {base_seconds / seconds:4.1f}x "
                f"faster than batch {sizes[0]}); under {RATE_LIMIT} calls/min: {limited:6.1f} s"
                + (f"; learned limit {learned}" if learned else "")
            )
        sandbox.close()


if __name__ == "__main__":
    main()
