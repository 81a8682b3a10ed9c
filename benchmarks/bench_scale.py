"""Performance at scale: the tool, whole processes, against the sandbox over loopback HTTP.

Run: ``.venv/bin/python benchmarks/bench_scale.py`` (N=2,000, a few minutes on 2 cores);
the full run of the performance issue: ``--n 10000 --n-large 20000`` (see
``docs/performance.md`` for the command and the figures).

The server runs in its own process (``benchmarks/server.py``: the sandbox, its v1.1 list
answered in the vendor's documented shape) with a latency added to every call; the tool runs
as the ``reconciler`` command, timed from its start to its exit (interpreter start, imports,
files, calls, rendering), like a CI step, with its user+system CPU and peak RSS. In the same
run, on the same machine, and against the same server:

- the **floor**: plain libyaml parsing of the same files plus the same list call and batched
  GETs with plain httpx (``benchmarks/floor.py``, its own process too);
- the **baseline**: the same, reading one series per call, 10 calls at once.

Figures (each ratio is the tool against something measured in this run):

1. plan of N series (1% drifted) vs the floor, at the defaults and at 100 × 32, without a rate
   limit; CPU and peak RSS against the floor's; the same at ``--n-large``;
2. plan N / plan N/10 (the growth of a plan with the repository);
3. what a default user sees under the documented 100 calls a minute: a plan (seconds, calls,
   429s), a pull request's plan (3 files changed: the whole plan, and ``--target`` of the 3
   keys), an apply of ``--rate-updates`` updates (seconds, calls, 429s);
4. calls per update in an apply without a limit, and the check-and-set window;
5. creates via apply: the time of each successive block of creates (O(1) a create: the last
   block takes about as long as the first); the wall time against the rate-limit floor;
6. cold start: ``reconciler --help`` and ``reconciler validate`` of 10 files against
   ``python -c pass``.

Every figure is the best of ``--repeat`` runs unless said otherwise. The last line is one
summary of ratios. Nothing here is asserted: a figure is a measurement.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from reconciler.client.credentials import SANDBOX_PASSWORD, SANDBOX_USERNAME  # noqa: E402

ENV = "bench"
FLOOR = Path(__file__).resolve().parent / "floor.py"

SERIES = """\
description: {description}
discountCode: {code}
validTillDate: 2030-09-30T00:00:00Z
anyUser: true
discountValue: {percent}
clientHandlingType: DISC_CODE
expiryStrategyType: SERIES_EXPIRY
discountType: PERC
smsTemplate: "Hi {{{{first_name}}}}, your code is {{{{voucher}}}}"
productInfo:
  - productType: SKU
    productIds: [10, 20, {value}]
targetUserDetails:
  validMaxUserTransactionLimit: 2
