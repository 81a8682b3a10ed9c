"""A sandbox served over loopback HTTP from the test process, for suites that run the CLI as a
child process and then look at what the server holds.

The server runs in a thread of the test (uvicorn on a free loopback port), so a test keeps its
control object (switches changed at run time, delayed creates waited for, series counted)
while the CLI runs as a separate process that can be killed. A ``Door`` in front of the app
adds what the sandbox's own switches do not have:

- it counts the calls that reach the server, by method (a write is a POST or a PUT);
- it can hold every PUT at the door (``hold_puts``) and then drop them without acting: a
  client killed meanwhile died between a create's answer and the PUT of its marker;
- it injects the failures the sandbox has no mode for, before the sandbox draws its own:
  ``429`` with ``Retry-After`` (nothing done, as a rate limiter in front of the API) and
  ``500_after`` (acted, then a 500, as a backend that failed after storing), and counts
  every failure injected, its own and the sandbox's;
- it can make a create's answer lie (``post_answer_id``): the sandbox acts on the POST, and
  the answer names that id instead of the one the sandbox gave (another series' id, 0, a
  negative or 64-bit-overflowing number, a string), as a broken proxy or server would;
- it can make a PUT not take a field while its answer says it did (``put_ignores``): the
  sandbox stores the field's old value, and the answer echoes the value sent;
- it counts calls by method and path too (``paths``: ``"GET /v1.1/coupon/series"``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import subprocess
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler.client.credentials import Credentials
from reconciler.engine.identity import marker_of
from reconciler.engine.state import load_state
from reconciler.errors import StateError
from reconciler.sandbox import Faults, Sandbox, create_app, running_server
from tests.scenarios.conftest import series_text
from tests.scenarios.processes import RECONCILER, child_env, run

DOOR_MODES = ("429", "500_after")


class Door:
    """ASGI middleware in front of the sandbox app: counts, holds, injects (see module doc)."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox, *, seed: int = 0) -> None:
        self.app = app
        self.sandbox = sandbox
        self.calls: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self.hold_puts = False
        self.held = 0
        self.post_answer_id: Any = None
        self.put_ignores: str | None = None
        self.paths: Counter[str] = Counter()
        self.failure_rate = 0.0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        drawn = sandbox.draw_failure

        def counted(method: str) -> str | None:
            mode = drawn(method)
            if mode is not None:
                with self._lock:
                    self.injected[mode] += 1
            return mode

        sandbox.draw_failure = counted  # type: ignore[method-assign]

    @property
    def writes(self) -> int:
        return self.calls["POST"] + self.calls["PUT"]

    def reset_counts(self) -> None:
        with self._lock:
            self.calls.clear()
            self.paths.clear()

    def _draw(self) -> str | None:
        with self._lock:
            if self.failure_rate > 0 and self._rng.random() < self.failure_rate:
                mode = self._rng.choice(DOOR_MODES)
                self.injected[mode] += 1
                return mode
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = str(scope.get("method", ""))
        with self._lock:
            self.calls[method] += 1
            self.paths[f"{method} {scope.get('path', '')}"] += 1
        if method == "PUT" and self.put_ignores is not None:
            await self._ignoring_put(scope, receive, send, self.put_ignores)
            return
        if method == "PUT" and self.hold_puts:
            with self._lock:
                self.held += 1
            while self.hold_puts:
                await asyncio.sleep(0.02)
            await _answer(send, 503, {}, 786)  # dropped without acting
            return
        if method == "POST" and self.post_answer_id is not None:
            await self._lying_post(scope, receive, send)
            return
        mode = self._draw()
        if mode == "429":
            await _answer(send, 429, {"retry-after": "1"}, 429)
        elif mode == "500_after":

            async def discard(message: Message) -> None:
                return None

            await self.app(scope, receive, discard)
            await _answer(send, 500, {}, 500)
        else:
            await self.app(scope, receive, send)

    async def _lying_post(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the sandbox act on the POST, then answer with ``post_answer_id`` as the id."""
        start, raw = await _captured(self.app, scope, receive)
        body = json.loads(raw or b"{}")
        if isinstance(body, dict) and "id" in body:
            body["id"] = self.post_answer_id
        await _send_json(send, start, body)

    async def _ignoring_put(self, scope: Scope, receive: Receive, send: Send, name: str) -> None:
        """The PUT acted on with ``name`` at its stored value; the answer says it was taken."""
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        sent = json.loads(raw or b"{}")
        body = sent.get("CouponSeriesV2", {}) if isinstance(sent, dict) else {}
        stored = self.sandbox.get_series(int(str(scope["path"]).rsplit("/", 1)[-1])) or {}
        wanted = body.get(name)
        if name in stored:
            body[name] = stored[name]
        forwarded = [json.dumps(sent).encode()]

        async def replay() -> Message:
            chunk = forwarded.pop() if forwarded else b""
            return {"type": "http.request", "body": chunk, "more_body": False}

        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(forwarded[0])).encode()))
        start, raw_answer = await _captured(self.app, {**scope, "headers": headers}, replay)
        answer = json.loads(raw_answer or b"{}")
        if isinstance(answer, dict) and "id" in answer and wanted is not None:
            answer[name] = wanted
        await _send_json(send, start, answer)


async def _captured(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[dict[str, Any], bytes]:
    """The app's answer to one request: its start message and its whole body."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return start, b"".join(chunks)


async def _send_json(send: Send, start: Mapping[str, Any], body: Any) -> None:
    """``body`` as JSON, with the captured answer's status and headers (its length anew)."""
    raw = json.dumps(body).encode()
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(raw)).encode()))
    await send(
        {"type": "http.response.start", "status": start.get("status", 200), "headers": headers}
    )
    await send({"type": "http.response.body", "body": raw})


