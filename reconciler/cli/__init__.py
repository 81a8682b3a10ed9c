"""The command line: parse, call one service function, render, map errors to exit codes.

Each command lives in a module of this package; this one holds the group, the options every
command shares (``-v``, ``--debug``) and the mapping of errors to exit codes.

Start-up is kept short (``reconciler --help`` runs on every pre-commit hook and in every CI
step): the command modules import only click at module level and load what they use inside
the command function, so ``--help`` never imports httpx, YAML or the sandbox.

Exit codes, documented in the README and never reused for another meaning:

- 0: done (plan: also "no changes" with ``--detailed-exitcode``);
- 1: an error: a bad file, an API error, a refusal, a failed or unconverged apply;
- 2: only ``plan --detailed-exitcode`` with changes present;
- 64: a usage error: an unknown option, a bad value (``--format yaml``), a missing argument
  (EX_USAGE of sysexits.h; click's own default, 2, would collide with "changes present");
- 130: interrupted (Ctrl-C).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from reconciler import __version__
from reconciler.textsafe import printable

if TYPE_CHECKING:
    from reconciler.cli.activity import Activity
    from reconciler.errors import ValidationFailed
    from reconciler.problems import Problem

T = TypeVar("T")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_USAGE = 64
EXIT_INTERRUPTED = 130

_EXAMPLES = """\b
Examples:
  reconciler validate                        # offline, every problem with file:line:col
  reconciler plan --sandbox                  # what would change (embedded sandbox)
  reconciler plan --env production --detailed-exitcode
  reconciler -v apply --env production --auto-approve
  reconciler list --env production --unmanaged

\b
Exit codes: 0 done, 1 error, 2 changes present (plan --detailed-exitcode only),
64 usage error, 130 interrupted.
"""


class ReconcilerGroup(click.Group):
    """A click group whose usage errors exit 64 and whose Ctrl-C exits 130.

    Click exits 2 on a usage error, which a CI step cannot tell from ``plan
    --detailed-exitcode``'s "changes present". Sub-commands are parsed inside the group's
    ``invoke``, the group's own options in ``make_context``: both are covered here.
    """

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as error:
            error.exit_code = EXIT_USAGE  # type: ignore[misc]  # a ClassVar in the stubs
            raise

    def invoke(self, ctx: click.Context) -> Any:
        _whole_writes()
        try:
            try:
                return super().invoke(ctx)
            finally:
                # A full disk under `> file` fails here, with a message, not at the exit.
                sys.stdout.flush()
        except click.UsageError as error:
            error.exit_code = EXIT_USAGE  # type: ignore[misc]  # a ClassVar in the stubs
            raise
        except KeyboardInterrupt:
            click.echo("\nInterrupted.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`reconciler list | head`): not an error of ours. Point
            # stdout at nothing so the interpreter's final flush does not fail again.
            _drop_stdout()
            sys.exit(EXIT_ERROR)
        except Exception as error:
            if ctx.find_root().meta.get("reconciler.debug"):
                raise
            from reconciler.safefile import WRITE_ERRNOS, write_failure

            if isinstance(error, OSError) and error.errno in WRITE_ERRNOS:
                # The disk or the limits, not a bug: a write no module turned into its own
                # message (the output stream; the file when the system names it). What
                # stdout still holds is dropped: the exit must not fail writing it again.
                click.echo(f"Error: {printable(write_failure(error.filename, error))}", err=True)
                _drop_stdout()
                sys.exit(EXIT_ERROR)
            # A bug, not bad input: one line without --debug (the traceback may be long
            # and says nothing to a user), the traceback with it.
            click.echo(
                f"Error: internal error ({type(error).__name__}: {error}); run again with "
                "--debug for the traceback, and please report it",
                err=True,
            )
            sys.exit(EXIT_ERROR)


def _drop_stdout() -> None:
    """Point stdout at nothing: what its buffer holds can no longer be written."""
    import contextlib
    import os

    # No file behind it (a test's capture): nothing to drop.
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _whole_writes() -> None:
    """Make a short write of stdout or stderr an error, never a silent loss.

    With ``PYTHONUNBUFFERED=1`` (common in CI images) the standard streams are text layers
    straight over the raw file, and CPython drops what a short write (a full disk, a
    file-size limit) left unwritten: ``plan --format json > plan.json`` would exit 0 with
    the plan cut short. A buffered layer writes everything or raises; line buffering keeps
    the output as prompt. The original streams stay as ``sys.__stdout__`` (not closed).
    """
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(getattr(stream, "buffer", None), io.RawIOBase):
            continue
        raw = io.FileIO(stream.fileno(), "w", closefd=False)
        setattr(
            sys,
            name,
            io.TextIOWrapper(
                io.BufferedWriter(raw),
                encoding=stream.encoding,
                errors=stream.errors,
                line_buffering=True,
            ),
        )


@click.group(
    cls=ReconcilerGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=_EXAMPLES,
)
@click.version_option(__version__, prog_name="reconciler")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Show each API call with its status and timing, retries, rate-limit waits and "
    "token renewals on stderr (never a secret).",
)
@click.option(
    "--debug",
    is_flag=True,
    help="Like --verbose, plus the tool's debug log with timestamps, and the traceback of "
    "an internal error.",
)
@click.pass_context
def main(ctx: click.Context, verbose: bool, debug: bool) -> None:
    """Coupon series as code: validate the files, plan against the CRM, apply.

    Results go to stdout, problems, progress and logs to stderr.
    """
    ctx.meta["reconciler.verbose"] = verbose or debug
    ctx.meta["reconciler.debug"] = debug
    if verbose or debug:
        from reconciler.cli.activity import configure_logging

        configure_logging(debug=debug)
    # Every command's clients report to one status line (``reconciler.listening``).
    from reconciler.listening import listening

    view = _command_activity()
    ctx.with_resource(listening(view.on_event))
    ctx.call_on_close(view.finish)


def _command_activity(*, stream: Any = None) -> Activity:
    """The stderr reporter of the current command (one per command): waits, retries, ETA;
    calls with -v.

    Called by this name here: importing the submodule ``reconciler.cli.activity`` rebinds
    the package's name ``activity`` to that module."""
    from reconciler.cli.activity import Activity

    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    if stream is None and root is not None and "reconciler.activity" in root.meta:
        view: Activity = root.meta["reconciler.activity"]
        return view
    verbose = bool(root and root.meta.get("reconciler.verbose"))
    view = Activity(stream=stream or sys.stderr, verbose=verbose)
    if stream is None and root is not None:
        root.meta["reconciler.activity"] = view
    return view