"""

# The tool's defaults (batch_size, parallelism, rate_limit_per_minute) apply when the
# settings leave them out.
SETTINGS = """\
environments:
  {env}:
    base_url: {url}
    auth: basic
    timeout_seconds: 120
    max_update_share: 1.0
{tuning}"""

# No limit on either side (the plan figures measure CPU and latency, not the rate limit).
UNLIMITED = 1_000_000

_CALL = re.compile(r"^\s+(GET|POST|PUT) (\S+) -> (\S+) attempt \d+ ([0-9.]+)s")
_PROGRESS = re.compile(r"^\S (\S+)(?: \(id \d+\))?: (create|update) (\w+)")


# --- processes --------------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    rss_mb: float
    code: int
    stdout: str
    stderr: list[tuple[float, str]] = field(default_factory=list)  # (seconds since start, line)
    server_cpu: float = 0.0  # CPU seconds the sandbox server spent meanwhile
    cpu: float = 0.0  # user + system CPU seconds of the command itself
    user: float = 0.0  # of which user CPU (the figure)

    def lines(self) -> list[str]:
        return [line for _, line in self.stderr]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAPILLARY", "RECONCILER"))}
    # An installed package has its bytecode; a checkout gets it at the first run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        CAPILLARY_USERNAME=SANDBOX_USERNAME,
        CAPILLARY_PASSWORD=SANDBOX_PASSWORD,
        PYTHONUNBUFFERED="1",
        NO_COLOR="1",
    )
    return env


def reconciler_command() -> list[str]:
    """The installed ``reconciler`` script next to this interpreter (what users run)."""
    script = Path(sys.executable).parent / "reconciler"
    return [str(script)] if script.exists() else [sys.executable, "-m", "reconciler"]


# The sandbox server running now (its CPU time is read around each timed run).
_SERVER: dict[str, int] = {}


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a running process (Linux /proc; 0 elsewhere)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(command: Sequence[str], *, cwd: Path, check: bool = True) -> Run:
    """Run ``command`` to its end: wall seconds, peak RSS (its own), stdout, timed stderr."""
    server_before = cpu_seconds(_SERVER.get("pid"))
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    out: list[str] = []
    err: list[tuple[float, str]] = []
    assert proc.stdout is not None and proc.stderr is not None
    peak = _PeakSampler(proc.pid)
    readers = [
        threading.Thread(target=peak.run),
        threading.Thread(target=lambda: out.append(proc.stdout.read())),  # type: ignore[union-attr]
        threading.Thread(
            target=lambda: err.extend(
                (time.perf_counter() - start, line.rstrip("\n"))
                for line in proc.stderr  # type: ignore[union-attr]
            )
        ),
    ]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    peak.done = True
    for reader in readers:
        reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    # Linux carries the parent's high-water mark into a child's ru_maxrss across the
    # (v)fork and exec: this script holds the worlds it built, so the child's own peak is
    # read from /proc while it runs (ru_maxrss where there is no /proc).
    rss = peak.kib / 1024 if peak.kib else usage.ru_maxrss / 1024
    result = Run(seconds, rss, proc.returncode, "".join(out), err)
    result.cpu = usage.ru_utime + usage.ru_stime
    result.user = usage.ru_utime
    result.server_cpu = cpu_seconds(_SERVER.get("pid")) - server_before
    if check and result.code != 0:
        tail = "\n".join(result.lines()[-15:])
        raise SystemExit(f"{' '.join(command)} exited {result.code}:\n{result.stdout}\n{tail}")
    return result


class _PeakSampler:
    """The peak resident memory of a running process (``VmHWM``: its own address space's
    high-water mark), read every 20 ms until it exits."""

    def __init__(self, pid: int) -> None:
        self.path = Path(f"/proc/{pid}/status")
        self.kib = 0
        self.done = False

    def run(self) -> None:
        while not self.done:
            try:
                text = self.path.read_text()
            except OSError:
                return
            for line in text.splitlines():
                if line.startswith("VmHWM:"):
                    self.kib = max(self.kib, int(line.split()[1]))
            time.sleep(0.02)


def best(repeat: int, work: Callable[[], Run]) -> Run:
    """The fastest of ``repeat`` runs; its CPU and RSS are the least of all runs (each is a
    minimum over the repeats, as the wall time is)."""
    runs = [work() for _ in range(repeat)]
    fastest = min(runs, key=lambda r: r.seconds)
    fastest.cpu = min(r.cpu for r in runs)
    fastest.user = min(r.user for r in runs)
    fastest.rss_mb = min(r.rss_mb for r in runs)
    return fastest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


SERVER = Path(__file__).resolve().parent / "server.py"


@contextmanager
def sandbox_server(db: Path, *, latency_ms: int, rate: int | None) -> Iterator[str]:
    """The sandbox over ``db`` in its own process, its v1.1 list in the vendor's shape
    (``benchmarks/server.py``); yields its base URL."""
    port = free_port()
    command = [sys.executable, str(SERVER), "--port", str(port), "--db", str(db)]
    command += ["--latency-ms", str(latency_ms)]
    if rate is not None:
        command += ["--rate-limit", str(rate)]
    proc = subprocess.Popen(
        command, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit("the sandbox server did not start") from None
            time.sleep(0.1)
    _SERVER["pid"] = proc.pid
    try:
        yield url
    finally:
        _SERVER.pop("pid", None)
        proc.terminate()
        proc.wait(timeout=15)


# --- worlds: series files, a sandbox holding them, a state ------------------------------------


@dataclass
class World:
    root: Path
    series: Path
    db: Path
    ids: list[int]
    keys: list[str]

    def settings(
        self, url: str, *, rate: int | None, batch: int | None, parallelism: int | None
    ) -> None:
        """``rate`` None: the tool's default rate limit (what a default user has)."""
        tuning = f"    rate_limit_per_minute: {rate}\n" if rate is not None else ""
        if batch is not None:
            tuning += f"    batch_size: {batch}\n"
        if parallelism is not None:
            tuning += f"    parallelism: {parallelism}\n"
        text = SETTINGS.format(env=ENV, url=url, rate=rate, tuning=tuning)
        (self.series / "reconciler.yaml").write_text(text, encoding="utf-8")

    def drift(self, indices: Sequence[int]) -> None:
        """Change the description of these series in their files (a plan shows updates)."""
        for i in indices:
            write_series(self.series, i, self.keys[i], edited=True)

    def commit_all(self) -> str:
        """The series folder as one git commit (a repository made on first use); its id."""
        git = ["git", "-C", str(self.series), "-c", "user.name=b", "-c", "user.email=b@b"]
        if not (self.series / ".git").exists():
            subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "add", "-A", "."], check=True)
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "base"], check=True)
        done = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True)
        return done.stdout.decode().strip()

    def reconciler(self, *args: str, verbose: bool = False) -> Run:
        flags = ["-v"] if verbose else []
        return run(
            [*reconciler_command(), *flags, *args, "--env", ENV, "--dir", str(self.series)],
            cwd=self.root,
        )

    def floor(self, url: str, *, batch: int, concurrency: int) -> Run:
        ids = self.root / "ids.json"
        if not ids.exists():
            ids.write_text(json.dumps(sorted(self.ids)), encoding="utf-8")
        command = [sys.executable, str(FLOOR), "--dir", str(self.series), "--url", url]
        command += ["--ids", str(ids), "--batch", str(batch), "--concurrency", str(concurrency)]
        return run(command, cwd=self.root)


