"""``--help``: an example for every command, help for every option, and a fast start.

The start-up is checked by what it imports, not by a duration (no test here asserts a time:
the machine is shared): ``reconciler --help`` must not load the libraries the commands use.
"""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.cli.options import PLAN_FORMATS

from .test_exit_codes import COMMANDS

# Heavy or command-specific modules that --help must not import.
NOT_AT_START = [
    "pydantic",
    "httpx",
    "yaml",
    "starlette",
    "uvicorn",
    "sqlite3",
    "asyncio",
    "importlib.metadata",
    "reconciler.service",
    "reconciler.files.loader",
    "reconciler.client",
    "reconciler.engine.state",
    "reconciler.render",
    "reconciler.sandbox.app",
]

_PROBE = """
import sys
from reconciler.cli import main
try:
    main(sys.argv[1:], prog_name="reconciler")
except SystemExit:
    pass
print("\\n".join(sorted(sys.modules)))
"""


@pytest.mark.parametrize("args", [["--help"], ["plan", "--help"], ["--version"]], ids=" ".join)
def test_help_imports_only_click_and_the_cli(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert "reconciler.cli" in loaded
    assert not [m for m in NOT_AT_START if m in loaded]


def test_plan_formats_are_the_renderers_formats() -> None:
    from reconciler.render import PLAN_FORMATS as RENDERED

    assert PLAN_FORMATS == RENDERED


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_an_example_and_help_for_each_option(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    parent_help = CliRunner().invoke(main, [*command[:-1], "--help"]).output
    assert "Example" in result.output or "Example" in parent_help, result.output
    for param in _command(command).params:
        if isinstance(param, click.Option):
            assert param.help, f"{' '.join(command)} {param.opts[0]} has no help text"


def test_the_group_help_lists_the_exit_codes_and_verbose() -> None:
    text = CliRunner().invoke(main, ["--help"]).output
    assert "64 usage error" in text
    assert "--verbose" in text and "--debug" in text
