"""What a base URL may be, and that a refused one is never echoed (issue 22.11).

A base URL may hold a secret wherever a user pastes one: before the host, in the query, in
the path, even in place of the scheme. The message says what is wrong without quoting it;
only a host name (of an http or https address) is ever named.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.client.config import check_base_url
from reconciler.errors import ConfigError
from reconciler.model.hosts import base_url_problem, is_loopback

SECRET = "Pa55w0rd-zq"

HOSTILE = [
    f"ftp://eu.api.capillarytech.com/{SECRET}",
    f"file:///home/me/{SECRET}",
    f"{SECRET}:x/y",
    f"htps://eu.api.capillarytech.com/{SECRET}",
    f"eu.api.capillarytech.com/{SECRET}",
    f"https://user:{SECRET}@eu.api.capillarytech.com",
    f"https://eu.api.capillarytech.com/?token={SECRET}",
    f"https://eu.api.capillarytech.com/#{SECRET}",
    f"https://eu.api.capillarytech.com:{SECRET}/",
    f"http://eu.api.capillarytech.com/{SECRET}",
    f"https:///{SECRET}",
    SECRET,
]


@pytest.mark.parametrize("url", HOSTILE)
def test_a_refused_base_url_is_never_echoed(url: str) -> None:
    problem = base_url_problem(url)
    assert problem
    assert SECRET not in problem
    assert SECRET.lower() not in problem.lower()
    with pytest.raises(ConfigError) as caught:
        check_base_url(url, env_prefix="CAPILLARY_PROD")
    assert SECRET not in str(caught.value)
    assert "CAPILLARY_PROD_BASE_URL" in str(caught.value)


def test_the_message_says_what_is_wrong() -> None:
    assert "its scheme is 'ftp'" in base_url_problem("ftp://h/x")
    assert "does not start with https://" in base_url_problem("eu.api.capillarytech.com")
    assert "must name a host" in base_url_problem("https://")
    http = base_url_problem("http://eu.api.capillarytech.com/x")
    assert "must use https" in http and "write https://eu.api.capillarytech.com" in http


def test_good_addresses() -> None:
    for url in (
        "https://eu.api.capillarytech.com",
        "https://eu.api.capillarytech.com/",
        "http://127.0.0.1:8080",
        "http://localhost",
        "http://[::1]:9",
    ):
        assert base_url_problem(url) == "", url
    assert is_loopback("127.1.2.3") and not is_loopback("10.0.0.1")


@pytest.mark.parametrize("url", HOSTILE[:5])
def test_the_cli_never_echoes_it_either(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "series").mkdir()
    monkeypatch.chdir(tmp_path)
    env = {"CAPILLARY_BASE_URL": url, "CAPILLARY_USERNAME": "u", "CAPILLARY_PASSWORD": "p"}
    result = CliRunner().invoke(main, ["plan"], env=env)
    assert result.exit_code == 1, result.output
    assert "base_url" in result.output
    assert SECRET not in result.output
