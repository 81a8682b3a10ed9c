"""Where the credentials go: ``--base-url``, then ``CAPILLARY_BASE_URL``, then the settings file;
an explicit variable and a settings file that disagree are refused before anything is sent.

A loopback listener stands where the settings file points and counts every request carrying
an ``Authorization`` header: 0, whatever the command. The sandbox (over loopback HTTP, behind
a counting door) is where the variable or the flag points.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.scenarios.conftest import Guarded, series_text


class Listener:
    """An HTTP server on a free loopback port that counts requests, and those authorised."""

    def __init__(self) -> None:
        self.requests = 0
        self.authorised = 0
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _count(self) -> None:
                listener.requests += 1
                if self.headers.get("Authorization"):
                    listener.authorised += 1
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = _count

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    one = Listener()
    yield one
    one.close()


def point_settings_at(world: Guarded, url: str) -> None:
    settings = world.series / "reconciler.yaml"
    settings.write_text(settings.read_text().replace(world.url, url))


def test_a_variable_that_disagrees_with_the_file_is_refused_before_any_call(
    guarded: Guarded, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    guarded.write("a/one", series_text("One", "ONE"))
    point_settings_at(guarded, listener.url)
    monkeypatch.setenv("CAPILLARY_BASE_URL", guarded.url)
    for args in (
        ("plan", "--env", "local"),
        ("apply", "--env", "local", "--auto-approve"),
        ("import", "698948", "--env", "local"),
        ("list", "--env", "local"),
        ("state", "rebuild", "--env", "local"),
    ):
        result = guarded.cli(*args)
        assert result.exit_code == 1, (args, result.output)
        assert "CAPILLARY_BASE_URL and environment 'local''s base_url" in result.stderr, args
        assert listener.url not in result.stderr and guarded.url not in result.stderr
    assert listener.requests == 0 and listener.authorised == 0
    assert sum(guarded.door.calls.values()) == 0


def test_the_flag_decides_for_one_command(
    guarded: Guarded, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    guarded.write("a/one", series_text("One", "ONE"))
    point_settings_at(guarded, listener.url)
    monkeypatch.setenv("CAPILLARY_BASE_URL", listener.url + "/elsewhere")
    result = guarded.cli("apply", "--env", "local", "--auto-approve", "--base-url", guarded.url)
    assert result.exit_code == 0, result.output
    plan = guarded.cli("plan", "--env", "local", "--base-url", guarded.url, "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert listener.authorised == 0 and guarded.codes().count("ONE") == 1


def test_the_variable_alone_is_where_the_credentials_go(
    guarded: Guarded, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    guarded.write("a/one", series_text("One", "ONE"))
    settings = guarded.series / "reconciler.yaml"
    settings.write_text(settings.read_text().replace(f"    base_url: {guarded.url}\n", ""))
    monkeypatch.setenv("CAPILLARY_BASE_URL", guarded.url + "/")  # the same, spelled otherwise
    assert guarded.cli("plan", "--env", "local").exit_code == 0
    point_settings_at(guarded, guarded.url)  # both, naming one address: fine
    settings.write_text(
        settings.read_text().replace("    auth: basic\n", f"    base_url: {guarded.url}\n")
    )
    result = guarded.cli("plan", "--env", "local")
    assert result.exit_code == 0, result.output
    assert listener.authorised == 0