def key_of(i: int) -> str:
    return f"group{i % 50:02d}/series-{i:06d}"


def write_series(series: Path, i: int, key: str, *, edited: bool = False, code: str = "B") -> None:
    path = series / f"{key}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    description = f"Series {i}: {i % 50}% off" + (" (edited)" if edited else "")
    path.write_text(
        SERIES.format(
            description=json.dumps(description),
            code=f"{code}{i:06d}",
            value=i + 1,
            percent=i % 90 + 1,
        ),
        encoding="utf-8",
    )


def make_world(root: Path, n: int, *, live: bool, code: str = "B") -> World:
    """N series files; with ``live``, the same series stored in a sandbox and in the state."""
    from reconciler.files.loader import load_series
    from reconciler.sandbox import create_app

    root.mkdir(parents=True)
    series = root / "series"
    keys = [key_of(i) for i in range(n)]
    for i, key in enumerate(keys):
        write_series(series, i, key, code=code)
    db = root / "sandbox.db"
    app = create_app(db_path=db, seed=False)
    ids: list[int] = []
    if live:
        loaded = load_series(series)
        if not loaded.ok:
            raise SystemExit(f"the generated series do not validate: {loaded.problems[:3]}")
        by_key = {s.key: s for s in loaded.series}
        ids = app.state.sandbox.preload([dict(by_key[k].fields) for k in keys])
        state = {
            "format_version": 2,
            "environment": ENV,
            "ids": dict(zip(keys, ids, strict=True)),
            "intents": {},
            "fields": {},
        }
        (series / ".state").mkdir()
        (series / ".state" / f"{ENV}.json").write_text(json.dumps(state), encoding="utf-8")
    app.state.sandbox.close()
    return World(root, series, db, ids, keys)


