"""Credentials, read from the environment only, never shown; and where they may go.

The same variables serve the client and the sandbox, so that both started from one shell
agree: ``CAPILLARY_USERNAME`` / ``CAPILLARY_PASSWORD`` (Basic) and ``CAPILLARY_OAUTH_KEY`` /
``CAPILLARY_OAUTH_SECRET`` (OAuth). An environment may name another prefix
(``env_prefix: CAPILLARY_PROD`` reads ``CAPILLARY_PROD_USERNAME`` and so on).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import quote, quote_plus, urlsplit

from reconciler.errors import ConfigError
from reconciler.model.settings import (
    DEFAULT_PREFIX,
    SANDBOX_OAUTH_KEY,
    SANDBOX_OAUTH_SECRET,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
)

__all__ = [
    "BASE_URL_FLAG",
    "DEFAULT_PREFIX",
    "SANDBOX_OAUTH_KEY",
    "SANDBOX_OAUTH_SECRET",
    "SANDBOX_PASSWORD",
    "SANDBOX_USERNAME",
    "BaseUrlChoice",
    "Credentials",
    "choose_base_url",
    "redact",
    "same_address",
]

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
    """``text`` with every form of every secret replaced by ``***``.

    The forms: the value itself, its md5 (the API's Basic scheme sends ``md5(password)``, in
    either case of hex), the Basic token ``base64(user:md5(password))`` of any two of the
    secrets (with or without the ``Basic`` word, with or without its ``=`` padding, and with
    ``/`` escaped as JSON may escape it), plain ``base64(user:password)``, and each of these
    as a JSON string or a URL would spell it. Any other ``Basic <token>`` that decodes to
    ``name:value`` is hidden as well. Values shorter than 3 characters are not replaced on
    their own (they would blank out ordinary text), but their derived forms are.
    """
    exact, folded = _patterns(tuple(sorted(set(secrets))))
    out = text
    if folded is not None:
        out = folded.sub(REDACTED, out)
    if exact is not None:
        out = exact.sub(REDACTED, out)
    return _BASIC.sub(_hide_basic, out)


_BASIC: Final = re.compile(r"(?i)(basic\s+)([A-Za-z0-9+/_-]{8,}={0,2})")


def _hide_basic(match: re.Match[str]) -> str:
    token = match.group(2)
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), altchars=_altchars(token))
    except ValueError:
        return match.group()
    return match.group(1) + REDACTED if b":" in decoded else match.group()


def _altchars(token: str) -> bytes | None:
    return b"-_" if ("-" in token or "_" in token) else None


@functools.lru_cache(maxsize=32)
def _patterns(secrets: tuple[str, ...]) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """(case-sensitive forms, hex digests matched in any case), longest first."""
    exact: set[str] = set()
    digests: set[str] = set()
    for secret in secrets:
        digest = _md5(secret)
        digests.add(digest)
        if len(secret) >= 3:
            exact.update(_spellings(secret))
    for user in secrets:
        for password in secrets:
            if user == password:
                continue
            for pair in (f"{user}:{_md5(password)}", f"{user}:{password}"):
                exact.update(_token_spellings(pair))
    return _alternation(exact, flags=0), _alternation(digests, flags=re.IGNORECASE)


def _spellings(value: str) -> set[str]:
    """How a value can appear in text that quoted it: as is, JSON-escaped, URL-encoded."""
    return {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),
        quote_plus(value, safe=""),
    }


def _token_spellings(pair: str) -> set[str]:
    token = base64.b64encode(pair.encode("utf-8")).decode("ascii")
    url_safe = base64.urlsafe_b64encode(pair.encode("utf-8")).decode("ascii")
    forms = set()
    for one in (token, url_safe):
        for spelled in (one, one.rstrip("=")):
            forms.update({spelled, spelled.replace("/", "\\/"), quote(spelled, safe="")})
    return forms


def _md5(value: str) -> str:
    return hashlib.md5(value.encode("utf-8")).hexdigest()


def _alternation(values: set[str], *, flags: int) -> re.Pattern[str] | None:
    if not values:
        return None
    ordered = sorted(values, key=lambda v: (-len(v), v))
    return re.compile("|".join(re.escape(v) for v in ordered), flags)


# ---------------------------------------------------------------------------- where they go


BASE_URL_FLAG = "--base-url"


@dataclass(frozen=True)
class BaseUrlChoice:
    """The API address the credentials go to, and where it was taken from (no secret)."""

    url: str | None
    source: str  # "--base-url", "CAPILLARY_BASE_URL", the settings file's entry, or ""


def choose_base_url(
    *,
    flag: str | None,
    configured: str | None,
    configured_in: str,
    prefix: str = DEFAULT_PREFIX,
    environ: Mapping[str, str] | None = None,
) -> BaseUrlChoice:
    """The one rule for where the credentials go: the flag, else the environment variable
    (``{prefix}_BASE_URL``), else the settings file.

    An explicit variable and a settings file that name different addresses are refused
    (``ConfigError`` naming both sources, never a value): a reader of the file would expect
    one place and the shell another, and a credential must not go where one of them did
    not mean. The flag decides for one command, over both.
    """
    env = os.environ if environ is None else environ
    variable = f"{prefix}_BASE_URL"
    if flag is not None and flag.strip():
        return BaseUrlChoice(flag.strip(), BASE_URL_FLAG)
    from_variable = (env.get(variable) or "").strip() or None
    from_file = (configured or "").strip() or None
    if from_variable and from_file and not same_address(from_variable, from_file):
        raise ConfigError(
            f"{variable} and {configured_in} name different API addresses, so it is not "
            "clear where the credentials should go: nothing was sent. Unset the variable, "
            f"make the two equal, or choose for this command with {BASE_URL_FLAG}"
        )
    if from_variable:
        return BaseUrlChoice(from_variable, variable)
    if from_file:
        return BaseUrlChoice(from_file, configured_in)
    return BaseUrlChoice(None, "")


def same_address(one: str, other: str) -> bool:
    """Whether two base URLs name the same API: scheme and host in any case, a trailing
    slash or not."""

    def parts(url: str) -> tuple[str, str, str]:
        split = urlsplit(url.strip())
        return split.scheme.lower(), split.netloc.lower(), split.path.rstrip("/")

    try:
        return parts(one) == parts(other)
    except ValueError:
        return one.strip() == other.strip()
