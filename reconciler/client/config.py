"""Checks of what a client is built from: the base URL and the choice of authentication."""

from __future__ import annotations

import httpx

from reconciler.client.credentials import Credentials
from reconciler.errors import ConfigError
from reconciler.model.hosts import base_url_problem, is_loopback
from reconciler.model.settings import AuthMethod

AuthKind = AuthMethod  # the settings' one spelling of the choice


def check_base_url(base_url: str | None, *, env_prefix: str) -> str:
    """The base URL without its trailing slash; ``ConfigError`` when it cannot be used.

    The rule is ``hosts.base_url_problem`` (shared with the settings file's check): a URL
    that may carry a secret is refused without being repeated.
    """
    hint = f"set {env_prefix}_BASE_URL or the environment's `base_url` in the settings"
    if base_url is None or not base_url.strip():
        raise ConfigError(f"no base URL for the API: {hint}")
    text = base_url.strip()
    problem = base_url_problem(text)
    if problem:
        credentials = (
            f"credentials come from {env_prefix}_USERNAME / {env_prefix}_PASSWORD or "
            f"{env_prefix}_OAUTH_KEY / {env_prefix}_OAUTH_SECRET"
        )
        raise ConfigError(f"{problem} ({hint}; {credentials})")
    return text.rstrip("/")


def choose_auth(auth: AuthKind | None, credentials: Credentials, *, env_prefix: str) -> AuthKind:
    """The authentication to use: the one asked for, else OAuth when its credentials are set,
    else Basic; ``ConfigError`` when the chosen one's credentials are missing."""
    oauth_vars = f"{env_prefix}_OAUTH_KEY and {env_prefix}_OAUTH_SECRET"
    basic_vars = f"{env_prefix}_USERNAME and {env_prefix}_PASSWORD"
    if auth is None:
        if credentials.has_oauth:
            return "oauth"
        if credentials.has_basic:
            return "basic"
        raise ConfigError(f"no credentials for the API: set {oauth_vars}, or {basic_vars}")
    if auth == "oauth" and not credentials.has_oauth:
        raise ConfigError(f"OAuth is chosen but its credentials are not set: set {oauth_vars}")
    if auth == "basic" and not credentials.has_basic:
        raise ConfigError(f"Basic auth is chosen but its credentials are not set: set {basic_vars}")
    if auth not in ("basic", "oauth"):
        raise ConfigError(f"auth must be 'basic' or 'oauth', not {auth!r}")
    return auth


def bypasses_proxies(base_url: str) -> bool:
    """True for a loopback base URL: its traffic never goes through a proxy.

    httpx reads ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` from the environment and
    sends loopback requests through them too; a proxy on the path to a plain-http loopback
    server would see the Authorization header in clear text. Other hosts keep the
    environment's proxy settings (corporate networks need them; HTTPS hides the headers).
    """
    host = httpx.URL(base_url).host
    return is_loopback(host)