# --- the figures ------------------------------------------------------------------------------


def calls_of(r: Run) -> list[tuple[float, str, str, float, str]]:
    """(arrival, method, target, elapsed, status) of each API call a ``-v`` run logged
    (each attempt: a call refused with 429 and sent again counts twice)."""
    found = []
    for at, line in r.stderr:
        m = _CALL.match(line)
        if m:
            found.append((at, m.group(1), m.group(2), float(m.group(4)), m.group(3)))
    return found


def check_and_set_windows(r: Run) -> list[float]:
    """Per updated series: seconds from the answer of the last GET that read it to the start
    of its PUT (arrival times of the ``-v`` lines, so within a few ms)."""
    last_read: dict[str, float] = {}
    windows = []
    for at, method, target, elapsed, _status in calls_of(r):
        path, _, query = target.partition("?")
        if method == "GET" and path == "/v2/coupon/series":
            for sid in re.findall(r"ids=([0-9]+)", query):  # ids=1&ids=2 (the Get page)
                last_read[sid] = at
        elif method == "PUT":
            sid = path.rsplit("/", 1)[-1]
            if sid in last_read:
                windows.append(max(0.0, at - elapsed - last_read[sid]))
    return windows


def section(title: str) -> None:
    print(f"\n{title}", flush=True)


def plan_figures(base: Path, args: argparse.Namespace, summary: dict[str, str]) -> float:
    """Figures 1, 3 and 4 on a world of ``args.n`` series; the plan's seconds at defaults."""
    n = args.n
    world = make_world(base / "plan", n, live=True)
    drifted = list(range(0, n, max(1, round(1 / args.drift)))) if args.drift > 0 else []
    world.drift(drifted)
    with sandbox_server(world.db, latency_ms=args.latency_ms, rate=None) as url:
        default = plan_vs_floor(world, url, args, summary, label=f"{n // 1000}k", drifted=drifted)
        pr_figures(world, url, args, summary, drifted=drifted)
        update_figures(world, url, drifted, args, summary)
    if "rate" not in args.skip_set:
        rate_limited_figures(world, args, summary, drifted=drifted)
    return default


