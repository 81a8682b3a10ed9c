"""``reconciler sandbox serve`` on a busy port, and on ``--port 0`` (issue 22.12).

Before: on a busy port it printed "Sandbox at ..." and then exited 3 (uvicorn's own code, not
documented); ``--port 0`` was refused. Now the port is taken before anything is printed: a
busy one is a clear error with exit 1, and ``--port 0`` serves on a free port it prints.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .conftest import clean_env


def _serve(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sandbox", "serve", "--db", "s.db", *args],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_busy_port_is_a_clear_error_before_anything_is_printed(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        process = _serve(tmp_path, "--port", str(port))
        out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert out == ""  # no "Sandbox at ..."
    assert err.strip() == (
        f"Error: port {port} on 127.0.0.1 is in use (another sandbox, or another program): "
        "choose another with --port, or --port 0 for a free one"
    )


def test_port_zero_serves_on_a_free_port_and_prints_it(tmp_path: Path) -> None:
    process = _serve(tmp_path, "--port", "0")
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        found = re.match(r"Sandbox at http://127\.0\.0\.1:(\d+) \(database ", first)
        assert found, first
        port = int(found.group(1))
        assert port > 0
        deadline = time.monotonic() + 20
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/v2/coupon/series?ids=1", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        assert answer.status_code == 401  # served, and asks for credentials
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    assert process.returncode == 130  # interrupted, as every command
