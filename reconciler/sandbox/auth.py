"""How the sandbox checks a caller: Basic ``user:md5(password)``, or an OAuth token it issued.

The server's side of authentication (the README's "Authentication"): tokens live in memory
and really expire; a wrong or missing credential is a 401 with the documented error body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from reconciler.sandbox.accounts import Accepted
from reconciler.sandbox.rules import ApiFailure


class Gate:
    """The accounts a sandbox accepts, and the OAuth tokens it handed out."""

    def __init__(self, credentials: Accepted, *, ttl_seconds: Callable[[], float]) -> None:
        self.credentials = credentials
        self._ttl_seconds = ttl_seconds
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}

    def forget_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def issue_token(self, *, key: Any, secret: Any) -> tuple[str, int]:
        creds = self.credentials
        if not (
            creds.has_oauth
            and isinstance(key, str)
            and isinstance(secret, str)
            and _same(key, creds.oauth_key or "")
            and _same(secret, creds.oauth_secret or "")
        ):
            raise ApiFailure.one(401, 401, "Invalid key or secret")
        token = secrets.token_urlsafe(32)
        ttl = self._ttl_seconds()
        with self._lock:
            self._tokens[token] = time.monotonic() + ttl
        return token, int(ttl)

    def authenticate(self, request: Request) -> None:
        """Accept a valid OAuth token or Basic user:md5(password); else a 401."""
        token = request.headers.get("x-cap-api-oauth-token")
        if token:
            with self._lock:
                expires = self._tokens.get(token)
                if expires is not None and time.monotonic() >= expires:
                    del self._tokens[token]
                    expires = None
            if expires is None:
                raise ApiFailure.one(401, 401, "Invalid or expired token")
            return
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() == "basic" and self._basic_ok(encoded.strip()):
            return
        raise ApiFailure.one(401, 401, "Authentication failed")

    def _basic_ok(self, encoded: str) -> bool:
        creds = self.credentials
        if not creds.has_basic:
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, sep, digest = decoded.partition(":")
        expected = hashlib.md5((creds.password or "").encode()).hexdigest()
        return bool(sep) and _same(user, creds.username or "") and _same(digest.lower(), expected)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


__all__ = ["Gate"]
