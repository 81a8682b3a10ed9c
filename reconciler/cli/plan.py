"""`reconciler plan`, `reconciler show` and `reconciler import`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconciler.cli import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, activity, fail, main, run
from reconciler.cli.options import (
    base_url_option,
    changed_since_option,
    check_target,
    directory_option,
    plan_format_option,
    policy_options,
    target_options,
    trusted_settings_option,
    use_color,
)


@main.command(
    "plan",
    epilog="""\b
Examples:
  reconciler plan --sandbox
  reconciler plan --env production --detailed-exitcode
  reconciler plan --env production --format markdown > plan.md
  reconciler plan --env production --out plan.json   # then: reconciler apply plan.json
  reconciler plan --env production --format html > plan.html
  reconciler plan --env production --override 'big-percentage=Diwali, approved by Asha'
  reconciler plan --env production --changed-since origin/main   # a pull request's change

\b
Exit codes: 0 done (no changes, with --detailed-exitcode), 1 error (also: the
policy refuses the plan, shown in full first), 2 changes present (only with
--detailed-exitcode), 64 usage error.""",
)
@directory_option
@target_options
@plan_format_option
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Save the plan here.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing changes, 2 when changes are present, 1 on error.",
)
@click.option("--target", "targets", multiple=True, metavar="KEY", help="Plan only this key.")
@changed_since_option
@trusted_settings_option
@base_url_option
@policy_options
def plan_command(
    directory: Path,
    env: str | None,
    sandbox: bool,
    fmt: str,
    out: Path | None,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    changed_since: str | None,
    trusted_settings: Path | None,
    base_url: str | None,
    overrides: tuple[str, ...],
    trusted_policy: Path | None,
) -> None:
    """Show what an apply would change in the live CRM. Reads only.

    The plan goes to stdout; problems, waits and retries to stderr.
    """
    from reconciler import service
    from reconciler.render import render_plan
    from reconciler.review_service import Review

    check_target(env, sandbox)
    view = activity()
    try:
        plan = run(
            lambda: service.make_plan(
                directory=directory,
                env=env,
                sandbox=sandbox,
                targets=targets,
                trusted_settings=trusted_settings,
                base_url=base_url,
                on_event=view.on_event,
                # A plan that is kept (saved, or the JSON document) is checked for staleness
                # by the apply: every series needs its digest then, not otherwise.
                digests=out is not None or fmt == "json",
                review=Review(overrides=overrides, trusted_policy=trusted_policy),
                changed_since=changed_since,
            ),
            problems_format="github" if fmt == "github" else "text",
        )
    finally:
        view.finish()
    if out is not None:
        from reconciler.safefile import write_atomic, write_failure

        try:
            write_atomic(out, plan.to_json())
        except OSError as error:
            fail(write_failure(out, error, what="the plan file"))
    render_plan(plan, fmt=fmt, stream=sys.stdout, color=use_color() and fmt == "text")
    refusing = [f for f in plan.policy if f.blocking]
    if refusing:
        # Shown in full above; the apply would refuse it: so does the plan's exit code.
        click.echo(
            f"Error: the policy refuses this plan ({len(refusing)} finding(s), listed at its "
            "top): an approve rule needs --override RULE=REASON, a deny rule a change of files",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    if detailed_exitcode and plan.has_changes:
        sys.exit(EXIT_CHANGES)
    sys.exit(EXIT_OK)


@main.command(
    "show",
    epilog="""\b
Example:
  reconciler show plan.json --format markdown""",
)
@click.argument("plan_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@plan_format_option
def show_command(plan_file: Path, fmt: str) -> None:
    """Render a plan saved with `plan --out`."""
    from reconciler import service
    from reconciler.render import render_plan

    plan = run(lambda: service.read_plan_file(plan_file))
    render_plan(plan, fmt=fmt, stream=sys.stdout, color=use_color() and fmt == "text")


@main.command(
    "import",
    epilog="""\b
Examples:
  reconciler import 698948 520591 --env production
  reconciler import 751412 --key summer/sale-10 --env production   # adopt an id for a file
  reconciler import --all-unmanaged --env production               # a whole org at once""",
)
@click.argument("ids", nargs=-1, type=int)
@directory_option
@target_options
@click.option("--all-fields", is_flag=True, help="Write every writable field, defaults too.")
@click.option("--key", help="The key (file path under the folder) for a single id.")
@click.option(
    "--all-unmanaged", is_flag=True, help="Import every series of the org that no key manages."
)
@base_url_option
def import_command(
    ids: tuple[int, ...],
    directory: Path,
    env: str | None,
    sandbox: bool,
    all_fields: bool,
    key: str | None,
    all_unmanaged: bool,
    base_url: str | None,
) -> None:
    """Adopt existing series: write a file for each id and record it in the state."""
    from reconciler import import_service

    check_target(env, sandbox)
    if not ids and not all_unmanaged:
        raise click.UsageError("name the ids to import, or --all-unmanaged")
    results = run(
        lambda: import_service.import_series(
            directory=directory,
            ids=ids,
            env=env,
            sandbox=sandbox,
            all_fields=all_fields,
            key=key,
            all_unmanaged=all_unmanaged,
            base_url=base_url,
        )
    )
    if not results:
        click.echo("nothing to import: every series of the org is managed by a key")
    failed = False
    for item in results:
        where = f" → {item.file}" if item.file else ""
        click.echo(f"{item.series_id}: {item.key or '-'}{where}: {item.message}")
        failed = failed or not item.key
    sys.exit(EXIT_ERROR if failed else EXIT_OK)
