"""The tool and the sandbox as separate processes over loopback, as in CI."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.client.credentials import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.scenarios.conftest import SETTINGS, SETTLE_SECONDS, series_text

RECONCILER = [sys.executable, "-m", "reconciler"]


def child_env() -> dict[str, str]:
    env = {
        **os.environ,
        "CAPILLARY_USERNAME": SANDBOX_USERNAME,
        "CAPILLARY_PASSWORD": SANDBOX_PASSWORD,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("NO_COLOR", None)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def basic() -> str:
    digest = hashlib.md5(SANDBOX_PASSWORD.encode()).hexdigest()
    return "Basic " + base64.b64encode(f"{SANDBOX_USERNAME}:{digest}".encode()).decode()


@contextlib.contextmanager
def sandbox_process(*, db: Path, latency_ms: int) -> Iterator[str]:
    """``reconciler sandbox serve`` in its own process; yields its base URL."""
    port = free_port()
    command = [*RECONCILER, "sandbox", "serve", "--port", str(port), "--db", str(db)]
    proc = subprocess.Popen(
        [*command, "--latency-ms", str(latency_ms)],
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(url + "/v2/coupon/series?ids=1", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("the sandbox server did not start")
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def listed(url: str) -> list[dict[str, object]]:
    """Every series of the sandbox, through the older list-all API."""
    response = httpx.get(
        url + "/v1.1/coupon/series",
        params={"format": "json"},
        headers={"Authorization": basic()},
        timeout=10,
    )
    items: list[dict[str, object]] = response.json()["response"]["series"]["items"]["item"]
    return items


def all_codes(url: str) -> Counter[str]:
    return Counter(str(item["discount_code"]) for item in listed(url))


def project(root: Path, url: str, *, prefix: str, n: int) -> list[str]:
    """A series folder with ``n`` series files whose discount codes start with ``prefix``."""
    series = root / "series"
    series.mkdir(parents=True)
    (series / "reconciler.yaml").write_text(
        SETTINGS.format(url=url, settle=SETTLE_SECONDS).replace(
            "timeout_seconds: 2", "timeout_seconds: 10"
        )
    )
    codes = [f"{prefix}{i:02d}" for i in range(n)]
    # Keys unique per project: projects share one sandbox org, and a key's marker is its own.
    for i, code in enumerate(codes):
        (series / f"{code.lower()}.yaml").write_text(series_text(f"{prefix} series {i}", code))
    return codes


def run(args: list[str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RECONCILER, *args], cwd=cwd, env=child_env(), capture_output=True, text=True, timeout=120
    )
