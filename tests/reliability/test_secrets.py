"""Secrets: every command, on its success and failure paths, with marker credentials.

The credentials are markers no output has a reason to contain. After each command the
suite searches its stdout and stderr, and every file under the project (plan files, the
state and its intents, imported series files), for every form of them: the password, its
md5 (either case), the Basic token with and without its scheme (and url-safe, unpadded),
the OAuth key and secret. Servers: the sandbox over loopback HTTP that accepts the markers,
and a failing server that answers 401, 500 or 400 with every one of those forms echoed in
its body (for writes only, or for everything).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.client.credentials import Credentials
from reconciler.sandbox import Faults, create_app, running_server
from tests.reliability.harness import FULL, Child, base_env, figure, run_child
from tests.scenarios.conftest import series_text

USER = "marker-user-4b7e"
PASSWORD = "marker-pass-d41f"
OAUTH_KEY = "marker-oauth-key-93a0"
OAUTH_SECRET = "marker-oauth-secret-6c2b"
MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()
TOKEN = base64.b64encode(f"{USER}:{MD5}".encode()).decode()
URLSAFE = base64.urlsafe_b64encode(f"{USER}:{MD5}".encode()).decode()

FORMS = {
    "password": PASSWORD,
    "md5": MD5,
    "MD5": MD5.upper(),
    "basic token": TOKEN,
    "basic token unpadded": TOKEN.rstrip("="),
    "basic token url-safe": URLSAFE.rstrip("="),
    "oauth key": OAUTH_KEY,
    "oauth secret": OAUTH_SECRET,
}
# Every form bare (no "Basic" word in front, which once was the only cue for redaction),
# in the API's documented error shape so that the client quotes it.
ECHOED = (
    f"denied: token {TOKEN} unpadded {TOKEN.rstrip('=')} md5 {MD5} MD5 {MD5.upper()} "
    f"password {PASSWORD} key {OAUTH_KEY} secret {OAUTH_SECRET}"
)

SETTINGS = """\
defaults:
  smsTemplate: "Hi {{{{first_name}}}}, your code is {{{{voucher}}}}"
environments:
  local:
    base_url: {url}
    auth: {auth}
    rate_limit_per_minute: 60000
    timeout_seconds: 3
    create_settle_seconds: 1
"""


@dataclass
class Leak:
    command: str
    where: str
    form: str


def leaks_in(text: str, *, command: str, where: str) -> list[Leak]:
    return [Leak(command, where, name) for name, value in FORMS.items() if value in text]


class _Echo(http.server.BaseHTTPRequestHandler):
    """Answers with ``status`` and every form of the credentials in the body; GETs go to
    ``upstream`` (the sandbox) when ``writes_only``."""

    status = 500
    writes_only = False
    upstream = ""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.writes_only and self.command == "GET":
            got = httpx.get(
                self.upstream + self.path, headers={"Authorization": self.headers["Authorization"]}
            )
            self._send(got.status_code, got.content)
            return
        sent = " ".join(self.headers.get("Authorization", "").split()[-1:])  # no scheme
        message = f"{ECHOED} sent {sent} body {body.decode('utf-8', 'replace')}"
        answer = {"errors": [{"code": 9999, "message": message}], "message": message}
        if self.status == 200:  # a success that is not what the API documents
            answer = {"series": message, "message": message}
        self._send(self.status, json.dumps(answer).encode())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *_args: Any) -> None:
        pass


@contextmanager
def echo_server(status: int, *, upstream: str = "") -> Iterator[str]:
    handler = type(
        "Echo", (_Echo,), {"status": status, "writes_only": bool(upstream), "upstream": upstream}
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def sandbox(tmp: Path) -> Iterator[str]:
    app = create_app(
        db_path=tmp / "sandbox.db",
        credentials=Credentials(
            username=USER, password=PASSWORD, oauth_key=OAUTH_KEY, oauth_secret=OAUTH_SECRET
        ),
        faults=Faults(hang_seconds=1.0),
        seed=True,
    )
    with running_server(app) as url:
        yield url
    app.state.sandbox.close()


class Project:
    """A project folder, the commands run in it and every leak found."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.series = root / "series"
        self.series.mkdir(parents=True)
        self.leaks: list[Leak] = []
        self.runs = 0
        self.seconds: dict[str, float] = {}
        self.tracebacks: list[str] = []
        self.env = base_env(
            CAPILLARY_USERNAME=USER,
            CAPILLARY_PASSWORD=PASSWORD,
            CAPILLARY_OAUTH_KEY=OAUTH_KEY,
            CAPILLARY_OAUTH_SECRET=OAUTH_SECRET,
        )

    def point_at(self, url: str, *, auth: str = "basic") -> None:
        (self.series / "reconciler.yaml").write_text(SETTINGS.format(url=url, auth=auth))

    def write(self, key: str, code: str) -> None:
        (self.series / f"{key}.yaml").write_text(series_text(f"Secret test {key}", code))

    def run(self, *args: str, stdin: str = "") -> Child:
        child = run_child(list(args), cwd=self.root, env=self.env, stdin=stdin, timeout=90)
        self.runs += 1
        command = " ".join(args)
        self.seconds[command] = max(self.seconds.get(command, 0.0), child.seconds)
        if child.traceback or child.timed_out or child.crashed:
            self.tracebacks.append(f"{command}: exit {child.code}\n{child.stderr[-800:]}")
        self.leaks += leaks_in(child.stdout, command=command, where="stdout")
        self.leaks += leaks_in(child.stderr, command=command, where="stderr")
        self.scan_files(command)
        return child

    def scan_files(self, command: str) -> None:
        for path in self.root.rglob("*"):
            if path.is_file() and not path.is_symlink() and ".reconciler" not in path.parts:
                text = path.read_bytes().decode("utf-8", "replace")
                where = path.relative_to(self.root).as_posix()
                self.leaks += leaks_in(text, command=command, where=where)