async def _answer(send: Send, status: int, headers: Mapping[str, str], code: int) -> None:
    body = json.dumps(
        {"warnings": [], "errors": [{"status": False, "code": code, "message": "x"}]}
    ).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


@dataclass
class Served:
    url: str
    sandbox: Sandbox
    door: Door

    def per_code(self) -> Counter[str]:
        """How many series the sandbox holds of each discountCode."""
        return Counter(str(s.get("discountCode")) for s in self.sandbox.all_series())


@contextlib.contextmanager
def served(
    db: Path, *, faults: Faults | None = None, seed: bool = False, door_seed: int = 0
) -> Iterator[Served]:
    """The sandbox on a free loopback port, behind a ``Door``."""
    app = create_app(db_path=db, credentials=Credentials.sandbox(), faults=faults, seed=seed)
    sandbox: Sandbox = app.state.sandbox
    door = Door(app, sandbox, seed=door_seed)
    try:
        with running_server(door) as url:
            yield Served(url=url, sandbox=sandbox, door=door)
    finally:
        sandbox.settle(timeout=60)
        sandbox.close()


# ---------------------------------------------------------------------------- a checkout


SETTINGS = """\
defaults:
  smsTemplate: "Hi {{{{first_name}}}}, your code is {{{{voucher}}}}"
environments:
  local:
    base_url: {url}
    auth: basic
    rate_limit_per_minute: 60000
    parallelism: 4
    timeout_seconds: {timeout}
    create_settle_seconds: {settle}
"""


class Project:
    """One checkout: a folder with ``series/`` naming the environment ``local``."""

    def __init__(self, root: Path, url: str, *, settle: float = 2, timeout: float = 10) -> None:
        self.root = root
        self.series = root / "series"
        self.series.mkdir(parents=True, exist_ok=True)
        (self.series / "reconciler.yaml").write_text(
            SETTINGS.format(url=url, settle=settle, timeout=timeout), encoding="utf-8"
        )
        self.codes: dict[str, str] = {}

    def tally(self, served: Served) -> Tally:
        return tally(
            series=served.sandbox.all_series(), declared=self.codes, state_file=self.state_file
        )

    def add(self, key: str, code: str, description: str = "") -> None:
        path = self.series / f"{key}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(series_text(description or f"series {code}", code), encoding="utf-8")
        self.codes[key] = code

    @property
    def state_file(self) -> Path:
        return self.series / ".state" / "local.json"

    @property
    def journal(self) -> Path:
        return self.series / ".state" / "local.journal"

    def lose_state(self) -> None:
        self.state_file.unlink(missing_ok=True)
        self.journal.unlink(missing_ok=True)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run([*args, "--env", "local"], cwd=self.root)

    def apply(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.cli("apply", "--auto-approve", *extra)

    def start_apply(self, *extra: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [*RECONCILER, "apply", "--env", "local", "--auto-approve", *extra],
            cwd=self.root,
            env=child_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def plan_json(self) -> dict[str, Any]:
        done = self.cli("plan", "--format", "json")
        assert done.returncode == 0, done.stdout + done.stderr
        data: dict[str, Any] = json.loads(done.stdout)
        return data


# ---------------------------------------------------------------------------- accounting


@dataclass
class Tally:
    """What a trial left in the CRM and on disk, counted the way the suites report it."""

    duplicates: int = 0  # series beyond the first of one discountCode
    missing: int = 0  # declared series the CRM does not have
    unreported: int = 0  # series of the project no state id and no marker accounts for
    corrupt_states: int = 0  # a state that does not load, or an id pointing elsewhere
    problems: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.duplicates += other.duplicates
        self.missing += other.missing
        self.unreported += other.unreported
        self.corrupt_states += other.corrupt_states
        self.problems.extend(other.problems)

    @property
    def clean(self) -> bool:
        return not (self.duplicates or self.missing or self.unreported or self.corrupt_states)


def tally(
    *, series: Iterable[Mapping[str, Any]], declared: Mapping[str, str], state_file: Path
) -> Tally:
    """Count duplicates, missing, unreported series and a corrupt state for one project.

    ``declared`` maps each key of the project to its discountCode; ``state_file`` is the
    project's state (its journal beside it is replayed, as the tool does).
    """
    out = Tally()
    codes = set(declared.values())
    mine = [s for s in series if str(s.get("discountCode")) in codes]
    count = Counter(str(s.get("discountCode")) for s in mine)
    for code in sorted(codes):
        if count[code] > 1:
            out.duplicates += count[code] - 1
            out.problems.append(f"{code} exists {count[code]} times")
        elif count[code] == 0:
            out.missing += 1
            out.problems.append(f"{code} was never created")
    ids: Mapping[str, int] = {}
    try:
        ids = load_state(state_file, environment="local").ids
    except StateError as error:
        out.corrupt_states += 1
        out.problems.append(f"state: {error}")
    by_id = {int(s["id"]): s for s in mine}
    for key, sid in ids.items():
        live = by_id.get(sid)
        if key in declared and (live is None or live.get("discountCode") != declared[key]):
            out.corrupt_states += 1
            out.problems.append(f"state: {key} -> {sid}, not its series")
    recorded = set(ids.values())
    markers = {marker_of(k, {}) for k in declared}
    for s in mine:
        if int(s["id"]) not in recorded and s.get("seriesCode") not in markers:
            out.unreported += 1
            out.problems.append(f"series {s['id']} ({s.get('discountCode')}) is nobody's")
    return out
