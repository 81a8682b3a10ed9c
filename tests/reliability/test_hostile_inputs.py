"""Hostile input: every case of the corpus through ``validate`` and ``plan --sandbox``.

Counted for each run: tracebacks, hangs (the timeout), crashes (a signal), exit codes
outside the documented ones, the content of a file outside the series folder in the
output, output past 1 MB, peak memory, and connections from ``validate`` (the environment
points the API and every proxy at a loopback listener that counts them).

Bounded (CI): every case through ``validate`` in process, the cases that could block or
crash a process (special files, deep nesting, 5,000 files) and a sample through a child
process, a sample through ``plan --sandbox``. ``RELIABILITY_FULL=1``: every case through
both commands in a child process.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from tests.reliability.corpus import OUTSIDE_MARKER, Case, corpus
from tests.reliability.harness import (
    FULL,
    Child,
    base_env,
    counting_listener,
    figure,
    run_child,
)

CASES = corpus()
MAX_OUTPUT = 1024 * 1024
IN_PROCESS_TIMEOUT = 30
LEAK_MARKERS = (OUTSIDE_MARKER, "OUTSIDE-MARKER", "SECRET-IN-URL", "SECRET-IN-FILE")
# The sample of the bounded run that also goes through a child process / plan --sandbox.
CHILD_SAMPLE = 1 if FULL else 40
PLAN_SAMPLE = 1 if FULL else 30
# Owned by another change of issue 11 (item 6: JSON strings nested 5,000 deep reach a
# RecursionError in validate.py). Run and counted apart until that lands; then this set
# is emptied and they count like every other case.


class Hang(Exception):
    pass


@contextmanager
def no_network() -> Iterator[list[Any]]:
    """Every outgoing connection attempt in this process is recorded and refused."""
    attempts: list[Any] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        if self.family != socket.AF_UNIX:
            attempts.append(address)
            raise ConnectionRefusedError("network use during validate")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        attempts.append(address)
        return 111

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    try:
        yield attempts
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    def expired(_signum: int, _frame: Any) -> None:
        raise Hang(f"no answer in {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def in_process(args: list[str], root: Path) -> tuple[int | None, str, str]:
    """(exit code or None for a traceback/hang, output, the traceback or hang)."""
    old = Path.cwd()
    os.chdir(root)
    try:
        with deadline(IN_PROCESS_TIMEOUT):
            result = CliRunner().invoke(main, args, catch_exceptions=True)
    except Hang as hang:
        return None, "", f"HANG {hang}"
    finally:
        os.chdir(old)
    error = ""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        error = f"Traceback {type(result.exception).__name__}: {result.exception}"
        return None, result.output, error
    return result.exit_code, result.output, error


def output_bound(case_size: int) -> int:
    # Output grows with the input (one line per problem), never as its square.
    return MAX_OUTPUT + 64 * case_size


def problems_of(
    case: Case, code: int | None, output: str, error: str, allowed: set[int], *, size: int = 0
) -> list[str]:
    found = []
    if error:
        found.append(error[:300])
    if code is not None and code not in allowed:
        found.append(f"exit {code}")
    if "Traceback (most recent call last)" in output:
        found.append("traceback in the output")
    if len(output) > output_bound(size):
        found.append(f"{len(output):,} characters of output")
    for marker in LEAK_MARKERS:
        if marker in output:
            found.append(f"output shows {marker!r}")
    return [f"{case.name}: {p}" for p in found]


def child_problems(case: Case, child: Child, allowed: set[int], *, size: int) -> list[str]:
    found = []
    if child.timed_out:
        found.append("HANG (killed at the timeout)")
    elif child.crashed:
        found.append(f"crash: exit {child.code}")
    output = child.stdout + child.stderr
    return [f"{case.name}: {p}" for p in found] + problems_of(
        case,
        None if child.timed_out or child.crashed else child.code,
        output,
        "",
        allowed,
        size=size,
    )


@pytest.fixture(scope="module")
def listener() -> Iterator[Any]:
    with counting_listener() as counting:
        yield counting


def child_env(listener: Any) -> dict[str, str]:
    url = listener.url
    return base_env(
        CAPILLARY_BASE_URL=url,
        CAPILLARY_USERNAME="hostile-user",
        CAPILLARY_PASSWORD="hostile-password",
        HTTP_PROXY=url,
        HTTPS_PROXY=url,
        ALL_PROXY=url,
        http_proxy=url,
        https_proxy=url,
        all_proxy=url,
    )


def test_hostile_inputs(tmp_path_factory: pytest.TempPathFactory, listener: Any) -> None:
    failures: list[str] = []
    counts: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    child_rss: list[int] = []
    slowest = 0.0
    env = child_env(listener)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update({k: v for k, v in env.items() if k not in ("PYTHONFAULTHANDLER",)})
    try:
        with no_network() as attempts:
            for index, case in enumerate(CASES):
                root = tmp_path_factory.mktemp("hostile")
                case.build(root)
                categories[case.category] += 1
                size = _size(root / "series")
                started = time.monotonic()
                if not case.isolate:
                    code, output, error = in_process(["validate", "--dir", "series"], root)
                    failures += problems_of(case, code, output, error, {0, 1}, size=size)
                    counts["validate in process"] += 1
                if case.isolate or index % CHILD_SAMPLE == 0:
                    child = run_child(["validate", "--dir", "series"], cwd=root, env=env)
                    failures += child_problems(case, child, {0, 1}, size=size)
                    child_rss.append(child.max_rss_kb)
                    counts["validate in a child process"] += 1
                if index % PLAN_SAMPLE == 0 or (case.isolate and FULL):
                    child = run_child(["plan", "--sandbox", "--dir", "series"], cwd=root, env=env)
                    failures += child_problems(case, child, {0, 1}, size=size)
                    child_rss.append(child.max_rss_kb)
                    counts["plan --sandbox in a child process"] += 1
                slowest = max(slowest, time.monotonic() - started)
            in_process_attempts = len(attempts)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    suite = "hostile input"
    figure(suite, "inputs", len(CASES))
    figure(suite, "by category", dict(sorted(categories.items())))
    figure(suite, "runs", dict(sorted(counts.items())))
    figure(suite, "tracebacks, hangs, crashes, leaks, oversized outputs", len(failures))
    figure(suite, "network connections from validate", in_process_attempts + listener.connections)
    figure(suite, "peak RSS of a child process, MB", round(max(child_rss) / 1024, 1))
    figure(suite, "peak RSS of the test process, MB", round(_self_rss_mb(), 1))
    figure(suite, "slowest case, s", round(slowest, 1))
    assert len(CASES) >= 200
    assert not failures, "\n".join(failures)
    assert in_process_attempts == 0 and listener.connections == 0
    assert max(child_rss) < 600 * 1024


def _size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            info = path.lstat()
        except OSError:
            continue
        if path.is_file() and not path.is_symlink():
            total += min(info.st_size, 1024 * 1024)
    return total


def _self_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
