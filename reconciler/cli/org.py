"""`reconciler list`: the live series of the org, and which key manages each."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from reconciler.cli import main, run
from reconciler.cli.options import check_target, directory_option, target_options
from reconciler.textsafe import printable


@main.command(
    "list",
    epilog="""\b
Examples:
  reconciler list --env production
  reconciler list --env production --unmanaged --format json
  reconciler import --all-unmanaged --env production   # then adopt them all""",
)
@directory_option
@target_options
@click.option("--unmanaged", is_flag=True, help="Only the series no key manages.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: a table; json: one object per series.",
)
def list_command(
    directory: Path, env: str | None, sandbox: bool, unmanaged: bool, fmt: str
) -> None:
    """List the live series of the org: id, code, description, end, managing key.

    Reads only. Use it to find the series to adopt before a first apply.
    """
    from reconciler import service

    check_target(env, sandbox)
    rows = run(
        lambda: service.list_org(directory=directory, env=env, sandbox=sandbox, unmanaged=unmanaged)
    )
    if fmt == "json":
        json.dump([r.as_dict() for r in rows], sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    click.echo("id\tseriesCode\tdiscountCode\tvalidTillDate\tmanaged by\tdescription")
    for r in rows:
        managed = f"{r.key} ({r.how})" if r.key else "unmanaged"
        cells = [str(r.series_id), r.series_code, r.discount_code, r.valid_till, managed]
        click.echo("\t".join(printable(c) for c in [*cells, r.description]))
    free = sum(1 for r in rows if not r.key)
    click.echo(f"{len(rows)} series; {free} unmanaged.", err=True)
