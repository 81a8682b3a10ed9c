"""`reconciler state`: look at and mend the ids recorded per environment."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli import main, run
from reconciler.cli.options import check_target, directory_option, target_options


@main.group(
    "state",
    epilog="""\b
Examples:
  reconciler state list --env production
  reconciler state mv summer/sale-10 summer/sale-10-percent --env production
  reconciler state clear-intent summer/new-one --env production""",
)
def state_group() -> None:
    """The ids recorded per environment, and creates in flight."""


@state_group.command("list")
@directory_option
@target_options
def state_list(directory: Path, env: str | None, sandbox: bool) -> None:
    """List the keys, their ids and any create in flight."""
    from reconciler import service

    check_target(env, sandbox)
    store = run(lambda: service.state_store(directory=directory, env=env, sandbox=sandbox))
    click.echo(f"# environment {store.environment} ({store.path})")
    for key, series_id in sorted(store.state.ids.items()):
        click.echo(f"{key}\t{series_id}")
    for key, intent in sorted(store.state.intents.items()):
        click.echo(f"{key}\t(create {intent.status.value} since {intent.started_at})")


@state_group.command("mv")
@click.argument("old")
@click.argument("new")
@directory_option
@target_options
def state_mv(old: str, new: str, directory: Path, env: str | None, sandbox: bool) -> None:
    """Record that the series of key OLD is now declared by the file of key NEW (a rename)."""
    from reconciler import service

    check_target(env, sandbox)
    store = run(lambda: service.state_store(directory=directory, env=env, sandbox=sandbox))
    run(lambda: store.move(old, new))
    click.echo(f"{old} → {new} (id {store.state.ids[new]})")


@state_group.command("rm")
@click.argument("key")
@directory_option
@target_options
def state_rm(key: str, directory: Path, env: str | None, sandbox: bool) -> None:
    """Forget KEY's id (the series stays in the CRM; a file of that key would create anew)."""
    from reconciler import service

    check_target(env, sandbox)
    store = run(lambda: service.state_store(directory=directory, env=env, sandbox=sandbox))
    if key not in store.state.ids and key not in store.state.intents:
        raise click.ClickException(f"no key {key!r} in the state of {store.environment!r}")
    run(lambda: store.remove(key))
    click.echo(f"forgot {key}")


@state_group.command("clear-intent")
@click.argument("key")
@directory_option
@target_options
def state_clear_intent(key: str, directory: Path, env: str | None, sandbox: bool) -> None:
    """After checking the CRM: allow a create of KEY again (its earlier create made nothing)."""
    from reconciler import service

    check_target(env, sandbox)
    store = run(lambda: service.state_store(directory=directory, env=env, sandbox=sandbox))
    if key not in store.state.intents:
        raise click.ClickException(f"no create in flight for {key!r}")
    run(lambda: store.clear_intent(key))
    click.echo(f"cleared the create intent of {key}: the next apply creates it")
