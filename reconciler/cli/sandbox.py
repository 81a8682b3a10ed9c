"""``reconciler sandbox``: run the local stand-in for the API, and edit it behind its back."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import click

from reconciler.cli import fail, main
from reconciler.model.settings import DEFAULT_PREFIX


def _db_option(func: Any) -> Any:
    func = click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="SQLite file of the sandbox (default: the one `--sandbox` uses for --dir: "
        "$RECONCILER_SANDBOX_DIR, else .reconciler/sandbox/ beside the series folder).",
    )(func)
    return click.option(
        "--dir",
        "directory",
        default="series",
        show_default=True,
        type=click.Path(path_type=Path, file_okay=False),
        help="Folder of the series files (locates the sandbox `--sandbox` uses).",
    )(func)


def db_path(given: Path | None, directory: Path, *, must_exist: bool = False) -> Path:
    """The database file: ``--db``, else the one ``--sandbox`` uses for ``directory``.

    One rule for every sandbox command (``workspace.sandbox_home``), so ``sandbox edit`` run
    from another folder finds the series ``plan --sandbox`` made instead of a stray database.
    """
    from reconciler.workspace import sandbox_home

    path = given if given is not None else sandbox_home(directory) / "sandbox.db"
    if must_exist and not path.exists():
        fail(
            f"no sandbox database at {path}: run `reconciler plan --sandbox --dir {directory}` "
            "first, or name one with --db"
        )
    return path


def _credential_lines() -> list[str]:
    """Which variables the sandbox reads, and whether each one's default is used; no values."""
    lines = []
    for name in ("USERNAME", "PASSWORD", "OAUTH_KEY", "OAUTH_SECRET"):
        var = f"{DEFAULT_PREFIX}_{name}"
        state = "set" if os.environ.get(var) else "not set, the sandbox default is used"
        lines.append(f"  {var}: {state}")
    return lines


@main.group(
    "sandbox",
    epilog="""\b
Examples:
  reconciler sandbox serve --port 8080 --rate-limit 100 --latency-ms 50
  reconciler sandbox serve --port 0     # a free port, printed
  reconciler sandbox list
  reconciler sandbox edit 520591 description='Edited in the CRM' maxRedeem=5

\b
Exit codes: 0 done, 1 error (serve: the port is in use), 64 usage error,
130 interrupted (serve runs until Ctrl-C).""",
)
def sandbox() -> None:
    """A local sandbox of the coupon series API (loopback only)."""