activity = _command_activity


def fail(message: str, *, code: int = EXIT_ERROR) -> NoReturn:
    click.echo(f"Error: {printable(message)}", err=True)
    sys.exit(code)


def show_problems(problems: Sequence[Problem], *, fmt: str = "text") -> None:
    """Validation problems through the renderers: annotations on stdout (github), else one
    ``file:line:col: severity: message`` line each and the counts, on stderr."""
    if not problems:
        return
    from reconciler.cli.options import use_color
    from reconciler.render import render_problems

    if fmt == "github":
        render_problems(problems, fmt="github", stream=sys.stdout)
    else:
        render_problems(problems, fmt="text", stream=sys.stderr, color=use_color(sys.stderr))


def report_problems(error: ValidationFailed, *, fmt: str = "text") -> None:
    show_problems(error.problems, fmt=fmt)
    errors = sum(1 for p in error.problems if p.is_error)
    # A whole plan may have asked for the org's list meanwhile (early_service): a read only.
    click.echo(f"{errors} error(s) in the files: nothing was planned or written.", err=True)


def run(call: Callable[[], T], *, problems_format: str = "text") -> T:
    """Run a service call; turn the tool's own errors into a message and exit code 1."""
    from reconciler.errors import ReconcilerError, ValidationFailed

    try:
        return call()
    except ValidationFailed as error:
        report_problems(error, fmt=problems_format)
        sys.exit(EXIT_ERROR)
    except ReconcilerError as error:
        fail(str(error))


# Command modules register themselves on ``main`` when imported (one line each, below). Each
# imports only click at module level (see the module docstring).
from reconciler.cli import adopt as _adopt  # noqa: E402,F401
from reconciler.cli import apply as _apply  # noqa: E402,F401
from reconciler.cli import history as _history  # noqa: E402,F401
from reconciler.cli import org as _org  # noqa: E402,F401
from reconciler.cli import plan as _plan  # noqa: E402,F401
from reconciler.cli import sandbox as _sandbox  # noqa: E402,F401
from reconciler.cli import state as _state  # noqa: E402,F401
from reconciler.cli import validate as _validate  # noqa: E402,F401
