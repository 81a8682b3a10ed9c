"""The benchmarks' server: the sandbox in its own process, with latency and a rate limit.

Run by ``bench_scale.py``::

    python benchmarks/server.py --port 8080 --db sandbox.db --latency-ms 50 [--rate-limit 100]

It is ``reconciler sandbox serve``'s app, unseeded, on a database the benchmark fills. Its
v1.1 list answers in the vendor's documented shape (``reconciler/sandbox/listing.py``: 58 keys
a series, every value a string, ``created``, the counts under ``coupons``), so a 10,000-series
answer is about 20 MB, as a real org's is.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))


def main() -> None:
    from reconciler.sandbox import Faults, create_app, serve
    from reconciler.sandbox.accounts import Accounts

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--rate-limit", type=int, default=None)
    args = parser.parse_args()
    faults = Faults(latency_seconds=args.latency_ms / 1000, rate_limit_per_minute=args.rate_limit)
    app = create_app(
        db_path=args.db, credentials=Accounts.from_environment(), faults=faults, seed=False
    )
    # Stopped by the benchmark (SIGTERM/SIGINT): its normal end.
    with contextlib.suppress(KeyboardInterrupt):
        serve(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
