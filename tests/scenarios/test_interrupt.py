"""Ctrl-C during an apply, the apply lock, and the progress lines of a non-terminal run.

The tool and a slow sandbox (150 ms a call) run as separate processes over loopback HTTP, as
in CI. The apply's stderr is read line by line while it runs, so the signal lands after some
series are done and before the others have started.
"""

from __future__ import annotations

import json
import os
import pty
import queue
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

from tests.scenarios.processes import (
    RECONCILER,
    all_codes,
    child_env,
    listed,
    project,
    run,
    sandbox_process,
)

LATENCY_MS = 150
APPLY = ["apply", "--env", "local", "--auto-approve"]
# One progress line of a non-terminal run: "✓ key (id 800001): create done".
PROGRESS = re.compile(r"^(?P<mark>[✓↷✗·]) (?P<key>\S+)(?: \(id (?P<id>\d+)\))?: (?P<rest>.*)$")


@pytest.fixture(scope="module")
def slow_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("interrupt") / "sandbox.db"
    with sandbox_process(db=db, latency_ms=LATENCY_MS) as url:
        yield url


def state_of(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "series" / ".state" / "local.json").read_text())
    return data


def live_ids(url: str, codes: list[str]) -> dict[str, list[int]]:
    """The ids of the sandbox's series with these discount codes, by code."""
    out: dict[str, list[int]] = {code: [] for code in codes}
    for item in listed(url):
        code = str(item["discount_code"])
        if code in out:
            out[code].append(int(str(item["id"])))
    return out


@dataclass
class Running:
    """An apply running in the background; its stderr lines arrive on ``lines`` as written."""

    proc: subprocess.Popen[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    stderr: list[str] = field(default_factory=list)
    stdout: str = ""

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
            encoding="utf-8",
        )
        running = cls(proc)
        assert proc.stderr is not None
        threading.Thread(target=running._pump, args=(proc.stderr,), daemon=True).start()
        return running

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for_done(self, count: int, *, timeout: float = 60) -> list[str]:
        """Read stderr until ``count`` series are reported done; the keys done so far."""
        done: list[str] = []
        deadline = time.monotonic() + timeout
        while len(done) < count:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                self.proc.kill()
                pytest.fail(f"no {count} series done in {timeout}s:\n" + "\n".join(self.stderr))
            if line is None:
                pytest.fail(
                    "the apply ended before the test could interrupt it:\n" + "\n".join(self.stderr)
                )
            self.stderr.append(line)
            match = PROGRESS.match(line)
            if match and match["rest"].endswith(" done"):
                done.append(match["key"])
        return done

    def finish(self, *, timeout: float = 60) -> int:
        assert self.proc.stdout is not None
        self.stdout = self.proc.stdout.read()
        code = self.proc.wait(timeout=timeout)
        while (line := self.lines.get(timeout=timeout)) is not None:
            self.stderr.append(line)
        return code

    def progress(self) -> list[re.Match[str]]:
        return [m for line in self.stderr if (m := PROGRESS.match(line))]


@pytest.mark.slow
def test_ctrl_c_lets_running_calls_finish_saves_the_state_and_exits_130(
    slow_sandbox: str, tmp_path: Path
) -> None:
    codes = project(tmp_path, slow_sandbox, prefix="INT", n=12)
    apply = Running.start([*APPLY, "--parallelism", "2"], cwd=tmp_path)
    done_before = apply.wait_for_done(2)
    apply.proc.send_signal(signal.SIGINT)
    code = apply.finish()
    output = apply.stdout + "\n".join(apply.stderr)
    assert code == 130, output

    # The calls running when the signal came finished and were recorded; no others started.
    reported = {m["key"]: m for m in apply.progress()}
    done = {k for k, m in reported.items() if m["rest"] == "create done"}
    assert set(done_before) <= done
    assert 2 <= len(done) < len(codes), output
    state = state_of(tmp_path)
    assert state["intents"] == {}, "a running create was cancelled or not recorded"
    for key in done:
        assert state["ids"][key] == int(reported[key]["id"]), key
    # Every series the sandbox made for these files is in the state: nothing made and lost.
    made = live_ids(slow_sandbox, codes)
    assert all(len(ids) <= 1 for ids in made.values()), made
    assert sorted(i for ids in made.values() for i in ids) == sorted(state["ids"].values())
    assert "Interrupted:" in apply.stdout
    assert "not started; run apply again to finish" in apply.stdout

    # A rerun finishes the job without a duplicate, and then nothing is left to change.
    rerun = run(APPLY, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    counts = all_codes(slow_sandbox)
    assert {c: counts[c] for c in codes} == dict.fromkeys(codes, 1)
    assert len(state_of(tmp_path)["ids"]) == len(codes)
    plan = run(["plan", "--env", "local", "--detailed-exitcode"], cwd=tmp_path)
    assert plan.returncode == 0, plan.stdout + plan.stderr


@pytest.mark.slow
def test_a_second_apply_on_the_same_environment_is_refused_while_one_runs(
    slow_sandbox: str, tmp_path: Path
) -> None:
    codes = project(tmp_path, slow_sandbox, prefix="LCK", n=16)
    first = Running.start([*APPLY, "--parallelism", "1"], cwd=tmp_path)
    first.wait_for_done(1)  # the first apply holds the lock and is calling the API
    second = run(APPLY, cwd=tmp_path)
    assert second.returncode == 1, second.stdout + second.stderr
    assert "another reconciler command is writing" in second.stderr
    assert first.proc.poll() is None, "the first apply ended too soon to prove anything"

    # The first apply is not disturbed, and (not a terminal) says one line per series.
    assert first.finish() == 0, first.stdout + "\n".join(first.stderr)
    counts = all_codes(slow_sandbox)
    assert {c: counts[c] for c in codes} == dict.fromkeys(codes, 1)
    progress = first.progress()
    assert sorted(m["key"] for m in progress) == sorted(c.lower() for c in codes)
    assert all(m["mark"] == "✓" and m["rest"] == "create done" for m in progress)
    assert not any("\r" in line for line in first.stderr), "a progress bar in a log"


def test_ctrl_c_at_the_question_cancels_the_apply(tmp_path: Path) -> None:
    """On a terminal, Ctrl-C while the apply asks for a yes cancels it; nothing is made."""
    codes = project(tmp_path, "http://127.0.0.1:9", prefix="ASK", n=1)
    env = {**child_env(), "RECONCILER_SANDBOX_DIR": str(tmp_path / "sandbox"), "NO_COLOR": "1"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: the apply, on a terminal (``os.execve`` never returns)
        os.chdir(tmp_path)
        os.execve(sys.executable, [*RECONCILER, "apply", "--sandbox"], env)
    seen = b""
    sent_at = None
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            if sent_at is None and b"Apply these changes?" in seen:
                time.sleep(0.2)
                os.write(fd, b"\x03")  # Ctrl-C, as the terminal sends it
                sent_at = time.monotonic()
            elif sent_at is not None and time.monotonic() - sent_at > 10:
                os.write(fd, b"y\n")  # the old bug: the question was still waiting
                sent_at = float("inf")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    text = seen.decode("utf-8", "replace")
    assert sent_at is not None, text
    assert os.waitstatus_to_exitcode(status) == 1, text
    assert "Apply cancelled: nothing was changed." in text
    state = tmp_path / "sandbox" / "state.json"
    assert codes[0] not in state.read_text() if state.exists() else True
    assert not json.loads(state.read_text())["ids"] if state.exists() else True
