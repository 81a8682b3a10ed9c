"""Credentials, read from the environment only, never shown.

The same variables serve the client and the sandbox, so that both started from one shell
agree: ``CAPILLARY_USERNAME`` / ``CAPILLARY_PASSWORD`` (Basic) and ``CAPILLARY_OAUTH_KEY`` /
``CAPILLARY_OAUTH_SECRET`` (OAuth). An environment may name another prefix
(``env_prefix: CAPILLARY_PROD`` reads ``CAPILLARY_PROD_USERNAME`` and so on).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_PREFIX = "CAPILLARY"

# What the sandbox accepts, and the client sends to it, when the variables are unset.
SANDBOX_USERNAME = "sandbox.till"
SANDBOX_PASSWORD = "sandbox-password"
SANDBOX_OAUTH_KEY = "sandbox-key"
SANDBOX_OAUTH_SECRET = "sandbox-secret"

REDACTED = "***"


@dataclass(frozen=True)
class Credentials:
    """Basic and/or OAuth credentials. ``repr`` and ``str`` never show a secret."""

    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    oauth_key: str | None = field(default=None, repr=False)
    oauth_secret: str | None = field(default=None, repr=False)

    @property
    def has_basic(self) -> bool:
        return bool(self.username and self.password)

    @property
    def has_oauth(self) -> bool:
        return bool(self.oauth_key and self.oauth_secret)

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for redaction of any text that leaves the tool."""
        values = (self.password, self.oauth_secret, self.oauth_key, self.username)
        return tuple(v for v in values if v)

    def __repr__(self) -> str:
        kinds = [k for k, ok in (("basic", self.has_basic), ("oauth", self.has_oauth)) if ok]
        return f"Credentials({', '.join(kinds) or 'none'}, secrets {REDACTED})"

    __str__ = __repr__

    @classmethod
    def from_env(
        cls, *, prefix: str = DEFAULT_PREFIX, environ: Mapping[str, str] | None = None
    ) -> Credentials:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return env.get(f"{prefix}_{name}") or None

        return cls(
            username=get("USERNAME"),
            password=get("PASSWORD"),
            oauth_key=get("OAUTH_KEY"),
            oauth_secret=get("OAUTH_SECRET"),
        )

    @classmethod
    def sandbox(cls, *, environ: Mapping[str, str] | None = None) -> Credentials:
        """The variables when set, else the sandbox's documented defaults."""
        env = cls.from_env(environ=environ)
        return cls(
            username=env.username or SANDBOX_USERNAME,
            password=env.password or SANDBOX_PASSWORD,
            oauth_key=env.oauth_key or SANDBOX_OAUTH_KEY,
            oauth_secret=env.oauth_secret or SANDBOX_OAUTH_SECRET,
        )


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every secret (and its Basic-auth encodings) replaced by ``***``."""
    import base64
    import hashlib

    out = text
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) < 3:
            continue
        derived = {secret, hashlib.md5(secret.encode()).hexdigest()}
        for value in derived:
            out = out.replace(value, REDACTED)
    # A Basic header carries base64(user:md5(password)); hide any such token wholesale.
    for token in _basic_tokens(out):
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8", "replace")
        except ValueError:
            continue
        if ":" in decoded:
            out = out.replace(token, REDACTED)
    return out


def _basic_tokens(text: str) -> list[str]:
    import re

    return re.findall(r"(?i)basic\s+([A-Za-z0-9+/=]{8,})", text)
