"""A server that accepts connections and never answers (issue 22.8), the CLI in its own process.

Before: ``plan`` printed nothing, even with ``--debug``, and gave up after about 605 s (five
tries of the list's 120 s read timeout, whatever ``timeout_seconds`` said); Ctrl-C during an
apply's planning waited for the plan. Now, at ``timeout_seconds: 5``: the first line on
stderr says what the run waits for within seconds, the plan ends by itself well within 90 s
(the list waits 4 × 5 s for its first byte, and a silent call is tried twice), and SIGINT or
SIGTERM ends an apply that is still planning within 5 s, with exit 130 and nothing written.
``list``, ``import`` and ``state rebuild`` say what they wait for too.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.scenarios.conftest import series_text
from tests.scenarios.processes import RECONCILER, child_env

SETTINGS = """\
defaults:
  smsTemplate: "Hi, your code is {{{{voucher}}}}"
environments:
  local:
    base_url: {url}
    auth: basic
    timeout_seconds: {timeout}
"""


class SilentServer:
    """Accepts every connection on a loopback port, reads nothing, answers nothing."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port: int = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@dataclass
class Running:
    """A CLI process whose stderr lines are timed as they come."""

    proc: subprocess.Popen[str]
    started: float
    lines: list[tuple[float, str]] = field(default_factory=list)
    out: list[str] = field(default_factory=list)
    readers: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(cls, args: list[str], *, cwd: Path) -> Running:
        proc = subprocess.Popen(
            [*RECONCILER, *args],
            cwd=cwd,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        running = cls(proc=proc, started=time.monotonic())
        for target in (running._read_err, running._read_out):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            running.readers.append(thread)
        return running

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append((time.monotonic() - self.started, line.rstrip("\n")))

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        self.out.append(self.proc.stdout.read())

    def first_line_within(self, seconds: float) -> tuple[float, str]:
        deadline = time.monotonic() + seconds
        while not self.lines and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.05)
        assert self.lines, f"nothing on stderr within {seconds}s"
        return self.lines[0]

    def wait(self, seconds: float) -> tuple[int, float, str]:
        """The exit code, the seconds since the start, stdout; fails past ``seconds``."""
        try:
            self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"still running after {seconds}s")
        elapsed = time.monotonic() - self.started
        for thread in self.readers:
            thread.join(timeout=5)
        return self.proc.returncode, elapsed, "".join(self.out)

    @property
    def stderr(self) -> str:
        return "\n".join(line for _, line in self.lines)


def project(root: Path, port: int, *, timeout: float) -> Path:
    series = root / "series"
    series.mkdir(parents=True)
    (series / "reconciler.yaml").write_text(
        SETTINGS.format(url=f"http://127.0.0.1:{port}", timeout=timeout), encoding="utf-8"
    )
    (series / "one.yaml").write_text(series_text("one", "SILENT1"), encoding="utf-8")
    return series


def test_plan_says_what_it_waits_for_and_ends_by_itself(
    silent: SilentServer, tmp_path: Path
) -> None:
    series = project(tmp_path, silent.port, timeout=5)
    plan = Running.start(["plan", "--env", "local"], cwd=tmp_path)
    # While it waits: Ctrl-C ends another plan, Ctrl-C and SIGTERM an apply still planning.
    other = Running.start(["plan", "--env", "local"], cwd=tmp_path)
    other.first_line_within(10)
    sent = time.monotonic()
    other.proc.send_signal(signal.SIGINT)
    code, _, _ = other.wait(30)
    assert time.monotonic() - sent <= 5
    assert code == 130 and "Traceback" not in other.stderr
    for sig in (signal.SIGINT, signal.SIGTERM):
        apply = Running.start(["apply", "--env", "local", "--auto-approve"], cwd=tmp_path)
        apply.first_line_within(10)  # it is planning: waiting for the list
        sent = time.monotonic()
        apply.proc.send_signal(sig)
        code, _, out = apply.wait(30)
        assert time.monotonic() - sent <= 5
        assert code == 130, apply.stderr
        assert "Interrupted." in apply.stderr and "Traceback" not in apply.stderr
        assert out == ""
        # Nothing written: no state file, no journal.
        assert not (series / ".state").exists()

    at, first = plan.first_line_within(10)
    assert at <= 10
    assert first.startswith("waiting for the answer to GET /v1.1/coupon/series?expired=false from ")
    assert f"http://127.0.0.1:{silent.port}" in first
    assert "gives up after 20s without an answer" in first  # 4 x timeout_seconds
    code, elapsed, out = plan.wait(120)
    assert code == 1 and out == ""
    assert elapsed <= 90
    last = plan.lines[-1][1]
    assert last.startswith("Error: GET /v1.1/coupon/series?expired=false on http://127.0.0.1:")
    assert "(after 2 attempts)" in last and "no answer within 20s" in last
    assert "timeout_seconds" in last
    assert "attempt 2" in plan.stderr  # the retry said so too
    assert "internal error" not in plan.stderr and "Traceback" not in plan.stderr


FLAGS = ("-v", "--debug")


def test_verbose_and_debug_logs_say_it_too(silent: SilentServer, tmp_path: Path) -> None:
    project(tmp_path, silent.port, timeout=1)
    runs = {flag: Running.start([flag, "plan", "--env", "local"], cwd=tmp_path) for flag in FLAGS}
    for flag, plan in runs.items():
        code, _, _ = plan.wait(60)
        assert code == 1, flag
        waiting = [line for _, line in plan.lines if "waiting for the answer to GET" in line]
        assert waiting, plan.stderr
        assert "gives up after 4s without an answer" in waiting[0]
        # The call's own log line says how it ended.
        assert any(
            "GET /v1.1/coupon/series" in line and "ReadTimeout" in line for _, line in plan.lines
        )
        if flag == "--debug":  # the debug log's timestamps
            assert any(" reconciler.client DEBUG: GET " in line for _, line in plan.lines)


def test_nothing_is_left_listening(silent: SilentServer) -> None:
    """The fixture itself: a server that takes connections and never writes a byte."""
    with socket.create_connection(("127.0.0.1", silent.port), timeout=2) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        conn.settimeout(0.5)
        with pytest.raises(TimeoutError):
            conn.recv(1)


def test_every_command_that_calls_the_api_says_what_it_waits_for(
    silent: SilentServer, tmp_path: Path
) -> None:
    """Not only plan and apply: each command's client reports to the CLI's status line."""
    project(tmp_path, silent.port, timeout=1)
    commands = (["list"], ["import", "1"], ["state", "rebuild"])
    runs = [Running.start([*c, "--env", "local"], cwd=tmp_path) for c in commands]
    for run in runs:
        _, first = run.first_line_within(10)
        assert first.startswith("waiting for the answer to GET /v1.1/coupon/series"), first
    for run in runs:
        code, _, _ = run.wait(60)
        assert code == 1 and "Traceback" not in run.stderr
