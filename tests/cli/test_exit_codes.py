"""Exit codes never collide: 64 usage error, 2 only "changes present", 1 an error, 0 done.

A CI step reads them: ``plan --detailed-exitcode`` answering 2 opens a drift issue, so a
mistyped option (click's own code is 2) must not look like drift.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from reconciler.cli import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, EXIT_USAGE, main
from reconciler.client.credentials import SANDBOX_USERNAME, Credentials
from reconciler.engine.state import State, save_state, state_path
from reconciler.sandbox import create_app, running_server

from .conftest import clean_env, reconciler


def leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


COMMANDS = list(leaf_commands(main))


def invoke(*args: str) -> int:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code


def test_the_codes_are_distinct() -> None:
    assert len({EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_USAGE}) == 4
    assert EXIT_USAGE == 64


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_an_unknown_option_is_a_usage_error_for_every_command(command: tuple[str, ...]) -> None:
    assert invoke(*command, "--no-such-option") == EXIT_USAGE


@pytest.mark.parametrize(
    "args",
    [
        ["--no-such-option"],
        ["no-such-command"],
        ["plan", "--format", "yaml"],
        ["show", "plan.json", "--format", "yaml"],
        ["validate", "--format", "yaml"],
        ["apply", "--format", "markdown"],
        ["apply", "--parallelism", "0"],
        ["plan", "--sandbox", "--env", "production"],
        ["import"],
        ["import", "not-a-number"],
        ["state", "mv", "only-one"],
        ["sandbox", "edit", "1", "no-equals-sign"],
        ["sandbox", "serve", "--port", "65536"],  # 0 serves a free port (22.12)
    ],
    ids=" ".join,
)
def test_usage_errors_exit_64(args: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "Traceback" not in result.output


def test_a_usage_error_in_a_real_process_exits_64_with_the_message_on_stderr(
    project: Path,
) -> None:
    done = reconciler("plan", "--sandbox", "--format", "yaml", cwd=project)
    assert done.returncode == EXIT_USAGE
    assert "Invalid value for '--format'" in done.stderr
    assert done.stdout == ""


def test_help_and_version_exit_0() -> None:
    assert invoke("--help") == EXIT_OK
    assert invoke("--version") == EXIT_OK
    assert invoke("plan", "--help") == EXIT_OK


# --------------------------------------------------------------------------- changes present


def test_changes_present_is_2_only_with_detailed_exitcode(project: Path) -> None:
    done = reconciler("plan", "--sandbox", "--detailed-exitcode", cwd=project)
    assert done.returncode == EXIT_CHANGES, done.stderr
    assert "create" in done.stdout
    # The same plan without the flag: 0, the changes are a result, not a failure.
    assert reconciler("plan", "--sandbox", cwd=project).returncode == EXIT_OK
    applied = reconciler("apply", "--sandbox", "--auto-approve", cwd=project)
    assert applied.returncode == EXIT_OK, applied.stderr
    converged = reconciler("plan", "--sandbox", "--detailed-exitcode", cwd=project)
    assert converged.returncode == EXIT_OK, converged.stdout + converged.stderr


def test_invalid_files_are_an_error_not_a_usage_error(project: Path) -> None:
    (project / "series" / "bad.yaml").write_text("discountValeu: 10\n", encoding="utf-8")
    for args in (
        ["validate"],
        ["plan", "--sandbox"],
        ["plan", "--sandbox", "--detailed-exitcode"],
        ["apply", "--sandbox", "--auto-approve"],
    ):
        done = reconciler(*args, cwd=project)
        assert done.returncode == EXIT_ERROR, (args, done.stdout, done.stderr)
        assert "series/bad.yaml:1:1" in done.stderr, args
        assert "bad.yaml" not in done.stdout, args


# --------------------------------------------------------------------------- API error

WRONG_PASSWORD = "not-the-sandbox-password-0123"


@pytest.fixture
def wrong_password_project(project: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A settings file whose one environment is a sandbox served over loopback, and a
    password it refuses."""
    app = create_app(db_path=project / "sandbox.db", credentials=Credentials.sandbox(), seed=True)
    with running_server(app) as url:
        settings_file = project / "series" / "reconciler.yaml"
        settings = yaml.safe_load(settings_file.read_text(encoding="utf-8"))
        settings["environments"]["local"] = {
            "base_url": url,
            "auth": "basic",
            "env_prefix": "CAPILLARY",
            "timeout_seconds": 5,
        }
        settings_file.write_text(yaml.safe_dump(settings), encoding="utf-8")
        # A recorded id, so that every command has to read from the API.
        save_state(
            state_path(project / "series", "local"),
            State(environment="local").with_id("docs/april-100", 698948),
        )
        env = clean_env(CAPILLARY_USERNAME=SANDBOX_USERNAME, CAPILLARY_PASSWORD=WRONG_PASSWORD)
        yield project, env
    app.state.sandbox.close()


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--env", "local"],
        ["plan", "--env", "local", "--detailed-exitcode"],
        ["apply", "--env", "local", "--auto-approve"],
        ["import", "698948", "--env", "local"],
    ],
    ids=" ".join,
)
def test_an_api_error_exits_1_with_a_message_and_no_secret(
    wrong_password_project: tuple[Path, dict[str, str]], args: list[str]
) -> None:
    project, env = wrong_password_project
    done = reconciler(*args, cwd=project, env=env)
    assert done.returncode == EXIT_ERROR, (done.stdout, done.stderr)
    assert "401" in done.stderr or "403" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert WRONG_PASSWORD not in done.stdout + done.stderr


def test_verbose_shows_the_calls_and_no_secret(
    wrong_password_project: tuple[Path, dict[str, str]],
) -> None:
    import base64
    import hashlib

    project, env = wrong_password_project
    done = reconciler("-v", "plan", "--env", "local", cwd=project, env=env)
    assert done.returncode == EXIT_ERROR
    assert "GET /v2/coupon/series?ids=" in done.stderr or "GET /v1.1/coupon/series" in (
        done.stderr
    ), done.stderr
    md5 = hashlib.md5(WRONG_PASSWORD.encode()).hexdigest()
    token = base64.b64encode(f"{SANDBOX_USERNAME}:{md5}".encode()).decode()
    for secret in (WRONG_PASSWORD, md5, token):
        assert secret not in done.stdout + done.stderr
