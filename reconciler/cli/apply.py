"""`reconciler apply`: make the live series match, then prove it converged."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

import click

from reconciler import service
from reconciler.applier import Progress
from reconciler.cli import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, fail, main, run
from reconciler.cli.options import (
    check_target,
    directory_option,
    target_options,
    trusted_settings_option,
    use_color,
)
from reconciler.plan import Plan
from reconciler.render import render_apply, render_plan
from reconciler.result import Outcome

_MARKS = {
    Outcome.DONE: "✓",
    Outcome.SKIPPED: "↷",
    Outcome.FAILED: "✗",
    Outcome.NOT_STARTED: "·",
}


class ProgressView:
    """A progress bar on a terminal; one line per series elsewhere (CI logs)."""

    def __init__(self, *, stream: TextIO, bar: bool) -> None:
        self.stream = stream
        self.bar = bar
        self.started = time.monotonic()
        self.open_line = False

    def finish(self) -> None:
        """End the bar's line, also when an interrupt left it unfinished."""
        if self.open_line:
            self.stream.write("\n")
            self.stream.flush()
        self.open_line = False

    def message(self, text: str) -> None:
        """A line about the run itself (a wait, a recovery), on its own line."""
        self.finish()
        self.stream.write(f"{text}\n")
        self.stream.flush()

    def __call__(self, event: Progress) -> None:
        if event.outcome is None:
            return
        if self.bar:
            width = 30
            filled = int(width * event.done / max(event.total, 1))
            rate = event.done / max(time.monotonic() - self.started, 1e-6)
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {event.done}/{event.total} "
                f"{rate:.1f}/s "
            )
            self.open_line = True
        else:
            o = event.outcome
            ident = f" (id {o.series_id})" if o.series_id else ""
            self.stream.write(
                f"{_MARKS[o.outcome]} {o.key}{ident}: {o.action.value} {o.outcome.value}"
                f"{': ' + o.message if o.outcome is not Outcome.DONE else ''}\n"
            )
        self.stream.flush()


@main.command("apply")
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
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--target", "targets", multiple=True, metavar="KEY", help="Apply only this key.")
@trusted_settings_option
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
) -> None:
    """Apply the changes (of a saved plan, or of a plan made now), then verify."""
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
    )
    progress = ProgressView(stream=sys.stderr, bar=sys.stderr.isatty())
    try:
        result = run(
            lambda: service.apply(
                request, confirm=confirm, on_progress=progress, on_message=progress.message
            )
        )
    finally:
        progress.finish()
    if result is None:
        click.echo("Apply cancelled: nothing was changed.", err=True)
        sys.exit(EXIT_ERROR)
    render_apply(result, fmt=fmt, stream=sys.stdout, color=use_color() and fmt == "text")
    if result.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_OK if result.ok else EXIT_ERROR)
