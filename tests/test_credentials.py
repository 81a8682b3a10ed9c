"""Credentials from the environment, and redaction of every form of a secret."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import quote

import pytest

from reconciler.client.auth import basic_authorization
from reconciler.client.credentials import REDACTED, Credentials, choose_base_url, redact
from reconciler.errors import ConfigError

USER = "till.user@example"
PASSWORD = "Marker-Pässwörd/+="
KEY = "oauth-key-9f1c"
SECRET = "oauth-secret-77ab"
CREDS = Credentials(username=USER, password=PASSWORD, oauth_key=KEY, oauth_secret=SECRET)
MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()
TOKEN = basic_authorization(USER, PASSWORD).split()[1]


def forms() -> dict[str, str]:
    urlsafe = base64.urlsafe_b64encode(f"{USER}:{MD5}".encode()).decode()
    return {
        "password": PASSWORD,
        "md5": MD5,
        "md5 upper": MD5.upper(),
        "basic header": f"Basic {TOKEN}",
        "basic token alone": TOKEN,
        "token without padding": TOKEN.rstrip("="),
        "token with JSON-escaped slashes": TOKEN.replace("/", "\\/"),
        "token url-safe": urlsafe,
        "token url-encoded": quote(TOKEN, safe=""),
        "plain basic of user:password": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
        "password in JSON": json.dumps(PASSWORD)[1:-1],
        "password url-encoded": quote(PASSWORD, safe=""),
        "oauth key": KEY,
        "oauth secret": SECRET,
        "username": USER,
    }


@pytest.mark.parametrize("name", list(forms()))
def test_every_form_of_every_secret_is_redacted(name: str) -> None:
    value = forms()[name]
    text = f'{{"error": "denied for {value} (echoed)"}}'
    out = redact(text, CREDS.secrets())
    assert value not in out and REDACTED in out, out
    assert out.startswith('{"error": "denied for ') and out.endswith(' (echoed)"}')


def test_a_token_body_and_an_oauth_token_are_redacted_when_added() -> None:
    token = "tok-3a9d1e0c"
    assert token not in redact(f"token {token}", (*CREDS.secrets(), token))


def test_any_basic_header_is_hidden_even_for_other_credentials() -> None:
    other = base64.b64encode(b"someone:else").decode()
    assert redact(f"Authorization: Basic {other}", ()) == f"Authorization: Basic {REDACTED}"
    assert redact("Basic authentication failed", ()) == "Basic authentication failed"


def test_short_secrets_keep_ordinary_text_but_hide_their_derived_forms() -> None:
    creds = Credentials(username="ab", password="x1")
    token = basic_authorization("ab", "x1").split()[1]
    out = redact(f"ab x1 {token} {hashlib.md5(b'x1').hexdigest()}", creds.secrets())
    assert out == f"ab x1 {REDACTED} {REDACTED}"


def test_credentials_never_show_in_repr() -> None:
    assert all(s not in repr(CREDS) for s in CREDS.secrets())


# ---------------------------------------------------------------------------- where they go

FILE = "environment 'production''s base_url in the settings"


@pytest.mark.parametrize(
    ("flag", "variable", "configured", "chosen", "source"),
    [
        ("https://flag.example", "https://var.example", "https://file.example", "flag", "--"),
        (None, "https://var.example", None, "var", "CAPILLARY_PRODUCTION_BASE_URL"),
        (None, None, "https://file.example", "file", FILE),
        (None, "https://EU.example/", "https://eu.example", "EU", "CAPILLARY_PRODUCTION"),
        (None, None, None, None, ""),
    ],
)
def test_the_flag_then_the_variable_then_the_file(
    flag: str | None, variable: str | None, configured: str | None, chosen: str | None, source: str
) -> None:
    environ = {"CAPILLARY_PRODUCTION_BASE_URL": variable} if variable else {}
    choice = choose_base_url(
        flag=flag,
        configured=configured,
        configured_in=FILE,
        prefix="CAPILLARY_PRODUCTION",
        environ=environ,
    )
    assert (choice.url is None) is (chosen is None)
    assert chosen is None or chosen in str(choice.url)
    assert choice.source.startswith(source)


def test_a_variable_and_a_file_naming_different_addresses_are_refused() -> None:
    environ = {"CAPILLARY_BASE_URL": "https://user:pw@one.example"}
    with pytest.raises(ConfigError) as refused:
        choose_base_url(
            flag=None, configured="https://two.example", configured_in=FILE, environ=environ
        )
    message = str(refused.value)
    assert "CAPILLARY_BASE_URL" in message and FILE in message and "--base-url" in message
    assert "one.example" not in message and "pw" not in message  # sources, never values
