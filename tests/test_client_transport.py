"""The client over real sockets: proxies from the environment, TLS verification.

Each test runs its own loopback listener; nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.client import CouponClient
from reconciler.client.credentials import Credentials
from reconciler.errors import AmbiguousCreate, AuthError, HttpStatusError, TransportError
from reconciler.sandbox import create_app, running_server

pytestmark = pytest.mark.anyio

TLS = Path(__file__).parent / "data" / "tls"
PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Listener:
    """A loopback TCP listener that records what each connection sends, then closes it."""

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self.received: list[bytes] = []
        self.connections = 0
        self._tls = tls
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    if self._tls is not None:
                        with self._tls.wrap_socket(conn, server_side=True) as wrapped:
                            self.received.append(wrapped.recv(65536))
                    else:
                        self.received.append(conn.recv(65536))
                except (OSError, ssl.SSLError):
                    pass  # the client gave up on the handshake: what the TLS test expects

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    running = Listener()
    yield running
    running.close()


def _use_proxy(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)


async def _no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


async def test_loopback_traffic_never_goes_through_a_proxy(
    monkeypatch: pytest.MonkeyPatch, listener: Listener, tmp_path: Path
) -> None:
    """A proxy on the way to a plain-http loopback server would read the Basic header."""
    _use_proxy(monkeypatch, listener.url)
    app = create_app(db_path=tmp_path / "s.db")
    with running_server(app) as url:
        async with CouponClient(
            base_url=url, credentials=Credentials.sandbox(environ={}), max_attempts=1
        ) as client:
            result = await client.get_series([520591])
            created = await client.create_series(
                {
                    "description": "Proxy check",
                    "discountCode": "PROXY1",
                    "validTillDate": "2031-01-31T00:00:00Z",
                    "anyUser": True,
                    "smsTemplate": "Hi",
                    "discountValue": 1,
                    "clientHandlingType": "DISC_CODE",
                    "expiryStrategyType": "SERIES_EXPIRY",
                    "discountType": "ABS",
                }
            )
    app.state.sandbox.close()
    assert 520591 in result.found and created["id"] > 0
    assert listener.connections == 0 and listener.received == []


async def test_other_hosts_keep_the_environments_proxy(
    monkeypatch: pytest.MonkeyPatch, listener: Listener
) -> None:
    """Corporate networks need their proxy: only loopback bypasses it (HTTPS: a CONNECT)."""
    _use_proxy(monkeypatch, listener.url)
    async with CouponClient(
        base_url="https://eu.api.capillarytech.com",
        credentials=Credentials(username="u", password="p"),
        max_attempts=1,
        timeout_seconds=5,
    ) as client:
        with pytest.raises(TransportError):
            await client.get_series([1])
    assert listener.connections == 1
    assert listener.received[0].startswith(b"CONNECT eu.api.capillarytech.com:443")
    assert b"Authorization" not in listener.received[0]


@pytest.fixture
def tls_listener() -> Iterator[Listener]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS / "loopback.crt", TLS / "loopback.key")
    running = Listener(tls=context)
    yield running
    running.close()


async def test_a_certificate_that_does_not_verify_is_not_retried(tls_listener: Listener) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    for call in ("get", "create"):
        async with CouponClient(
            base_url=f"https://127.0.0.1:{tls_listener.port}",
            credentials=Credentials(username="u", password="p"),
            sleep=sleep,
            timeout_seconds=5,
        ) as client:
            with pytest.raises(TransportError) as caught:
                if call == "get":
                    await client.get_series([1])
                else:
                    await client.create_series({"description": "x"})
        assert not isinstance(caught.value, AmbiguousCreate)  # never sent: not ambiguous
        assert "TLS certificate did not verify" in str(caught.value)
        assert "not retried" in str(caught.value)
    assert tls_listener.connections == 2  # one per call: no retry
    assert sleeps == []


async def test_certificate_failure_classified_through_the_cause_chain() -> None:
    """As httpx raises it: ConnectError from httpcore's ConnectError from the ssl error."""
    attempts: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request.method)
        try:
            try:
                raise ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed")
            except ssl.SSLError as inner:
                raise OSError("httpcore.ConnectError") from inner
        except OSError as middle:
            raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED]") from middle

    async with CouponClient(
        base_url="https://eu.api.capillarytech.com",
        credentials=Credentials(username="u", password="p"),
        transport=httpx.MockTransport(handler),
        sleep=_no_sleep,
    ) as client:
        with pytest.raises(TransportError, match="did not verify"):
            await client.get_series([1])
    assert attempts == ["GET"]


