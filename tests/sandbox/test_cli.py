"""``reconciler sandbox serve|list|edit`` as subprocesses, read over HTTP with Basic auth."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .helpers import basic_header, minimal_series

ROOT = Path(__file__).resolve().parents[2]

# Runs ``reconciler`` as ``python -m reconciler`` would. While another command module named in
# reconciler/cli/__init__.py is not written yet, a stand-in lets the sandbox commands load.
_LAUNCH = """
import sys, types
from pathlib import Path
import reconciler
cli = Path(reconciler.__file__).parent / "cli"
for name in ("validate",):
    if not (cli / f"{name}.py").exists():
        sys.modules[f"reconciler.cli.{name}"] = types.ModuleType(name)
from reconciler.cli import main
main(sys.argv[1:], prog_name="reconciler")
"""


def _env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPILLARY_")}
    env["CAPILLARY_PASSWORD"] = "from-the-env"
    env["RECONCILER_SANDBOX_DIR"] = str(db.parent)
    env["PYTHONPATH"] = str(ROOT)
    return env


def _run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _LAUNCH, "sandbox", *args],
        env=_env(db),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _serving(db: Path, *options: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", _LAUNCH, "sandbox", "serve", "--port", str(port), *options],
        env=_env(db),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:  # a bare connection: an HTTP probe would use up a scripted failure
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.stderr.read() if process.stderr else "") from None
                time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    with _serving(tmp_path / "cli.db") as running:
        yield running


def test_serve_reads_seeded_series_with_basic_auth(
    served: tuple[str, subprocess.Popen[str]],
) -> None:
    url, process = served
    header = basic_header("sandbox.till", "from-the-env")  # default user, password from env
    response = httpx.get(url + "/v2/coupon/series?ids=520591&ids=698948", headers=header)
    assert response.status_code == 200
    assert [e["id"] for e in response.json()["entity"]] == [520591, 698948]
    assert httpx.get(url + "/v2/coupon/series?ids=520591").status_code == 401
    process.terminate()
    out, _ = process.communicate(timeout=10)
    assert url in out
    assert "CAPILLARY_PASSWORD: set" in out
    assert "CAPILLARY_USERNAME: not set" in out
    assert "from-the-env" not in out and "sandbox-password" not in out


def test_edit_and_list(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    # create the database with its seeds, as `serve` would
    from reconciler.sandbox import create_app

    create_app(db_path=db).state.sandbox.close()
    done = _run(
        db,
        "edit",
        "698948",
        "description=Changed behind the back",
        "maxCreate=50",
        'customPropertyMap={"a": "b"}',
    )
    assert done.returncode == 0, done.stderr
    assert 'description = "Changed behind the back"' in done.stdout
    listed = _run(db, "list")
    assert listed.returncode == 0, listed.stderr
    assert "698948\tfEDH0qD8rr" in listed.stdout and "Changed behind the back" in listed.stdout
    app = create_app(db_path=db)
    stored = app.state.sandbox.get_series(698948)
    app.state.sandbox.close()
    assert stored["maxCreate"] == 50 and stored["customPropertyMap"] == {"a": "b"}
    missing = _run(db, "edit", "1", "description=x")
    assert missing.returncode == 1 and "no series 1" in missing.stderr


def test_serve_refuses_a_non_loopback_host() -> None:
    from reconciler.sandbox import create_app, serve

    with pytest.raises(ValueError, match="loopback"):
        serve(create_app(db_path=":memory:"), host="0.0.0.0", port=1)


def test_parse_assignment() -> None:
    pytest.importorskip("reconciler.cli.validate", reason="reconciler.cli does not import yet")
    from reconciler.cli.sandbox import parse_assignment

    assert parse_assignment("a=5") == ("a", 5)
    assert parse_assignment("a=[1]") == ("a", [1])
    assert parse_assignment("a=hello world") == ("a", "hello world")
    assert parse_assignment("a=null") == ("a", None)
    assert json.dumps(parse_assignment("a=")[1]) == '""'


def test_serve_fault_options(tmp_path: Path) -> None:
    header = basic_header("sandbox.till", "from-the-env")
    body = {"CouponSeriesV2": minimal_series()}
    options = (
        "--fail-next",
        "GET:503",
        "--fail-next",
        "POST:503_after",
        "--post-act-delay",
        "0.5",
        "--failure-modes",
        "503_after,reset",
    )
    with _serving(tmp_path / "faults.db", *options) as (url, _):
        assert httpx.get(url + "/v2/coupon/series?ids=520591", headers=header).status_code == 503
        with pytest.raises(httpx.ReadTimeout):  # gives up before the delayed act
            httpx.post(url + "/v2/coupon/series", json=body, headers=header, timeout=0.2)

        def count() -> int:
            listed = httpx.get(url + "/v1.1/coupon/series?format=json", headers=header)
            return len(listed.json()["response"]["series"]["items"]["item"])

        assert count() == 2
        deadline = time.monotonic() + 10
        while count() == 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert count() == 3  # acted after the client left, and answered 503 to nobody
        started = time.monotonic()
        answer = httpx.post(url + "/v2/coupon/series", json=body, headers=header, timeout=10)
        assert answer.status_code == 200 and time.monotonic() - started >= 0.5


def test_serve_refuses_an_unknown_failure_mode(tmp_path: Path) -> None:
    done = _run(tmp_path / "x.db", "serve", "--failure-modes", "503,explode")
    assert done.returncode != 0
    assert "unknown failure mode 'explode'" in done.stderr
    assert "Traceback" not in done.stderr
    done = _run(tmp_path / "x.db", "serve", "--fail-next", "POST:later")
    assert done.returncode != 0 and "unknown failure mode 'later'" in done.stderr


def test_serve_variant_options(tmp_path: Path) -> None:
    header = basic_header("sandbox.till", "from-the-env")
    options = (
        "--list-default",
        "active",
        "--list-hide",
        "698948",
        "--list-fail-item",
        "520591",
        "--comma-ids",
        "accept",
        "--put-without-org-id",
        "--busy-status",
        "503",
        "--busy-code",
        "748",
        "--fail-next",
        "POST:busy",
    )
    with _serving(tmp_path / "variants.db", *options) as (url, _):
        # 520591 ended on 2026-05-09: expired; 698948 (2030) is active but hidden
        listed = httpx.get(url + "/v1.1/coupon/series?format=json", headers=header).json()
        assert listed["response"]["series"]["items"]["item"] == []  # active only, 698948 hidden
        gone = httpx.get(url + "/v1.1/coupon/series?format=json&expired=true", headers=header)
        item = gone.json()["response"]["series"]["items"]["item"]
        assert item["id"] == "520591" and item["item_status"]["success"] == "false"
        both = httpx.get(url + "/v2/coupon/series?ids=520591,698948", headers=header)
        assert len(both.json()["entity"]) == 2  # commas accepted
        busy = httpx.post(
            url + "/v2/coupon/series", json={"CouponSeriesV2": minimal_series()}, headers=header
        )
        assert busy.status_code == 503 and busy.json()["errors"][0]["code"] == 748
        made = httpx.post(
            url + "/v2/coupon/series", json={"CouponSeriesV2": minimal_series()}, headers=header
        ).json()
        body = {**minimal_series(), "seriesCode": made["seriesCode"]}  # no orgId: taken
        put = httpx.put(
            f"{url}/v2/coupon/series/{made['id']}", json={"CouponSeriesV2": body}, headers=header
        )
        assert put.status_code == 200
    done = _run(tmp_path / "x.db", "serve", "--busy-code", "788")
    assert done.returncode != 0 and "busy_code" in done.stderr and "Traceback" not in done.stderr
