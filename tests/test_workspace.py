"""The Workspace: where a command talks to, decided once."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ConfigError
from reconciler.model.settings import Environment, Settings
from reconciler.workspace import Workspace, check_trusted, sandbox_home


def _settings(**env: Environment) -> Settings:
    return Settings(environments=env)


PROD = Environment(name="production", env_prefix="CAPILLARY_PRODUCTION")


def test_hints_repeat_the_flags_that_reach_the_environment(tmp_path: Path) -> None:
    sandbox = Workspace.open(directory=Path("series"), settings=_settings(), sandbox=True)
    assert sandbox.command("state mv a b") == "reconciler state mv a b --sandbox"
    named = Workspace.open(
        directory=Path("other"), settings=_settings(production=PROD), env="production"
    )
    assert named.command("state rebuild") == (
        "reconciler state rebuild --dir other --env production"
    )
    only = Workspace.open(directory=Path("series"), settings=_settings(production=PROD))
    assert only.command("state rebuild") == "reconciler state rebuild"


def test_one_sandbox_home_for_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECONCILER_SANDBOX_DIR", raising=False)
    folder = tmp_path / "repo" / "series"
    ws = Workspace.open(directory=folder, settings=_settings(), sandbox=True)
    assert ws.sandbox_db == tmp_path / "repo" / ".reconciler" / "sandbox" / "sandbox.db"
    assert sandbox_home(folder) == ws.sandbox
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", str(tmp_path / "elsewhere"))
    assert sandbox_home(folder) == tmp_path / "elsewhere"


def test_the_lock_is_keyed_on_the_org_not_the_checkout() -> None:
    environ = {
        "CAPILLARY_PRODUCTION_BASE_URL": "https://eu.example/",
        "CAPILLARY_PRODUCTION_USERNAME": "till",
    }
    one = Workspace.open(
        directory=Path("a/series"), settings=_settings(production=PROD), environ=environ
    )
    two = Workspace.open(
        directory=Path("b/series"), settings=_settings(production=PROD), environ=environ
    )
    assert one.identity == two.identity == "https://eu.example|till"
    assert "secret" not in one.identity


def _trusted(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "trusted.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_trusted_settings_refuse_a_moved_base_url(tmp_path: Path) -> None:
    trusted = _trusted(
        tmp_path, "environments:\n  production:\n    env_prefix: CAPILLARY_PRODUCTION\n"
    )
    check_trusted(environment=PROD, trusted_file=trusted)  # the same: fine
    moved = Environment(
        name="production", env_prefix="CAPILLARY_PRODUCTION", base_url="http://127.0.0.1:9"
    )
    with pytest.raises(ConfigError, match="change base_url"):
        check_trusted(environment=moved, trusted_file=trusted)
    prefix = Environment(name="production", env_prefix="CAPILLARY_TESTING")
    with pytest.raises(ConfigError, match="env_prefix"):
        check_trusted(environment=prefix, trusted_file=trusted)


def test_trusted_settings_refuse_an_environment_the_default_branch_lacks(tmp_path: Path) -> None:
    trusted = _trusted(tmp_path, "environments:\n  testing: {}\n")
    with pytest.raises(ConfigError, match="not in the trusted settings"):
        check_trusted(environment=PROD, trusted_file=trusted)


def test_no_trusted_file_means_the_defaults_hold(tmp_path: Path) -> None:
    missing = tmp_path / "none.yaml"
    check_trusted(environment=Environment(name="default"), trusted_file=missing)
    with pytest.raises(ConfigError):
        check_trusted(environment=PROD, trusted_file=missing)


def test_the_trusted_file_is_taken_from_the_variable(tmp_path: Path) -> None:
    trusted = _trusted(tmp_path, "environments:\n  production:\n    base_url: https://eu.example\n")
    with pytest.raises(ConfigError, match="base_url"):
        Workspace.open(
            directory=Path("series"),
            settings=_settings(production=PROD),
            environ={"RECONCILER_TRUSTED_SETTINGS": str(trusted)},
        )