# ---------------------------------------------------------------------------- words (22.12)


async def test_a_host_name_that_does_not_resolve_fails_at_once() -> None:
    """DNS does not heal in the seconds a retry waits: one attempt, the name, the setting."""
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with CouponClient(
        base_url="https://api.does-not-exist.invalid",  # .invalid never resolves (RFC 6761)
        credentials=Credentials(username="u", password="p"),
        sleep=sleep,
        timeout_seconds=5,
        env_prefix="CAPILLARY_PROD",
    ) as client:
        with pytest.raises(TransportError) as caught:
            await client.get_series([1])
    message = str(caught.value)
    assert sleeps == []  # no retry
    assert "'api.does-not-exist.invalid' does not resolve" in message
    assert "CAPILLARY_PROD_BASE_URL" in message and "not retried" in message
    assert "after" not in message.split(":", maxsplit=1)[0]  # one attempt


async def test_https_to_a_plain_http_port_fails_at_once(listener: Listener) -> None:
    """A TLS handshake that fails (no TLS at that port) is a set-up error: not retried."""
    plain = Listener()  # answers nothing TLS can read
    try:
        async with CouponClient(
            base_url=f"https://127.0.0.1:{plain.port}",
            credentials=Credentials(username="u", password="p"),
            sleep=_no_sleep,
            timeout_seconds=5,
        ) as client:
            with pytest.raises(TransportError) as caught:
                await client.get_series([1])
    finally:
        plain.close()
    message = str(caught.value)
    assert plain.connections == 1
    assert "not retried" in message
    assert "TLS" in message or "handshake" in message or "did not verify" in message


@pytest.mark.parametrize("auth", ["basic", "oauth"])
async def test_a_401_names_the_host_and_the_variables_never_their_values(
    tmp_path: Path, auth: str
) -> None:
    app = create_app(db_path=tmp_path / "s.db")
    wrong = Credentials(
        username="till-Xq9", password="pw-Zr7", oauth_key="key-Kp3", oauth_secret="sec-Wm5"
    )
    with running_server(app) as url:
        async with CouponClient(
            base_url=url,
            credentials=wrong,
            auth=auth,  # type: ignore[arg-type]
            env_prefix="CAPILLARY_TESTING",
            sleep=_no_sleep,
        ) as client:
            with pytest.raises(AuthError) as caught:
                await client.get_series([520591])
    app.state.sandbox.close()
    message = str(caught.value)
    assert f"on {url} failed" in message and "401" in message
    if auth == "basic":
        assert "CAPILLARY_TESTING_USERNAME and CAPILLARY_TESTING_PASSWORD" in message
    else:
        assert "CAPILLARY_TESTING_OAUTH_KEY and CAPILLARY_TESTING_OAUTH_SECRET" in message
    for secret in ("till-Xq9", "pw-Zr7", "key-Kp3", "sec-Wm5"):
        assert secret not in message


async def test_a_base_url_with_a_wrong_path_says_so(tmp_path: Path) -> None:
    """Before: a bare "404 Not Found"."""
    app = create_app(db_path=tmp_path / "s.db")
    messages = {}
    with running_server(app) as url:
        for auth in ("basic", "oauth"):
            async with CouponClient(
                base_url=f"{url}/api/v2",
                credentials=Credentials.sandbox(environ={}),
                auth=auth,  # type: ignore[arg-type]
            ) as client:
                with pytest.raises((HttpStatusError, AuthError)) as caught:
                    await client.list_series()
            messages[auth] = str(caught.value)
    app.state.sandbox.close()
    # The list asks expired=false first (main: both values, merged by id).
    assert messages["basic"].startswith(
        f"GET /v1.1/coupon/series?expired=false on {url} failed: 404"
    )
    # With OAuth the token call meets the 404 first.
    assert messages["oauth"].startswith(
        f"could not generate an OAuth token: POST /v3/oauth/token/generate on {url} failed: 404"
    )
    for message in messages.values():
        assert "the base URL may be wrong" in message
        assert "it has a path after the host" in message
        assert "CAPILLARY_BASE_URL" in message
        assert "/api/v2" not in message  # the path is never quoted: it may hold a secret