def plan_vs_floor(
    world: World,
    url: str,
    args: argparse.Namespace,
    summary: dict[str, str],
    *,
    label: str,
    drifted: list[int],
    both: bool = True,
) -> float:
    n = len(world.keys)
    section(
        f"1. plan of {n:,} series ({len(drifted)} drifted), {args.latency_ms} ms a call, no "
        f"rate limit, best of {args.repeat}"
    )
    results: dict[str, tuple[Run, Run]] = {}
    settings = [("defaults", None, None, 100, 4)]  # the floor at the tool's defaults
    if both:
        settings.append(("100x32", 100, 32, 100, 32))
    for name, batch, par, fb, fc in settings:
        world.settings(url, rate=UNLIMITED, batch=batch, parallelism=par)
        plan = best(args.repeat, lambda: world.reconciler("plan"))
        floor = best(args.repeat, lambda fb=fb, fc=fc: world.floor(url, batch=fb, concurrency=fc))
        results[name] = (plan, floor)
        if f"{len(drifted)} to update" not in plan.stdout:
            tail = plan.stdout.strip().splitlines()[-1:]
            raise SystemExit(f"unexpected plan: {tail}")
        print(
            f"   batch {fb} x {fc}: plan {plan.seconds:6.2f} s, floor {floor.seconds:6.2f} s "
            f"({floor.stdout.strip()}): {plan.seconds / floor.seconds:.2f}x the floor\n"
            f"      CPU {plan.cpu:.2f} s, user {plan.user:.2f} s (floor {floor.cpu:.2f} s, "
            f"user {floor.user:.2f} s: {plan.cpu / floor.cpu:.2f}x); peak RSS "
            f"{plan.rss_mb:.0f} MB (floor {floor.rss_mb:.0f} MB); the server's CPU "
            f"{plan.server_cpu:.1f} s (floor {floor.server_cpu:.1f} s)"
        )
    plan, floor = results["defaults"]
    summary[f"plan/floor {label}"] = f"{plan.seconds / floor.seconds:.2f}"
    summary[f"CPU s {label}"] = f"{plan.cpu:.2f} (floor {floor.cpu:.2f})"
    summary[f"user CPU s {label}"] = f"{plan.user:.2f} (floor {floor.user:.2f})"
    summary[f"RSS MB {label}"] = f"{plan.rss_mb:.0f} (floor {floor.rss_mb:.0f})"
    if both:
        big, big_floor = results["100x32"]
        summary[f"plan/floor 100x32 {label}"] = f"{big.seconds / big_floor.seconds:.2f}"
        baseline = world.floor(url, batch=1, concurrency=10)
        print(
            f"   baseline (one GET per series, 10 at once): {baseline.seconds:.2f} s "
            f"({baseline.stdout.strip()}); plan at defaults / baseline: "
            f"{plan.seconds / baseline.seconds:.2f}x"
        )
        summary[f"plan/baseline {label}"] = f"{plan.seconds / baseline.seconds:.2f}"
    return plan.seconds


def large_figures(base: Path, args: argparse.Namespace, summary: dict[str, str]) -> None:
    n = args.n_large
    world = make_world(base / "plan-large", n, live=True)
    drifted = list(range(0, n, max(1, round(1 / args.drift)))) if args.drift > 0 else []
    world.drift(drifted)
    with sandbox_server(world.db, latency_ms=args.latency_ms, rate=None) as url:
        plan_vs_floor(world, url, args, summary, label=f"{n // 1000}k", drifted=drifted, both=False)


