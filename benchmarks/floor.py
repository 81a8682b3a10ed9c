"""The floor (and the baseline) a plan is measured against: the least work any tool must do.

Run by ``bench_scale.py`` as its own process, timed whole like the tool's own commands:

- parse every series file under ``--dir`` with plain libyaml (``yaml.load`` with
  ``CSafeLoader``: no validation, no line numbers);
- list the org (``GET /v1.1/coupon/series``, ``expired=false`` then ``expired=true``), as
  every plan does;
- read the ids of ``--ids`` (a JSON list) in batches of ``--batch``, ``--concurrency`` at
  once, with plain httpx and Basic auth.

With ``--batch 100 --concurrency 32`` it is the floor of a plan at those settings; with
``--batch 1 --concurrency 10`` the baseline of a tool that reads one series per call.
Prints ``calls=N`` on stdout. Imports nothing of ``reconciler``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import sys
from pathlib import Path

import httpx
import yaml


def parse_all(directory: Path) -> int:
    parsed = 0
    for root, dirs, names in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.endswith((".yaml", ".yml")) and name != "reconciler.yaml":
                with open(os.path.join(root, name), "rb") as handle:
                    yaml.load(handle.read(), Loader=yaml.CSafeLoader)
                parsed += 1
    return parsed


async def fetch(url: str, ids: list[int], *, batch: int, concurrency: int, auth: str) -> int:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": auth, "Accept": "application/json"}
    semaphore = asyncio.Semaphore(concurrency)
    calls = 0
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as http:

        async def get(path: str, params: dict[str, str | list[str]]) -> None:
            nonlocal calls
            async with semaphore:
                response = await http.get(path, params=params)
                response.raise_for_status()
                response.json()
                calls += 1

        # the list as the tool asks it (active, then expired), reads in the documented form
        await get("/v1.1/coupon/series", {"format": "json", "expired": "false"})
        await get("/v1.1/coupon/series", {"format": "json", "expired": "true"})
        chunks = [ids[i : i + batch] for i in range(0, len(ids), batch)]
        await asyncio.gather(
            *(get("/v2/coupon/series", {"ids": [str(i) for i in c]}) for c in chunks)
        )
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--ids", type=Path, required=True, help="a JSON list of series ids")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    user = os.environ["CAPILLARY_USERNAME"]
    digest = hashlib.md5(os.environ["CAPILLARY_PASSWORD"].encode()).hexdigest()
    auth = "Basic " + base64.b64encode(f"{user}:{digest}".encode()).decode()
    parse_all(args.dir)
    ids = json.loads(args.ids.read_text())
    calls = asyncio.run(
        fetch(args.url, ids, batch=args.batch, concurrency=args.concurrency, auth=auth)
    )
    sys.stdout.write(f"calls={calls}\n")


if __name__ == "__main__":
    main()
