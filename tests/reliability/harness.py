"""What the reliability suites share: a child process with its limits and its peak memory,
a loopback listener that counts connections, and the figures each suite prints.

The suites are bounded for CI; ``RELIABILITY_FULL=1`` runs every input through every
path (see docs/reliability.md).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

FULL = os.environ.get("RELIABILITY_FULL") == "1"
RECONCILER = [sys.executable, "-m", "reconciler"]
# A child may use this much address space; past it Python raises MemoryError (a traceback,
# so a counted failure) instead of taking the machine down.
MEMORY_LIMIT = 1024**3
TIMEOUT_SECONDS = 60.0

# Suite name -> figure name -> value; printed at the end of the session (conftest.py).
FIGURES: dict[str, dict[str, object]] = {}


def figure(suite: str, name: str, value: object) -> None:
    FIGURES.setdefault(suite, {})[name] = value


@dataclass(frozen=True)
class Child:
    """How one child process ended."""

    args: tuple[str, ...]
    code: int | None  # None: killed at the timeout
    stdout: str
    stderr: str
    seconds: float
    max_rss_kb: int

    @property
    def timed_out(self) -> bool:
        return self.code is None

    @property
    def crashed(self) -> bool:
        # A negative code is a signal (-11: a segfault); 139 is a shell's way of saying it.
        return self.code is not None and (self.code < 0 or self.code >= 128)

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stderr + self.stdout


# The child sets its own memory limit and runs ``python -m reconciler`` in itself (no
# preexec_fn: forking a process that runs threads must not run Python before exec). At
# exit it writes its peak RSS (VmHWM: this process only, not the parent it was forked
# from, which ru_maxrss would include) to the file RELIABILITY_RSS_FILE names.
_LIMITED = (
    "import atexit, os, resource, runpy, sys\n"
    f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))\n"
    "def _report():\n"
    "    try:\n"
    "        with open('/proc/self/status') as status:\n"
    "            peak = [l.split()[1] for l in status if l.startswith('VmHWM')][0]\n"
    "        with open(os.environ['RELIABILITY_RSS_FILE'], 'w') as out:\n"
    "            out.write(peak)\n"
    "    except (OSError, KeyError, IndexError):\n"
    "        pass\n"
    "atexit.register(_report)\n"
    "sys.argv = ['reconciler', *sys.argv[1:]]\n"
    "runpy.run_module('reconciler', run_name='__main__', alter_sys=True)\n"
)


def run_child(
    args: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float = TIMEOUT_SECONDS,
    stdin: str = "",
) -> Child:
    """``reconciler ARGS`` in a child with a memory limit, killed at ``timeout``."""
    started = time.monotonic()
    handle, rss_file = tempfile.mkstemp(prefix="rss-")
    os.close(handle)
    env = {**env, "RELIABILITY_RSS_FILE": rss_file}
    proc = subprocess.Popen(
        [sys.executable, "-c", _LIMITED, *args],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    out: dict[str, bytes] = {}

    def pump(name: str, stream: object) -> None:
        out[name] = stream.read()  # type: ignore[attr-defined]

    readers = [
        threading.Thread(target=pump, args=("stdout", proc.stdout), daemon=True),
        threading.Thread(target=pump, args=("stderr", proc.stderr), daemon=True),
    ]
    for reader in readers:
        reader.start()
    assert proc.stdin is not None
    try:
        proc.stdin.write(stdin.encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    code: int | None
    deadline = started + timeout
    while True:
        pid, status = os.waitpid(proc.pid, os.WNOHANG)
        if pid:
            code = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            os.waitpid(proc.pid, 0)
            code = None
            break
        time.sleep(0.01)
    proc.returncode = code if code is not None else -9  # already reaped: keep Popen quiet
    for reader in readers:
        reader.join(timeout=10)
    return Child(
        args=tuple(args),
        code=code,
        stdout=out.get("stdout", b"").decode("utf-8", "replace"),
        stderr=out.get("stderr", b"").decode("utf-8", "replace"),
        seconds=time.monotonic() - started,
        max_rss_kb=_read_rss(rss_file),
    )


def _read_rss(path: str) -> int:
    try:
        with open(path) as handle:
            text = handle.read().strip()
        return int(text) if text else 0
    finally:
        os.unlink(path)


@dataclass
class Listener:
    """A loopback TCP listener that counts the connections made to it (and closes them)."""

    port: int
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def counting_listener() -> Iterator[Listener]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.settimeout(0.2)
    listener = Listener(port=sock.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            listener.connections += 1
            with conn:
                conn.settimeout(0.5)
                with suppress(OSError):
                    listener.requests.append(conn.recv(4096))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


def base_env(**extra: str) -> dict[str, str]:
    """The parent's environment without any credential, colour or proxy, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CAPILLARY_") and "proxy" not in k.lower() and k != "NO_COLOR"
    }
    env.update({"PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"}, **extra)
    return env
