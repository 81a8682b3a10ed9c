"""A killed apply (SIGKILL at random points, many trials), then a rerun: no duplicate series,
and the end state converged. The tool and the sandbox run as separate processes over
loopback HTTP, as they would in CI."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.credentials import SANDBOX_PASSWORD, SANDBOX_USERNAME
from tests.scenarios.conftest import SETTINGS, series_text

TRIALS = int(os.environ.get("KILL_TRIALS", "12"))
SERIES_PER_TRIAL = 6
RECONCILER = [sys.executable, "-m", "reconciler"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("killed") / "sandbox.db"
    port = free_port()
    env = {
        **os.environ,
        "CAPILLARY_USERNAME": SANDBOX_USERNAME,
        "CAPILLARY_PASSWORD": SANDBOX_PASSWORD,
    }
    proc = subprocess.Popen(
        [
            *RECONCILER,
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--db",
            str(db),
            "--latency-ms",
            "80",
        ],
        env=env,
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
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def all_codes(url: str) -> Counter[str]:
    response = httpx.get(
        url + "/v1.1/coupon/series",
        params={"format": "json"},
        auth=None,
        headers={"Authorization": basic()},
        timeout=10,
    )
    items = response.json()["response"]["series"]["items"]["item"]
    return Counter(str(item["discount_code"]) for item in items)


def basic() -> str:
    import base64
    import hashlib

    digest = hashlib.md5(SANDBOX_PASSWORD.encode()).hexdigest()
    return "Basic " + base64.b64encode(f"{SANDBOX_USERNAME}:{digest}".encode()).decode()


def run(args: list[str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CAPILLARY_USERNAME": SANDBOX_USERNAME,
        "CAPILLARY_PASSWORD": SANDBOX_PASSWORD,
    }
    return subprocess.run(
        [*RECONCILER, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_killed_applies_never_duplicate_and_a_rerun_converges(
    sandbox_url: str, tmp_path: Path
) -> None:
    rng = random.Random(20261123)
    killed_mid_way = 0
    for trial in range(TRIALS):
        root = tmp_path / f"trial-{trial}"
        series = root / "series"
        series.mkdir(parents=True)
        (series / "reconciler.yaml").write_text(
            SETTINGS.format(url=sandbox_url).replace("timeout_seconds: 2", "timeout_seconds: 10")
        )
        codes = [f"K{trial}N{i}" for i in range(SERIES_PER_TRIAL)]
        for i, code in enumerate(codes):
            (series / f"s{i}.yaml").write_text(series_text(f"Trial {trial} series {i}", code))
        env = {
            **os.environ,
            "CAPILLARY_USERNAME": SANDBOX_USERNAME,
            "CAPILLARY_PASSWORD": SANDBOX_PASSWORD,
        }
        proc = subprocess.Popen(
            [*RECONCILER, "apply", "--env", "local", "--auto-approve", "--parallelism", "2"],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 1.3))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed_mid_way += 1
        proc.wait(timeout=30)

        rerun = run(["apply", "--env", "local", "--auto-approve"], cwd=root)
        assert rerun.returncode == 0, f"trial {trial}: {rerun.stdout}\n{rerun.stderr}"
        counts = all_codes(sandbox_url)
        assert all(counts[code] == 1 for code in codes), (trial, {c: counts[c] for c in codes})
        plan = run(["plan", "--env", "local", "--detailed-exitcode"], cwd=root)
        assert plan.returncode == 0, f"trial {trial}: {plan.stdout}\n{plan.stderr}"
    assert killed_mid_way >= TRIALS // 2  # the kills really landed while applies ran
