"""Which hosts count as this machine, and what a base URL may be: one rule for the settings
file (``validate``) and the client (the ``*_BASE_URL`` variables)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_EXAMPLE = "https://eu.api.capillarytech.com"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and any loopback address (127.0.0.0/8, ``::1``, ``[::1]``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def base_url_problem(url: str) -> str:
    """Why ``url`` cannot be the API's base URL ("" when it can).

    The value is never quoted back, whole or in part, beyond a host name: a URL with a user
    or password before the host, a query, a fragment, or a password pasted into its path or
    in place of its scheme would put the secret in a CI log. Plain http is allowed only for
    this machine (the sandbox).
    """
    if "@" in url:
        return (
            "base_url must not carry credentials (a user name or password before the host; "
            "the address is not shown here, since it holds a secret): remove them, change "
            "that password, and set the credentials in the environment instead"
        )
    if "?" in url or "#" in url:
        return (
            "base_url must not have a query (?...) or fragment (#...): the address is not "
            f"shown here, in case it holds a secret. Give scheme, host and path only, such as "
            f"{_EXAMPLE}"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        return f"base_url is not a valid address{_NOT_SHOWN}: write it as {_EXAMPLE}"
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        said = (
            f"its scheme is {scheme!r}"
            if scheme in _KNOWN_SCHEMES
            else "it does not start with https://"
            if "://" not in url
            else "its scheme is not https"
        )
        return f"base_url must be a full address such as {_EXAMPLE}: {said}{_NOT_SHOWN}"
    if not host:
        return f"base_url must name a host, such as {_EXAMPLE}{_NOT_SHOWN}"
    if scheme == "http" and not is_loopback(host):
        return (
            f"base_url must use https, not http, for {host}: credentials would cross the "
            "network in clear text (http is only allowed for this machine: localhost, "
            f"127.0.0.1); write https://{host}"
        )
    return ""


_NOT_SHOWN = " (the address is not shown here, in case it holds a secret)"
# Schemes worth naming in a message; any other text before a colon may be a secret.
_KNOWN_SCHEMES = frozenset({"ftp", "ftps", "sftp", "ssh", "file", "ws", "wss", "git", "mailto"})
