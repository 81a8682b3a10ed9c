"""``reconciler validate`` and ``reconciler schema``: offline, no network.

``validate`` must run anywhere a series repository is edited (a laptop's pre-commit hook,
Windows included): it loads the files and the settings only, never the state, the client or
the sandbox, so nothing platform-specific is imported on its way.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli import EXIT_ERROR, EXIT_OK, main, run, show_problems
from reconciler.cli.options import directory_option

if TYPE_CHECKING:
    from reconciler.files.loader import LoadResult


@main.command(
    "validate",
    epilog="""\b
Examples:
  reconciler validate
  reconciler validate --dir teams/loyalty/series
  reconciler validate --format github   # annotations on a pull request's lines

\b
Exit codes: 0 valid (warnings allowed), 1 problems, 64 usage error.""",
)
@directory_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "github"]),
    default="text",
    show_default=True,
    help="text: one problem a line on stderr; github: workflow annotations "
    "(::error file=...,line=...::) on stdout, for the changed lines of a pull request.",
)
def validate_command(directory: Path, fmt: str) -> None:
    """Check every series file offline; print each problem with file:line:col.

    As with every command, the result goes to stdout and problems to stderr: when the files
    are valid, the summary ("N series valid") on stdout; when they are not, each problem and
    their count on stderr (with --format github the problems are workflow annotations on
    stdout). No credentials, no network.
    """
    from reconciler.files.loader import validate_directory

    result = run(lambda: validate_directory(directory))
    show_problems(result.problems, fmt=fmt)
    _summary(result, fmt=fmt)
    sys.exit(EXIT_OK if result.ok else EXIT_ERROR)


@main.command(
    "schema",
    epilog="""\b
Examples:
  reconciler schema > .reconciler-schema.json
  reconciler schema --policy > .reconciler-policy-schema.json""",
)
@click.option("--policy", is_flag=True, help="The schema of the policy file (policy.yaml).")
def schema_command(policy: bool) -> None:
    """Print the JSON Schema of a series file (for editors with the YAML language server)."""
    import json

    if policy:
        from reconciler.files.policy import policy_schema

        click.echo(json.dumps(policy_schema(), indent=2))
        return
    from reconciler.files.schema import series_schema

    click.echo(json.dumps(series_schema(), indent=2))


def _summary(result: LoadResult, *, fmt: str) -> None:
    """The count on stdout when the files are valid (the result); on stderr beside the
    problems when they are not (the text problems end with their count already)."""
    summary = f"{result.errors} error(s), {result.warnings} warning(s)"
    if result.ok:
        click.echo(f"{len(result.series)} series valid; {summary}.")
    elif fmt == "github":
        click.echo(f"{summary}: the files are not valid.", err=True)
