"""`reconciler adopt`: keep drift made in the CRM by writing it into the series files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconciler.cli import EXIT_OK, main, run
from reconciler.cli.options import check_target, directory_option, target_options


@main.command(
    "adopt",
    epilog="""\b
Examples:
  reconciler adopt --env production                       # every drifted field
  reconciler adopt summer/sale-10 --field validTillDate --env production""",
)
@click.argument("keys", nargs=-1, metavar="[KEY]...")
@directory_option
@target_options
@click.option(
    "--field", "fields", multiple=True, metavar="F", help="Adopt only this field (repeatable)."
)
def adopt_command(
    keys: tuple[str, ...],
    directory: Path,
    env: str | None,
    sandbox: bool,
    fields: tuple[str, ...],
) -> None:
    """Write the live values of drifted fields into the series files.

    The reverse of apply: keeps a change made in the CRM on purpose. Comments, key order and
    formatting stay; ignored fields are never written. A plan right after is empty, and
    every other environment's plan is unchanged:

    \b
    - a field the file's `reconciler: environments: ENV:` block sets is written there;
    - else at the top level, when no other environment of the settings reads the top-level
      value (each sets its own in its block, or `only:` leaves it out);
    - else in the ENV block (made if need be), as is a field from ENV's own defaults.

    Ids of the folder's series in ENV are written as `{series: KEY}`, others as ids.
    """
    from reconciler import adopt_service

    check_target(env, sandbox)
    result = run(
        lambda: adopt_service.adopt(
            directory=directory, keys=keys, fields=fields, env=env, sandbox=sandbox
        )
    )
    for item in result.adopted:
        click.echo(f"{item.key}: adopted {', '.join(item.fields)} → {item.file}")
        if item.in_block:
            block = f"reconciler: environments: {item.environment}:"
            click.echo(f"  written in its {block} block: {', '.join(item.in_block)}")
    for note in result.notes:
        click.echo(f"Note: {note}")
    if not result.adopted:
        click.echo("Nothing to adopt: the files match the CRM.")
    sys.exit(EXIT_OK)
