"""What the sandbox accepts as credentials: its own view, not the client's.

A server checks what it is sent against accounts it holds; it does not share code with the
caller. Any object with these four attributes will do (the client's ``Credentials`` among
them), so a test can start the sandbox with the very credentials it gives the client.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from reconciler.model.settings import (
    DEFAULT_PREFIX,
    SANDBOX_OAUTH_KEY,
    SANDBOX_OAUTH_SECRET,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
)


class Accepted(Protocol):
    """The accounts a sandbox accepts: a Basic user and password, an OAuth key and secret."""

    @property
    def username(self) -> str | None: ...
    @property
    def password(self) -> str | None: ...
    @property
    def oauth_key(self) -> str | None: ...
    @property
    def oauth_secret(self) -> str | None: ...
    @property
    def has_basic(self) -> bool: ...
    @property
    def has_oauth(self) -> bool: ...


@dataclass(frozen=True)
class Accounts:
    """The sandbox's documented accounts (docs/sandbox.md), never shown in a repr."""

    username: str | None = field(default=SANDBOX_USERNAME, repr=False)
    password: str | None = field(default=SANDBOX_PASSWORD, repr=False)
    oauth_key: str | None = field(default=SANDBOX_OAUTH_KEY, repr=False)
    oauth_secret: str | None = field(default=SANDBOX_OAUTH_SECRET, repr=False)

    @property
    def has_basic(self) -> bool:
        return bool(self.username and self.password)

    @property
    def has_oauth(self) -> bool:
        return bool(self.oauth_key and self.oauth_secret)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Accounts:
        """The ``CAPILLARY_*`` variables where set, the documented accounts elsewhere: a
        sandbox started from the same shell as the tool accepts what the tool sends."""
        env = os.environ if environ is None else environ

        def get(name: str, default: str) -> str:
            return env.get(f"{DEFAULT_PREFIX}_{name}") or default

        return cls(
            username=get("USERNAME", SANDBOX_USERNAME),
            password=get("PASSWORD", SANDBOX_PASSWORD),
            oauth_key=get("OAUTH_KEY", SANDBOX_OAUTH_KEY),
            oauth_secret=get("OAUTH_SECRET", SANDBOX_OAUTH_SECRET),
        )