@sandbox.command("serve")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port on 127.0.0.1 to listen on; 0: a free one (printed).",
)
@_db_option
@click.option("--latency-ms", type=click.IntRange(min=0), default=0, help="Added to every call.")
@click.option(
    "--failure-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    help="Share of calls that fail (503, reset, timeouts).",
)
@click.option(
    "--rate-limit", type=click.IntRange(min=1), default=None, help="Calls per minute before 429."
)
@click.option(
    "--max-batch", type=click.IntRange(min=1), default=None, help="Most ids one GET may ask for."
)
@click.option(
    "--hang-seconds",
    type=click.FloatRange(min=0.0),
    default=60.0,
    show_default=True,
    help="How long a timeout failure hangs.",
)
@click.option(
    "--failure-modes",
    default=None,
    metavar="MODE,...",
    help="Modes --failure-rate draws from (default: all of 503, reset, timeout_before, "
    "timeout_after, 503_after; busy and busy_after only when named).",
)
@click.option(
    "--fail-next",
    "fail_next",
    multiple=True,
    metavar="[METHOD:]MODE",
    help="Script a failure for the next call (of METHOD only, when given); repeatable, "
    "in order. E.g. --fail-next POST:503_after.",
)
@click.option(
    "--post-act-delay",
    type=click.FloatRange(min=0.0),
    default=0.0,
    metavar="SECONDS",
    help="Act on each create this long after receiving it, even if the client is gone.",
)
@click.option(
    "--list-default",
    type=click.Choice(["all", "active"]),
    default="all",
    show_default=True,
    help="What the v1.1 list gives without `expired` (not documented).",
)
@click.option(
    "--list-fails",
    is_flag=True,
    help='Answer the v1.1 list 200 with status.success "false" and no series.',
)
@click.option(
    "--list-hide",
    "list_hide",
    type=int,
    multiple=True,
    metavar="ID",
    help="Leave this series out of the v1.1 list (repeatable).",
)
@click.option(
    "--list-fail-item",
    "list_fail_item",
    type=int,
    multiple=True,
    metavar="ID",
    help='Answer this series in the v1.1 list with item_status.success "false" (repeatable).',
)
@click.option(
    "--list-zone-minutes",
    type=click.IntRange(-840, 840),
    default=330,
    show_default=True,
    help="The server's zone, in minutes from UTC, of the v1.1 list's `created`.",
)
@click.option(
    "--comma-ids",
    type=click.Choice(["refuse", "accept"]),
    default="refuse",
    show_default=True,
    help="GET ?ids=1,2 (no page shows it); ids=1&ids=2 is always taken.",
)
@click.option(
    "--put-without-org-id",
    is_flag=True,
    help="Take a PUT whose body has no orgId (refused by default, as the Update page says).",
)
@click.option(
    "--busy-status",
    type=click.IntRange(400, 599),
    default=400,
    show_default=True,
    help="HTTP status of the busy / busy_after failure modes.",
)
@click.option(
    "--busy-code",
    type=int,
    default=787,
    show_default=True,
    help="API code of busy answers: 748 or 787-798 (not 788, 795).",
)
@click.option("--no-seed", is_flag=True, help="Do not load the docs' two series.")
def serve_command(
    *,
    port: int,
    db: Path | None,
    directory: Path,
    latency_ms: int,
    failure_rate: float,
    rate_limit: int | None,
    max_batch: int | None,
    hang_seconds: float,
    failure_modes: str | None,
    fail_next: tuple[str, ...],
    post_act_delay: float,
    list_default: str,
    list_fails: bool,
    list_hide: tuple[int, ...],
    list_fail_item: tuple[int, ...],
    list_zone_minutes: int,
    comma_ids: str,
    put_without_org_id: bool,
    busy_status: int,
    busy_code: int,
    no_seed: bool,
) -> None:
    """Serve the sandbox on 127.0.0.1 until interrupted.

    The port is taken before anything is printed: a port in use is an error (exit 1), and
    the address printed is the one served (with --port 0, the free port chosen).
    """
    from reconciler.sandbox import FAILURE_MODES, Faults, create_app, serve
    from reconciler.sandbox.accounts import Accounts
    from reconciler.sandbox.server import listen

    path = db_path(db, directory)
    modes = FAILURE_MODES if failure_modes is None else _modes(failure_modes)
    any_method, per_method = _scripted(fail_next)
    try:
        faults = Faults(
            latency_seconds=latency_ms / 1000,
            failure_rate=failure_rate,
            failure_modes=modes,
            fail_next=any_method,
            fail_next_for=per_method,
            rate_limit_per_minute=rate_limit,
            max_batch_size=max_batch,
            hang_seconds=hang_seconds,
            post_act_delay_seconds=post_act_delay,
            list_default="active" if list_default == "active" else "all",
            list_fails=list_fails,
            list_hidden_ids=list_hide,
            list_failed_ids=list_fail_item,
            list_time_offset_minutes=list_zone_minutes,
            comma_ids="accept" if comma_ids == "accept" else "refuse",
            put_requires_org_id=not put_without_org_id,
            busy_status=busy_status,
            busy_code=busy_code,
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    try:
        sock = listen(port=port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            fail(
                f"port {port} on 127.0.0.1 is in use (another sandbox, or another program): "
                "choose another with --port, or --port 0 for a free one"
            )
        fail(f"cannot listen on 127.0.0.1:{port}: {error.strerror or error}")
    try:
        app = create_app(
            db_path=path, credentials=Accounts.from_environment(), faults=faults, seed=not no_seed
        )
        bound = sock.getsockname()[1]
        click.echo(f"Sandbox at http://127.0.0.1:{bound} (database {path})")
        click.echo("Accepts Basic user:md5(password) and OAuth tokens; credentials from:")
        for line in _credential_lines():
            click.echo(line)
        serve(app, host="127.0.0.1", port=bound, sock=sock, log_level="warning")
    finally:
        sock.close()


def _modes(text: str) -> tuple[str, ...]:
    return tuple(m.strip() for m in text.split(",") if m.strip())


def _scripted(items: tuple[str, ...]) -> tuple[list[str], dict[str, list[str]]]:
    """``--fail-next`` values split into failures for any call and failures per method."""
    any_method: list[str] = []
    per_method: dict[str, list[str]] = {}
    for item in items:
        method, sep, mode = item.rpartition(":")
        if sep and method.strip():
            per_method.setdefault(method.strip().upper(), []).append(mode.strip())
        else:
            any_method.append(mode.strip())
    return any_method, per_method


@sandbox.command("list")
@_db_option
def list_command(*, db: Path | None, directory: Path) -> None:
    """List the series in the sandbox's database: id, seriesCode, description."""
    from reconciler.sandbox.store import SeriesStore

    store = SeriesStore(path=db_path(db, directory, must_exist=True))
    try:
        for doc in store.all():
            click.echo(
                f"{doc.get('id')}\t{doc.get('seriesCode', '')}\t{doc.get('validTillDate', '')}"
                f"\t{doc.get('description', '')}"
            )
    finally:
        store.close()


def parse_assignment(text: str) -> tuple[str, Any]:
    """``FIELD=VALUE``; the value is JSON when it parses as JSON, else the text itself."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise click.BadParameter(f"expected FIELD=VALUE, got {text!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


@sandbox.command("edit")
@click.argument("series_id", type=int)
@click.argument("assignments", nargs=-1, required=True)
@_db_option
def edit_command(
    *, series_id: int, assignments: tuple[str, ...], db: Path | None, directory: Path
) -> None:
    """Change a series in the database behind the API's back (as the CRM's screens would).

    Each ASSIGNMENT is FIELD=VALUE; VALUE is read as JSON when it parses (5, true, null,
    "[1]"), else as text. null removes the field.
    """
    from reconciler.sandbox.app import edit_stored_series
    from reconciler.sandbox.store import SeriesStore

    changes = dict(parse_assignment(a) for a in assignments)
    store = SeriesStore(path=db_path(db, directory, must_exist=True))
    try:
        doc = edit_stored_series(store, series_id=series_id, changes=changes)
    except KeyError:
        fail(f"no series {series_id} in {store.path}")
        return
    except ValueError as error:
        fail(str(error))
        return
    finally:
        store.close()
    for name in changes:
        click.echo(f"{series_id}: {name} = {json.dumps(doc.get(name))}")
