"""``reconciler validate`` and ``reconciler schema``: offline, no network."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from reconciler.cli import EXIT_ERROR, EXIT_OK, main, run
from reconciler.loader import LoadResult, validate_directory
from reconciler.schema import series_schema


@main.command("validate")
@click.option(
    "--dir",
    "directory",
    default="series",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder of series files (and its reconciler.yaml).",
)
def validate_command(directory: Path) -> None:
    """Check every series file offline; print each problem with file:line:col."""
    result = run(lambda: validate_directory(directory))
    _print_result(result)
    sys.exit(EXIT_OK if result.ok else EXIT_ERROR)


@main.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of a series file (for editors with the YAML language server)."""
    click.echo(json.dumps(series_schema(), indent=2))


def _print_result(result: LoadResult) -> None:
    for problem in result.problems:
        click.echo(str(problem))
    files = len(result.series)
    summary = f"{result.errors} error(s), {result.warnings} warning(s)"
    if result.ok:
        click.echo(f"{files} series valid; {summary}.")
    else:
        click.echo(f"{summary}; nothing was sent to the API.")
