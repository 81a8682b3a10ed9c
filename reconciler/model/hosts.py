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

    A URL that may carry a secret (a user or password before the host, a query, a fragment,
    or an ``@`` anywhere) is never quoted back: the message would put the secret in a CI log.
    Plain http is allowed only for this machine (the sandbox).
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
        return f"base_url is not a valid address: write it as {_EXAMPLE}"
    shown = f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme else url
    if parts.scheme not in ("https", "http") or not host:
        return f"base_url {shown!r} must be a full address such as {_EXAMPLE}"
    if parts.scheme == "http" and not is_loopback(host):
        return (
            f"base_url {shown!r} must use https: credentials would cross the network in "
            "clear text (http is only allowed for this machine: localhost, 127.0.0.1)"
        )
    return ""
