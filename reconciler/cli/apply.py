"""`reconciler apply`: make the live series match, then prove it converged."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from reconciler.cli import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, activity, fail, main, run
from reconciler.cli.options import (
    base_url_option,
    check_target,
    directory_option,
    policy_options,
    target_options,
    trusted_settings_option,
    use_color,
)
from reconciler.textsafe import printable

if TYPE_CHECKING:
    from reconciler.engine.plan import Plan
    from reconciler.engine.result import ApplyResult
    from reconciler.errors import PlanMismatch


@main.command(
    "apply",
    epilog="""\b
Examples:
  reconciler apply --sandbox
  reconciler apply --env production --auto-approve     # in CI, after a reviewed plan
  reconciler plan --env production --out plan.json && reconciler apply plan.json
  reconciler apply --env production --override 'big-percentage=Diwali, approved by Asha'

\b
Exit codes: 0 applied and converged, 1 anything failed or not converged,
64 usage error, 130 interrupted.""",
)
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@directory_option
@target_options
@click.option(
    "--auto-approve", is_flag=True, help="Apply without asking (needed without a terminal)."
)
@click.option("--force", is_flag=True, help="Lift the safety rails (said out loud in the output).")
@click.option(
    "--parallelism", type=click.IntRange(1, 64), help="Calls at once (default: settings)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="The result on stdout: text for people, json the result object documented in "
    "reconciler/render/jsonfmt.py.",
)
@click.option("--target", "targets", multiple=True, metavar="KEY", help="Apply only this key.")
@trusted_settings_option
@base_url_option
@policy_options
def apply_command(
    plan_file: Path | None,
    directory: Path,
    env: str | None,
    sandbox: bool,
    auto_approve: bool,
    force: bool,
    parallelism: int | None,
    fmt: str,
    targets: tuple[str, ...],
    trusted_settings: Path | None,
    base_url: str | None,
    overrides: tuple[str, ...],
    trusted_policy: Path | None,
) -> None:
    """Make the plan now and apply it, then verify.

    With PLAN_FILE (a reviewed plan), the plan made now must do exactly what the reviewed one
    does, or nothing is written and every difference is shown; it goes to the plan's
    environment (a different --env is refused). The result goes to stdout; the plan shown
    before an --auto-approve apply, the progress, waits and retries go to stderr.
    """
    from reconciler import service
    from reconciler.render import render_apply, render_plan
    from reconciler.review_service import Review

    check_target(env, sandbox)
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if plan_file is None and not auto_approve and not interactive:
        fail("no terminal to confirm the apply: review a plan, then pass --auto-approve")

    def confirm(plan: Plan) -> bool:
        if auto_approve:
            render_plan(plan, fmt="text", stream=sys.stderr, color=use_color(sys.stderr))
            return True
        render_plan(plan, fmt="text", stream=sys.stdout, color=use_color())
        try:
            return click.confirm("Apply these changes?", default=False)
        except click.Abort:  # Ctrl-C or end of input at the question: a no
            click.echo(err=True)
            return False

    request = service.ApplyRequest(
        directory=directory,
        env=env,
        sandbox=sandbox,
        plan_file=plan_file,
        force=force,
        parallelism=parallelism,
        targets=targets,
        trusted_settings=trusted_settings,
        base_url=base_url,
        review=Review(overrides=overrides, trusted_policy=trusted_policy),
    )
    from reconciler.render.progress import ProgressView

    view = activity()
    progress = ProgressView(stream=sys.stderr, bar=sys.stderr.isatty(), activity=view)

    def apply_or_show_differences() -> ApplyResult | None:
        from reconciler.errors import PlanMismatch

        try:
            return service.apply(
                request,
                confirm=confirm,
                on_progress=progress,
                on_event=view.on_event,
                on_message=progress.message,
            )
        except PlanMismatch as error:
            view.finish()
            progress.finish()
            _show_differences(plan_file, error)

    try:
        result = run(apply_or_show_differences)
    finally:
        view.finish()
        progress.finish()
    if result is None:
        click.echo("Apply cancelled: nothing was changed.", err=True)
        sys.exit(EXIT_ERROR)
    render_apply(result, fmt=fmt, stream=sys.stdout, color=use_color() and fmt == "text")
    if result.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_OK if result.ok else EXIT_ERROR)


def _show_differences(plan_file: Path | None, error: PlanMismatch) -> NoReturn:
    """The reviewed plan and the plan made now, difference by difference, on stderr; then
    the one-line error (the last ``Error:`` line is what CI annotates)."""
    click.echo(
        f"The plan made now differs from the reviewed plan ({plan_file}); nothing was written:",
        err=True,
    )
    for line in error.differences:
        click.echo(f"  {printable(line)}", err=True)
    fail(str(error))