def pr_figures(
    world: World, url: str, args: argparse.Namespace, summary: dict[str, str], *, drifted: list[int]
) -> None:
    """A pull request's plan: 3 files changed in the org, defaults, no rate limit."""
    world.settings(url, rate=UNLIMITED, batch=None, parallelism=None)
    base = world.commit_all()  # the pull request's base: the folder as main has it
    changed = [i for i in (1, len(world.keys) // 2 + 1, len(world.keys) - 1) if i not in drifted]
    world.drift(changed)
    whole = best(args.repeat, lambda: world.reconciler("plan", verbose=True))
    targets = [arg for i in changed for arg in ("--target", world.keys[i])]
    scoped = best(args.repeat, lambda: world.reconciler("plan", *targets, verbose=True))
    since = best(
        args.repeat, lambda: world.reconciler("plan", "--changed-since", base, verbose=True)
    )
    whole_calls, scoped_calls = len(calls_of(whole)), len(calls_of(scoped))
    since_calls = len(calls_of(since))
    section(f"3a. pull request: {len(changed)} files changed in {len(world.keys):,} (defaults)")
    print(
        f"   the whole plan: {whole.seconds:.2f} s, {whole_calls} calls "
        f"(at 100 calls a minute: {whole_calls * 0.6:.0f} s of calls alone)\n"
        f"   --changed-since the base (the PR plan): {since.seconds:.2f} s, {since_calls} "
        f"calls, user+sys CPU {since.cpu:.2f} s\n"
        f"   --target of the {len(changed)} keys (the floor of a scoped plan): "
        f"{scoped.seconds:.2f} s, {scoped_calls} calls"
    )
    summary["PR plan calls"] = f"{since_calls} (whole {whole_calls}, --target {scoped_calls})"
    summary["PR plan s"] = (
        f"{since.seconds:.2f} (whole {whole.seconds:.2f}, --target {scoped.seconds:.2f})"
    )
    for i in changed:  # back as they were, for the figures after
        write_series(world.series, i, world.keys[i])


def rate_limited_figures(
    world: World, args: argparse.Namespace, summary: dict[str, str], *, drifted: list[int]
) -> None:
    """What a default user sees: the documented 100 calls a minute on the server, the tool's
    defaults (its own limit left out of the settings)."""
    rate = args.rate
    with sandbox_server(world.db, latency_ms=args.latency_ms, rate=rate) as url:
        world.settings(url, rate=None, batch=None, parallelism=None)
        plan = world.reconciler("plan", verbose=True)
        calls = calls_of(plan)
        refused = sum(1 for c in calls if c[4] == "429")
        floor = len(calls) / (rate / 60)
        section(f"3b. plan of {len(world.keys):,} series at {rate} calls a minute (defaults)")
        print(
            f"   {plan.seconds:.1f} s; {len(calls)} calls, {refused} refused with 429; the "
            f"calls at the limit's pace: {floor:.0f} s ({plan.seconds / floor:.2f}x)"
        )
        summary[f"plan at {rate}/min"] = (
            f"{plan.seconds:.0f} s, {len(calls)} calls, {refused} x 429"
        )
    if args.rate_updates <= 0:
        return
    # A fresh minute: the server's window starts again with the apply.
    n = len(world.keys)
    more = [i for i in range(3, n, max(1, n // args.rate_updates)) if i not in drifted]
    updates = sorted(more[: args.rate_updates])
    world.drift(updates)
    with sandbox_server(world.db, latency_ms=args.latency_ms, rate=rate) as url:
        world.settings(url, rate=None, batch=None, parallelism=None)
        applied = world.reconciler("apply", "--auto-approve", verbose=True)
    calls = calls_of(applied)
    refused = sum(1 for c in calls if c[4] == "429")
    by_method = {m: sum(1 for c in calls if c[1] == m) for m in ("GET", "PUT", "POST")}
    section(f"3c. apply of {len(updates)} updates in {n:,} series at {rate} calls a minute")
    print(
        f"   {applied.seconds:.1f} s; {len(calls)} calls ({by_method}), {refused} refused "
        f"with 429; the calls at the limit's pace: {len(calls) / (rate / 60):.0f} s"
    )
    summary[f"apply {len(updates)} at {rate}/min"] = (
        f"{applied.seconds:.0f} s, {len(calls)} calls, {refused} x 429"
    )


def update_figures(
    world: World, url: str, drifted: list[int], args: argparse.Namespace, summary: dict[str, str]
) -> None:
    n = len(world.keys)
    more = [i for i in range(1, n, max(1, n // max(1, args.updates))) if i not in drifted]
    updates = sorted(set(drifted) | set(more[: max(0, args.updates - len(drifted))]))
    world.drift(updates)
    world.settings(url, rate=UNLIMITED, batch=None, parallelism=None)
    plan = world.reconciler("plan", verbose=True)
    plan_calls = len(calls_of(plan))
    applied = world.reconciler("apply", "--auto-approve", verbose=True)
    calls = calls_of(applied)
    by_method = {m: sum(1 for c in calls if c[1] == m) for m in ("GET", "POST", "PUT")}
    wave = len(calls) - 2 * plan_calls  # the plan before and the plan after cost the same
    windows = check_and_set_windows(applied)
    per_update = wave / len(updates)
    section(f"4. apply of {len(updates)} updates, no rate limit (defaults)")
    print(
        f"   {applied.seconds:.2f} s; {len(calls)} calls ({by_method}), a plan is {plan_calls}: "
        f"{wave} calls for the updates = {per_update:.2f} per update"
    )
    if windows:
        print(
            f"   check-and-set window (re-read answered -> PUT sent): median "
            f"{statistics.median(windows) * 1000:.0f} ms, max {max(windows) * 1000:.0f} ms "
            f"({len(windows)} series)"
        )
        summary["window max ms"] = f"{max(windows) * 1000:.0f}"
    summary["calls/update"] = f"{per_update:.2f}"


def growth_figures(
    base: Path, args: argparse.Namespace, big: float, summary: dict[str, str]
) -> None:
    small_n = max(1, args.n // 10)
    world = make_world(base / "plan-small", small_n, live=True)
    world.drift(list(range(0, small_n, max(1, round(1 / args.drift)))) if args.drift else [])
    with sandbox_server(world.db, latency_ms=args.latency_ms, rate=None) as url:
        world.settings(url, rate=UNLIMITED, batch=None, parallelism=None)
        small = best(args.repeat, lambda: world.reconciler("plan"))
    section(f"2. growth: plan of {args.n:,} / plan of {small_n:,} series (defaults)")
    print(f"   {big:.2f} s / {small.seconds:.2f} s = {big / small.seconds:.1f} (10x the series)")
    summary[f"plan{args.n}/plan{small_n}"] = f"{big / small.seconds:.1f}"


def create_apply(
    base: Path, args: argparse.Namespace, parallelism: int | None
) -> tuple[Run, list[tuple[float, str, str, float, str]], list[float]]:
    """A fresh org, ``args.creates`` new files, one apply: the run, its calls, block times."""
    n, block = args.creates, args.block
    world = make_world(base / f"creates-{parallelism or 'default'}", n, live=False, code="C")
    with sandbox_server(world.db, latency_ms=args.latency_ms, rate=args.apply_rate) as url:
        world.settings(url, rate=args.apply_rate, batch=None, parallelism=parallelism)
        applied = world.reconciler("apply", "--auto-approve", verbose=True)
    calls = calls_of(applied)
    posts = [c for c in calls if c[1] == "POST" and c[4].startswith("2")]
    done = [at for at, line in applied.stderr if (m := _PROGRESS.match(line)) and m.group(3)]
    if len(done) != n or len(posts) != n:
        raise SystemExit(f"{len(done)} creates reported, {len(posts)} POSTs, for {n} files")
    first_post = posts[0][0] - posts[0][3]
    marks = [first_post] + [done[k * block - 1] for k in range(1, n // block + 1)]
    return applied, calls, [b - a for a, b in itertools.pairwise(marks)]


def create_figures(base: Path, args: argparse.Namespace, summary: dict[str, str]) -> None:
    section(
        f"5. {args.creates:,} creates via apply ({args.latency_ms} ms a call, rate limit "
        f"{args.apply_rate:,}/min on both sides)"
    )
    for parallelism in (None, args.best_parallelism):
        if parallelism == 0:
            continue
        applied, calls, blocks = create_apply(base, args, parallelism)
        # The floor: the calls this apply made, at the rate limit's pace.
        floor = len(calls) / (args.apply_rate / 60)
        label = "defaults (parallelism 4)" if parallelism is None else f"parallelism {parallelism}"
        print(
            f"   {label}: {applied.seconds:.1f} s; {len(calls):,} calls "
            f"({sum(1 for c in calls if c[4] == '429')} refused with 429); each block of "
            f"{args.block:,} creates: "
            + ", ".join(f"{b:.1f}" for b in blocks)
            + f" s; last / first {blocks[-1] / blocks[0]:.2f}"
        )
        print(
            f"      rate-limit floor {floor:.1f} s ({len(calls):,} calls at "
            f"{args.apply_rate / 60:g}/s): apply / floor {applied.seconds / floor:.2f}; "
            f"peak RSS {applied.rss_mb:.0f} MB"
            + (
                " (fewer calls than a minute allows: the limit never binds, latency does)"
                if len(calls) <= args.apply_rate
                else ""
            )
        )
        if parallelism is None:
            summary["create blocks last/first"] = f"{blocks[-1] / blocks[0]:.2f}"
            summary["apply/rate floor"] = f"{applied.seconds / floor:.2f}"
        else:
            summary[f"apply/rate floor at parallelism {parallelism}"] = (
                f"{applied.seconds / floor:.2f}"
            )


def start_figures(base: Path, args: argparse.Namespace, summary: dict[str, str]) -> None:
    """Cold start: the whole process, bytecode compiled as an installed package has it."""
    here = Path.cwd()
    repeat = max(5, args.repeat)
    folder = base / "validate" / "series"
    for i in range(10):
        write_series(folder, i, key_of(i))
    validate = [*reconciler_command(), "validate", "--dir", str(folder)]
    run(validate, cwd=here)  # writes the bytecode of a fresh checkout once, like an install
    help_run = best(repeat, lambda: run([*reconciler_command(), "--help"], cwd=here))
    checked = best(repeat, lambda: run(validate, cwd=here))
    bare = best(repeat, lambda: run([sys.executable, "-c", "pass"], cwd=here))
    section(f"6. cold start, best of {repeat}")
    print(
        f"   reconciler --help {help_run.seconds * 1000:.0f} ms "
        f"({help_run.seconds / bare.seconds:.1f}x); validate of 10 files "
        f"{checked.seconds * 1000:.0f} ms ({checked.seconds / bare.seconds:.1f}x); "
        f"python -c pass {bare.seconds * 1000:.0f} ms"
    )
    summary["--help s"] = f"{help_run.seconds:.3f}"
    summary["validate 10 files s"] = f"{checked.seconds:.3f}"
    summary["python -c pass s"] = f"{bare.seconds:.3f}"


def machine() -> str:
    cpus = os.cpu_count()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{cpus} CPUs {model}".strip()
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--n", type=int, default=2000, help="series in the plan figures (2000)")
    add("--n-large", type=int, default=0, help="the plan figure again at this N (0: skip)")
    add("--rate", type=int, default=100, help="calls/min of the rate-limited figures (100)")
    add(
        "--rate-updates",
        type=int,
        default=100,
        help="updates in the rate-limited apply figure (100; 0: skip)",
    )
    add("--latency-ms", type=int, default=50, help="added by the sandbox to every call (50)")
    add("--drift", type=float, default=0.01, help="share of drifted series in a plan (0.01)")
    add("--repeat", type=int, default=2, help="runs per plan figure; the best is kept (2)")
    add("--updates", type=int, default=200, help="updates in the apply figure (200)")
    add("--creates", type=int, default=1000, help="creates in the apply figure (1000)")
    add("--block", type=int, default=200, help="creates per timed block (200)")
    add("--apply-rate", type=int, default=6000, help="calls/min in the create figure (6000)")
    add(
        "--best-parallelism",
        type=int,
        default=8,
        help="the create figure again at this parallelism (8; 0: skip)",
    )
    add(
        "--skip",
        default="",
        help="comma-separated figures to skip: plan,rate,growth,creates,start",
    )
    add("--keep", action="store_true", help="keep the working folder (printed)")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    args.skip_set = skip
    args.block = min(args.block, args.creates)
    started = time.perf_counter()
    print(f"reconciler scale benchmark: {machine()}")
    print(f"arguments: {' '.join(sys.argv[1:]) or '(defaults)'}")
    summary: dict[str, str] = {}
    base = Path(tempfile.mkdtemp(prefix="reconciler-scale-"))
    try:
        if "start" not in skip:
            start_figures(base, args, summary)
        if "plan" not in skip:
            big = plan_figures(base, args, summary)
            if args.n_large:
                large_figures(base, args, summary)
            if "growth" not in skip:
                growth_figures(base, args, big, summary)
        if "creates" not in skip:
            create_figures(base, args, summary)
    finally:
        if args.keep:
            print(f"(kept {base})")
        else:
            shutil.rmtree(base, ignore_errors=True)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    print("summary: " + "; ".join(f"{k} {v}" for k, v in summary.items()))


if __name__ == "__main__":
    main()
