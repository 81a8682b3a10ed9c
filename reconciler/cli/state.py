"""`reconciler state`: look at and mend the ids recorded per environment.

Every command that changes the state takes the environment's lock, so an edit never lands
beside a running apply (which would otherwise write its own copy over it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli import main, run
from reconciler.cli.options import check_target, directory_option, target_options
from reconciler.errors import StateError

if TYPE_CHECKING:
    from reconciler.engine.state import StateStore


@main.group(
    "state",
    epilog="""\b
Examples:
  reconciler state list --env production
  reconciler state mv summer/sale-10 summer/sale-10-percent --env production
  reconciler state clear-intent summer/new-one --env production
  reconciler state rebuild --env production   # a lost or conflicted state file""",
)
def state_group() -> None:
    """The ids recorded per environment (a cache of the CRM), and creates in flight."""


@state_group.command("list")
@directory_option
@target_options
def state_list(directory: Path, env: str | None, sandbox: bool) -> None:
    """List the keys, their ids and any create in flight."""
    from reconciler import service

    check_target(env, sandbox)
    ws, state = run(lambda: service.read_state(directory=directory, env=env, sandbox=sandbox))
    click.echo(f"# environment {ws.name} ({ws.state_file})")
    for key, series_id in sorted(state.ids.items()):
        click.echo(f"{key}\t{series_id}")
    for key, intent in sorted(state.intents.items()):
        click.echo(f"{key}\t(create {intent.status.value} since {intent.started_at})")


def _edit(directory: Path, env: str | None, sandbox: bool, change: object) -> str:
    from reconciler import service

    def call() -> str:
        _ws, said = service.edit_state(
            directory=directory,
            env=env,
            sandbox=sandbox,
            change=change,  # type: ignore[arg-type]
        )
        return str(said)

    return run(call)


@state_group.command("mv")
@click.argument("old")
@click.argument("new")
@directory_option
@target_options
def state_mv(old: str, new: str, directory: Path, env: str | None, sandbox: bool) -> None:
    """Record that the series of key OLD is now declared by the file of key NEW (a rename)."""
    check_target(env, sandbox)

    def change(store: StateStore) -> str:
        store.move(old, new)
        return f"{old} → {new} (id {store.state.ids[new]})"

    click.echo(_edit(directory, env, sandbox, change))


@state_group.command("rm")
@click.argument("key")
@directory_option
@target_options
def state_rm(key: str, directory: Path, env: str | None, sandbox: bool) -> None:
    """Forget KEY's id (the series stays in the CRM, and still carries KEY's marker)."""
    check_target(env, sandbox)

    def change(store: StateStore) -> str:
        if key not in store.state.ids and key not in store.state.intents:
            raise StateError(f"no key {key!r} in the state of {store.environment!r}")
        store.remove(key)
        return f"forgot {key}"

    click.echo(_edit(directory, env, sandbox, change))


@state_group.command("clear-intent")
@click.argument("key")
@directory_option
@target_options
def state_clear_intent(key: str, directory: Path, env: str | None, sandbox: bool) -> None:
    """After checking the CRM: allow a create of KEY again (its earlier create made nothing)."""
    check_target(env, sandbox)

    def change(store: StateStore) -> str:
        if key not in store.state.intents:
            raise StateError(f"no create in flight for {key!r}")
        store.clear_intent(key)
        return f"cleared the create intent of {key}: the next apply creates it"

    click.echo(_edit(directory, env, sandbox, change))


@state_group.command("rebuild")
@directory_option
@target_options
@click.option("--dry-run", is_flag=True, help="Show what would be recorded; write nothing.")
def state_rebuild(directory: Path, env: str | None, sandbox: bool, dry_run: bool) -> None:
    """Write the state anew from the live org: markers and unambiguous matches.

    For a lost, older or conflicted state file. A key whose series cannot be told apart is
    left out and listed; the plan then shows it blocked, never as a create.
    """
    from reconciler import service

    check_target(env, sandbox)
    rebuilt = run(
        lambda: service.rebuild_state(
            directory=directory, env=env, sandbox=sandbox, dry_run=dry_run
        )
    )
    verb = "would record" if dry_run else "recorded"
    for key, series_id, how in rebuilt.found:
        click.echo(f"{verb} {key}\t{series_id}\t(by {how})")
    for key in rebuilt.kept_intents:
        click.echo(f"kept    {key}\t(a create in flight: the next apply looks for it)")
    for key, why in rebuilt.undecided:
        click.echo(f"undecided {key}: {why}", err=True)
    where = "nothing written" if dry_run else f"written to {rebuilt.path}"
    click.echo(
        f"{len(rebuilt.found)} key(s) found in the CRM, {len(rebuilt.undecided)} undecided; "
        f"{where}."
    )