def _plan_formats(project: Project) -> None:
    for fmt in ("text", "json", "markdown", "github"):
        project.run("plan", "--env", "local", "--format", fmt)


def test_no_form_of_a_credential_leaves_the_tool(tmp_path: Path) -> None:
    project = Project(tmp_path / "project")
    project.write("alpha", "SECRETA1")
    project.write("beta", "SECRETB1")
    codes: dict[str, int | None] = {}

    with sandbox(tmp_path) as url:
        # Success paths, against a sandbox that accepts the markers.
        project.point_at(url)
        codes["validate"] = project.run("validate").code
        project.run("schema")
        _plan_formats(project)
        codes["plan --out"] = project.run("plan", "--env", "local", "--out", "plan.json").code
        project.run("show", "plan.json")
        project.run("show", "plan.json", "--format", "markdown")
        codes["apply"] = project.run("apply", "plan.json", "--env", "local", "--auto-approve").code
        project.run("plan", "--env", "local", "--detailed-exitcode")
        project.run("state", "list", "--env", "local")
        project.run("import", "520591", "--key", "adopted/onam", "--env", "local")
        project.run("state", "mv", "adopted/onam", "adopted/onam2", "--env", "local")
        project.run("state", "rm", "adopted/onam2", "--env", "local")
        project.run("state", "clear-intent", "nothing", "--env", "local")
        project.run("apply", "--env", "local", "--auto-approve", "--format", "json")
        project.run("apply", "--env", "local", stdin="no\n")
        if FULL:
            project.point_at(url, auth="oauth")
            _plan_formats(project)
            project.point_at(url)

        # Failure paths: every call answered 401/500/400 with the credentials echoed.
        project.write("gamma", "SECRETC1")
        for status in (401, 500, 400, 200) if FULL else (401, 400, 200):
            with echo_server(status) as failing:
                for auth in ("basic", "oauth"):
                    project.point_at(failing, auth=auth)
                    codes[f"plan {status} {auth}"] = project.run("plan", "--env", "local").code
                    project.run("plan", "--env", "local", "--format", "markdown")
                    project.run("apply", "--env", "local", "--auto-approve")
                    project.run("import", "520591", "--env", "local")
                    project.run("apply", "plan.json", "--env", "local", "--auto-approve")
        # Reads succeed, writes fail with the echo: the error lands in the state's intent.
        for status in (500, 400):
            with echo_server(status, upstream=url) as half:
                project.point_at(half)
                project.write(f"delta{status}", f"SECRETD{status}")
                codes[f"apply writes {status}"] = project.run(
                    "apply", "--env", "local", "--auto-approve"
                ).code
                project.run("state", "list", "--env", "local")
                project.run("plan", "--env", "local", "--format", "json")

        # The sandbox refuses a wrong password: no form of the right one is shown either.
        project.point_at(url)
        project.env["CAPILLARY_PASSWORD"] = PASSWORD + "-wrong"
        codes["plan wrong password"] = project.run("plan", "--env", "local").code
        project.env["CAPILLARY_PASSWORD"] = PASSWORD
    # No server at all.
    project.run("plan", "--env", "local")
    project.run("apply", "--env", "local", "--auto-approve")

    files = sorted({leak.where for leak in project.leaks})
    figure("secrets", "commands run", project.runs)
    figure("secrets", "credential forms searched", len(FORMS))
    figure("secrets", "leaks (form found in output or a file)", len(project.leaks))
    figure("secrets", "tracebacks or hangs", len(project.tracebacks))
    slowest = max(project.seconds, key=lambda c: project.seconds[c])
    figure("secrets", "slowest command", f"{slowest} {project.seconds[slowest]:.1f} s")
    assert codes["validate"] == 0 and codes["plan --out"] == 0 and codes["apply"] == 0, codes
    assert codes["plan 401 basic"] == 1 and codes["plan 400 basic"] == 1, codes
    assert codes["apply writes 500"] == 1 and codes["plan wrong password"] == 1, codes
    state = json.loads((project.series / ".state" / "local.json").read_text())
    assert state, "the state was written"
    assert not project.tracebacks, "\n\n".join(project.tracebacks)
    assert not project.leaks, (
        "\n".join(f"{leak.command}: {leak.form} in {leak.where}" for leak in project.leaks)
        + f"\nfiles: {files}"
    )


@pytest.mark.parametrize("name", list(FORMS))
def test_the_search_finds_each_form(name: str) -> None:
    # The suite cannot pass by searching for the wrong thing.
    found = leaks_in(f"xx {FORMS[name]} yy", command="c", where="w")
    assert name in {leak.form for leak in found}
