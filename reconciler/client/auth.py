"""The two ways the API accepts a caller: a Basic header and an OAuth token.

Basic: ``Authorization: Basic base64(username + ":" + md5_hex(password))``.
OAuth: ``POST /v3/oauth/token/generate`` with the key and secret gives a token sent as
``X-CAP-API-OAUTH-TOKEN``; it expires and there is no refresh token, so a new one is generated
shortly before it expires, and once after the API refuses it. ``TokenCache`` holds it and makes
concurrent callers share one generation.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

OAUTH_TOKEN_PATH = "/v3/oauth/token/generate"
OAUTH_HEADER = "X-CAP-API-OAUTH-TOKEN"
# Used when the token answer does not say how long the token lives (the documented example).
DEFAULT_TOKEN_TTL_SECONDS = 300.0


def basic_authorization(username: str, password: str) -> str:
    """The value of the ``Authorization`` header for Basic auth."""
    digest = hashlib.md5(password.encode("utf-8")).hexdigest()
    token = base64.b64encode(f"{username}:{digest}".encode()).decode("ascii")
    return f"Basic {token}"


def refresh_margin(ttl_seconds: float) -> float:
    """How long before its expiry a token is replaced: a tenth of its life, 1 to 60 seconds."""
    return min(60.0, max(1.0, ttl_seconds / 10))


@dataclass(frozen=True)
class Token:
    value: str = ""
    # By the client's monotonic clock: when to stop using it (expiry less a margin).
    renew_at: float = 0.0

    def __repr__(self) -> str:
        return f"Token(renew_at={self.renew_at})"


class TokenCache:
    """One OAuth token shared by every concurrent call; one generation at a time."""

    def __init__(
        self,
        *,
        generate: Callable[[], Awaitable[tuple[str, float]]],
        clock: Callable[[], float],
    ) -> None:
        self._generate = generate
        self._clock = clock
        self._token: Token | None = None
        self._lock = asyncio.Lock()
        self.generated = 0

    def __repr__(self) -> str:
        return f"TokenCache(generated={self.generated})"

    async def get(self) -> str:
        """A token that is not about to expire, generating one when needed."""
        token = self._token
        if token is not None and self._clock() < token.renew_at:
            return token.value
        async with self._lock:
            token = self._token
            if token is not None and self._clock() < token.renew_at:
                return token.value  # another caller generated it while this one waited
            started = self._clock()
            value, ttl = await self._generate()
            self._token = Token(value=value, renew_at=started + ttl - refresh_margin(ttl))
            self.generated += 1
            return value

    def invalidate(self, value: str) -> None:
        """The API refused ``value``: the next ``get`` generates a new token.

        A token already replaced by another caller is left alone, so that several calls
        refused at once cause one generation, not one each.
        """
        if self._token is not None and self._token.value == value:
            self._token = None
