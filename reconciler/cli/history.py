"""`reconciler history` and `reconciler show-apply N`: the ledger of applies."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconciler.cli import EXIT_OK, main, run
from reconciler.cli.options import check_target, directory_option, target_options

_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json for machines.",
)


@main.command(
    "history",
    epilog="""\b
Examples:
  reconciler history --env production
  reconciler history --env production --format json
  reconciler show-apply 3 --env production

\b
To undo an apply: git revert the commit it names, then plan and apply that change.""",
)
@directory_option
@target_options
@_FORMAT
def history_command(directory: Path, env: str | None, sandbox: bool, fmt: str) -> None:
    """List the applies recorded for an environment (its ledger), oldest first. Reads only."""
    from reconciler import review_service
    from reconciler.render.history import render_history

    check_target(env, sandbox)
    found = run(lambda: review_service.history(directory=directory, env=env, sandbox=sandbox))
    render_history(
        found.records,
        environment=found.environment,
        path=found.path,
        damaged=found.damaged,
        fmt=fmt,
        stream=sys.stdout,
    )
    sys.exit(EXIT_OK)


@main.command(
    "show-apply",
    epilog="""\b
Example:
  reconciler show-apply 3 --env production --format json""",
)
@click.argument("number", type=click.IntRange(min=1))
@directory_option
@target_options
@_FORMAT
def show_apply_command(
    number: int, directory: Path, env: str | None, sandbox: bool, fmt: str
) -> None:
    """Show apply NUMBER of the ledger: who, when, which commit, overrides, each series."""
    from reconciler import review_service
    from reconciler.render.history import render_apply_record

    check_target(env, sandbox)
    _, record = run(
        lambda: review_service.show_apply(
            directory=directory, number=number, env=env, sandbox=sandbox
        )
    )
    render_apply_record(record, fmt=fmt, stream=sys.stdout)
    sys.exit(EXIT_OK)
