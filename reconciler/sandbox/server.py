"""Serve the sandbox over real HTTP with uvicorn, on the loopback interface only."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from reconciler.model.hosts import is_loopback

LOOPBACK = "127.0.0.1"


def _config(app: ASGIApp, *, host: str, port: int, log_level: str) -> uvicorn.Config:
    if not is_loopback(host):
        raise ValueError(f"the sandbox serves on a loopback address only, not {host!r}")
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http="h11",
        lifespan="off",
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=2,
    )


def listen(*, port: int, host: str = LOOPBACK) -> socket.socket:
    """A socket listening on ``host:port`` (0: a free port); ``OSError`` when it cannot
    (``EADDRINUSE``: the port is taken). Bound before anything is printed, so a busy port
    is said before any "serving at"."""
    if not is_loopback(host):
        raise ValueError(f"the sandbox serves on a loopback address only, not {host!r}")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def serve(
    app: ASGIApp,
    *,
    host: str = LOOPBACK,
    port: int = 0,
    sock: socket.socket | None = None,
    log_level: str = "info",
) -> None:
    """Serve ``app`` until interrupted, on ``sock`` when given (see ``listen``), else on
    ``host:port``. Refuses a host that is not a loopback address."""
    server = uvicorn.Server(_config(app, host=host, port=port, log_level=log_level))
    server.run(sockets=[sock] if sock is not None else None)
    if server.should_exit:
        # Ended by SIGINT/SIGTERM (uvicorn's handler sets should_exit, and re-raises the
        # signal only when it came after its handlers were in place): an interrupted command
        # all the same, exit 130, whatever the moment the signal came.
        raise KeyboardInterrupt


@contextlib.contextmanager
def running_server(
    app: ASGIApp, *, startup_timeout: float = 10.0, log_level: str = "warning"
) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a background thread; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(_config(app, host=LOOPBACK, port=port, log_level=log_level))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox:{port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10.0)
        sock.close()


__all__ = ["LOOPBACK", "is_loopback", "listen", "running_server", "serve"]
