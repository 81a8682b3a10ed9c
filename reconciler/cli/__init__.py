"""The command line: parse, call one service function, render, map errors to exit codes.

Each command lives in a module of this package; this one holds the group and the error
mapping they share.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

import click

from reconciler import __version__
from reconciler.errors import ReconcilerError, ValidationFailed

T = TypeVar("T")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
def main() -> None:
    """Coupon series as code: validate the files, plan against the CRM, apply."""


def fail(message: str, *, code: int = EXIT_ERROR) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def report_problems(error: ValidationFailed, *, fmt: str = "text") -> None:
    if fmt == "github":
        from reconciler.render import render_problems

        render_problems(error.problems, fmt="github", stream=sys.stdout)
    else:
        for problem in sorted(error.problems):
            click.echo(str(problem), err=True)
    errors = sum(1 for p in error.problems if p.is_error)
    click.echo(f"{errors} error(s); nothing was sent to the API.", err=True)


def run(call: Callable[[], T], *, problems_format: str = "text") -> T:
    """Run a service call; turn the tool's own errors into a message and exit code 1."""
    try:
        return call()
    except ValidationFailed as error:
        report_problems(error, fmt=problems_format)
        sys.exit(EXIT_ERROR)
    except ReconcilerError as error:
        fail(str(error))
        raise  # unreachable: fail() exits


# Command modules register themselves on ``main`` when imported (one line each, below).
from reconciler.cli import adopt as _adopt  # noqa: E402,F401
from reconciler.cli import apply as _apply  # noqa: E402,F401
from reconciler.cli import plan as _plan  # noqa: E402,F401
from reconciler.cli import sandbox as _sandbox  # noqa: E402,F401
from reconciler.cli import state as _state  # noqa: E402,F401
from reconciler.cli import validate as _validate  # noqa: E402,F401
