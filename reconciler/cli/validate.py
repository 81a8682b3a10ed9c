"""``reconciler validate`` and ``reconciler schema``: offline, no network."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from reconciler.cli import EXIT_ERROR, EXIT_OK, main, run
from reconciler.cli.options import directory_option
from reconciler.loader import LoadResult, validate_directory
from reconciler.render import render_problems
from reconciler.schema import series_schema


@main.command("validate")
@directory_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "github"]),
    default="text",
    show_default=True,
    help="github: workflow annotations (::error file=...,line=...::) for the changed lines.",
)
def validate_command(directory: Path, fmt: str) -> None:
    """Check every series file offline; print each problem with file:line:col."""
    result = run(lambda: validate_directory(directory))
    if fmt == "github":
        render_problems(result.problems, fmt="github", stream=sys.stdout)
        click.echo(_summary(result))
    else:
        _print_result(result)
    sys.exit(EXIT_OK if result.ok else EXIT_ERROR)


@main.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of a series file (for editors with the YAML language server)."""
    click.echo(json.dumps(series_schema(), indent=2))


def _print_result(result: LoadResult) -> None:
    for problem in result.problems:
        click.echo(str(problem))
    click.echo(_summary(result))


def _summary(result: LoadResult) -> str:
    summary = f"{result.errors} error(s), {result.warnings} warning(s)"
    if result.ok:
        return f"{len(result.series)} series valid; {summary}."
    return f"{summary}; nothing was sent to the API."
