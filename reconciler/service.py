"""The service functions the CLI calls: one per command, each wiring the layers once.

Each opens one ``Workspace`` (where the command talks to) and returns a value (a Plan, an
ApplyResult, rows...) for the CLI to render; none prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.engine.plan import Plan, Rails, with_rails
from reconciler.engine.state import State, replace_state, save_state
from reconciler.errors import (
    ConfigError,
    PlanError,
    PlanMismatch,
    ReconcilerError,
    StalePlan,
    ValidationFailed,
)
from reconciler.files.loader import LoadResult, load_settings, validate_directory
from reconciler.model.canonical import now_utc
from reconciler.model.settings import DEFAULT_ENVIRONMENT, SANDBOX_ENVIRONMENT, Settings
from reconciler.review_service import Review, enforce_policy, recorded, reviewed_plan
from reconciler.running import run_async
from reconciler.workspace import Workspace

if TYPE_CHECKING:
    from reconciler.client import ClientEvent, CouponClient
    from reconciler.engine.applier import Progress
    from reconciler.engine.result import ApplyResult
    from reconciler.engine.scope import ChangeScope
    from reconciler.engine.state import StateStore


@contextlib.contextmanager
def heap_settled() -> Iterator[None]:
    """The loaded series (a million objects at 10,000 files) left out of the cycle
    collector's full passes while a plan or an apply runs: they live until it ends, and each
    pass would walk them all again (a tenth of a 10,000-series plan's CPU). Released after."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


T = TypeVar("T")


def load_valid(directory: Path) -> LoadResult:
    """The series files, or ValidationFailed with every problem: no call is made before."""
    loaded = validate_directory(directory)
    if not loaded.ok:
        raise ValidationFailed(loaded.problems)
    return loaded


@dataclass(frozen=True)
class Where:
    """What a command was told about where to talk to (``--dir``, ``--env | --sandbox``)."""

    directory: Path
    env: str | None = None
    sandbox: bool = False
    trusted_settings: Path | None = None
    base_url: str | None = None  # --base-url

    def open(self, loaded: LoadResult | None = None) -> Workspace:
        settings = loaded.settings if loaded is not None else load_settings(self.directory)[0]
        return self.open_settings(settings)

    def open_settings(self, settings: Settings) -> Workspace:
        return Workspace.open(
            directory=self.directory,
            settings=settings,
            env=self.env,
            sandbox=self.sandbox,
            trusted_settings=self.trusted_settings,
            base_url=self.base_url,
        )


async def _prepare_sandbox(ws: Workspace, client: CouponClient, loaded: LoadResult) -> None:
    """On the sandbox's first use, adopt the seeded series the files declare (the demo).

    So that a first ``plan --sandbox`` shows updates and unchanged series as well as creates,
    a seeded series (the docs' examples) whose discountCode a file declares is recorded under
    that file's key. Real environments never do this: identity comes from markers and import.
    """
    if not ws.sandbox_is_new:
        return
    here = loaded.for_environment(ws.name).series
    by_code = {str(s.fields.get("discountCode", "")): s.key for s in here}
    state = State(environment=ws.name)
    for series in (await client.list_series()).series:
        key = by_code.get(series.discount_code)
        if key and key not in state.ids:
            state = state.with_id(key, series.series_id)
    save_state(ws.state_file, state)


# ---------------------------------------------------------------------------- plan


def make_plan(
    *,
    directory: Path,
    env: str | None = None,
    sandbox: bool = False,
    targets: Sequence[str] = (),
    now: datetime | None = None,
    trusted_settings: Path | None = None,
    on_event: Callable[[ClientEvent], None] | None = None,
    digests: bool = True,
    base_url: str | None = None,
    review: Review | None = None,
    changed_since: str | None = None,
) -> Plan:
    """The plan of ``directory`` against an environment; ``digests``: see ``build_plan``.

    ``changed_since``: a plan of the series changed since that git revision (and those they
    name), reading only their files (``scope_service``).
    """
    from reconciler.early_service import files_and_reader, open_early
    from reconciler.engine.planner import build_plan

    where = Where(directory, env, sandbox, trusted_settings, base_url)
    scope = None
    loaded: LoadResult | None = None
    if changed_since is not None:
        from reconciler.scope_service import load_scoped

        if targets:
            raise ConfigError("--target and --changed-since cannot be used together")
        loaded, scope = load_scoped(directory, changed_since)
    elif targets:
        loaded = load_valid(directory)
    early = None if loaded is not None else open_early(where)
    if early is None and loaded is None:
        loaded = load_valid(directory)
    ws = early.ws if early is not None else where.open(loaded)

    async def run() -> tuple[Plan, LoadResult]:
        async with (
            ws.client(on_event=on_event) as client,
            files_and_reader(early, loaded, client=client) as (files, reader),
        ):
            await _prepare_sandbox(ws, client, files)
            plan = await build_plan(
                loaded=files,
                state=early.state if early is not None else ws.load_state(),
                client=reader,
                targets=targets,
                now=now,
                command=ws.command,
                digests=digests,
                scope=scope,
            )
            return plan, files

    with heap_settled():
        plan, loaded = run_async(run())
    thresholds = ws.environment
    rails = Rails(
        max_update_share=thresholds.max_update_share,
        share_min_series=thresholds.share_min_series,
    )
    # The rails travel with the plan so a reviewer sees them before the merge.
    plan = with_rails(plan, rails=rails, now=now or now_utc())
    # So do the policy's findings (review_service; the apply enforces them on its own plan).
    return reviewed_plan(plan, loaded=loaded, review=review or Review())


def read_plan_file(path: Path) -> Plan:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        why = getattr(error, "strerror", None) or str(error)
        raise PlanError(f"cannot read the plan file {path}: {why}") from None
    return Plan.from_json(text)


# ---------------------------------------------------------------------------- apply


@dataclass(frozen=True)
class ApplyRequest:
    directory: Path
    env: str | None = None
    sandbox: bool = False
    plan_file: Path | None = None
    force: bool = False
    parallelism: int | None = None
    targets: Sequence[str] = ()
    trusted_settings: Path | None = None
    base_url: str | None = None  # --base-url
    review: Review = field(default_factory=Review)
    changed_since: str | None = None  # --changed-since: the commit the change is measured from


def apply(
    request: ApplyRequest,
    *,
    confirm: Callable[[Plan], bool],
    on_progress: Callable[[Progress], None] | None = None,
    on_message: Callable[[str], None] | None = None,
    on_event: Callable[[ClientEvent], None] | None = None,
) -> ApplyResult | None:
    """Plan now and (once ``confirm`` agrees) apply; with a reviewed plan file, plan now and
    apply only when the two plans do the same (``compare.differences``). None: declined.

    What is written always comes from the plan made here, from the files, the state and the
    live CRM: a plan file is compared, never applied as written.
    """
    from reconciler.engine.applier import Applier
    from reconciler.engine.compare import check_fresh, differences
    from reconciler.engine.planner import build_plan

    reviewed = read_plan_file(request.plan_file) if request.plan_file else None
    loaded = load_valid(request.directory)
    env, sandbox, targets = _reviewed_target(request, reviewed, loaded)
    scope = _apply_scope(request, reviewed, loaded)
    where = Where(request.directory, env, sandbox, request.trusted_settings, request.base_url)
    ws = where.open(loaded)
    if reviewed is not None:
        # The cheap first gate, before any call: this tool, this environment, these files.
        stale = check_fresh(plan=reviewed, digest=loaded.digest, environment=ws.name)
        if stale:
            raise StalePlan(stale)
    thresholds = ws.environment
    rails = Rails(
        max_update_share=thresholds.max_update_share,
        share_min_series=thresholds.share_min_series,
    )

    async def run() -> ApplyResult | None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, stop.set)
            loop.add_signal_handler(signal.SIGTERM, stop.set)
        try:
            async with ws.client(on_event=on_event) as client:
                await _prepare_sandbox(ws, client, loaded)
                with ws.writing() as store:
                    plan = await until_stopped(
                        build_plan(
                            loaded=loaded,
                            state=store.state,
                            client=client,
                            targets=() if scope is not None else targets,
                            command=ws.command,
                            # Compared with a reviewed plan: every series' live digest; else
                            # applied now: only the updates' are checked.
                            digests=reviewed is not None,
                            scope=scope,
                        ),
                        stop=stop,
                    )
                    if reviewed is not None:
                        plan = with_rails(plan, rails=rails, now=now_utc())
                        found = differences(reviewed=reviewed, now=plan)
                        if found:
                            raise PlanMismatch([d.line() for d in found])
                    # Shown with the policy's findings (enforced below, on this plan).
                    plan = reviewed_plan(plan, loaded=loaded, review=request.review)
                    asked = reviewed is None and plan.has_changes
                    if asked and not _ask(confirm, plan, loop=loop, stop=stop):
                        return None

                    def applier(progress: Callable[[Progress], None] | None) -> Applier:
                        return Applier(
                            plan=plan,
                            loaded=loaded,
                            store=store,
                            client=client,
                            parallelism=request.parallelism or thresholds.parallelism,
                            on_progress=progress,
                            on_message=on_message,
                            stop=stop,
                            settle_seconds=thresholds.create_settle_seconds,
                            command=ws.command,
                        )

                    # One ledger record per apply (review_service.recorded), after the one
                    # policy check, made on this plan: the plan that is applied (never a
                    # plan file's own findings).
                    return await recorded(
                        lambda progress: applier(progress).run(rails=rails, force=request.force),
                        check=lambda: enforce_policy(plan, loaded=loaded, review=request.review),
                        ws=ws,
                        plan=plan,
                        on_progress=on_progress,
                        plan_file=request.plan_file,
                    )
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)
                loop.remove_signal_handler(signal.SIGTERM)

    try:
        with heap_settled():
            return run_async(run())
    except _Stopped:
        # Ctrl-C or SIGTERM before the first write: nothing to finish, so the usual
        # interruption (exit 130) rather than an apply result.
        raise KeyboardInterrupt from None


class _Stopped(Exception):
    """A stop request (Ctrl-C, SIGTERM) came while planning, before any write."""


async def until_stopped(work: Coroutine[Any, Any, T], *, stop: asyncio.Event) -> T:
    """``work``'s result, or ``_Stopped`` as soon as ``stop`` is set (``work`` cancelled).

    The loop's signal handlers only set ``stop`` (so that a running apply finishes its
    calls); while planning nothing is written yet, so a stop ends the command at once,
    whatever the plan waits for (a silent server, the rate limit, a retry).
    """
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.cancelled():
        raise _Stopped
    return task.result()


def _reviewed_target(
    request: ApplyRequest, reviewed: Plan | None, loaded: LoadResult
) -> tuple[str | None, bool, tuple[str, ...]]:
    """Where an apply goes and what it covers: the flags, or a reviewed plan's environment
    and targets. A flag that names another environment (or other targets) than the reviewed
    plan is refused before anything is read from the CRM."""
    if reviewed is None:
        return request.env, request.sandbox, tuple(request.targets)
    planned = reviewed.environment
    in_sandbox = planned == SANDBOX_ENVIRONMENT
    if request.sandbox and not in_sandbox:
        raise ConfigError(
            f"--sandbox, but the plan file was made for environment {planned!r}: apply it "
            "without --sandbox (it goes to that environment), or plan on the sandbox"
        )
    if request.env and request.env != planned:
        raise ConfigError(
            f"--env {request.env}, but the plan file was made for environment {planned!r}: "
            "leave --env out to apply it there, or make a plan for "
            f"{request.env!r} and review that one"
        )
    if request.targets and sorted(set(request.targets)) != sorted(reviewed.targets):
        shown = ", ".join(reviewed.targets) or "none: the whole folder"
        raise ConfigError(
            f"--target names other keys than the plan file's targets ({shown}): leave "
            "--target out, or make a plan with these targets and review that one"
        )
    if in_sandbox:
        return None, True, reviewed.targets
    unnamed = planned == DEFAULT_ENVIRONMENT and not loaded.settings.environments
    return (None if unnamed else planned), False, reviewed.targets


def _apply_scope(
    request: ApplyRequest, reviewed: Plan | None, loaded: LoadResult
) -> ChangeScope | None:
    """The scope an apply rebuilds: the reviewed plan's (checked, with ``--changed-since``,
    to cover what changed since that commit: before any call), else the one of
    ``--changed-since``, else none."""
    from reconciler.scope_service import check_covered, scope_of

    if request.changed_since is None:
        return reviewed.scope if reviewed is not None else None
    if request.targets and reviewed is None:
        raise ConfigError("--target and --changed-since cannot be used together")
    if reviewed is None:
        from reconciler.files.changes import changed_since

        return scope_of(changed_since(request.directory, request.changed_since), loaded)
    check_covered(
        reviewed=reviewed,
        directory=request.directory,
        revision=request.changed_since,
        loaded=loaded,
    )
    return reviewed.scope


def _ask(
    confirm: Callable[[Plan], bool],
    plan: Plan,
    *,
    loop: asyncio.AbstractEventLoop,
    stop: asyncio.Event,
) -> bool:
    """``confirm(plan)`` with Ctrl-C working as usual (KeyboardInterrupt) while it waits.

    ``confirm`` blocks the event loop, so the loop's SIGINT handler would only set ``stop``
    once the question was answered: Ctrl-C at the prompt did nothing, and a "y" typed after
    it still started the apply (and then reported it interrupted).
    """
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.remove_signal_handler(signal.SIGINT)
    try:
        return confirm(plan)
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, stop.set)


# ---------------------------------------------------------------------------- the org


@dataclass(frozen=True)
class OrgSeries:
    """One live series of the org, as ``reconciler list`` shows it."""

    series_id: int
    series_code: str
    discount_code: str
    description: str
    valid_till: str
    key: str  # the key that manages it, "" when unmanaged
    how: str  # "state", "marker", or "" (unmanaged)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.series_id,
            "seriesCode": self.series_code,
            "discountCode": self.discount_code,
            "description": self.description,
            "validTillDate": self.valid_till,
            "key": self.key or None,
            "managed_by": self.how or None,
        }


async def _org_rows(
    ws: Workspace, client: CouponClient, loaded: LoadResult, state: State
) -> list[OrgSeries]:
    from reconciler.engine.identity import OrgIndex, managing_keys

    org = OrgIndex.of(await client.list_series())
    desired = {s.key: s.fields for s in loaded.for_environment(ws.name).series}
    owners = managing_keys(desired=desired, state=state, org=org)
    rows = []
    for s in sorted(org.series, key=lambda x: x.series_id):
        key = owners.get(s.series_id, "")
        how = "" if not key else ("state" if state.ids.get(key) == s.series_id else "marker")
        rows.append(
            OrgSeries(
                series_id=s.series_id,
                series_code=s.series_code,
                discount_code=s.discount_code,
                description=s.description,
                valid_till=s.valid_till,
                key=key,
                how=how,
            )
        )
    return rows


def list_org(
    *, directory: Path, env: str | None = None, sandbox: bool = False, unmanaged: bool = False
) -> list[OrgSeries]:
    """Every live series of the org, with the key that manages it (or none)."""
    loaded = load_valid(directory)
    ws = Where(directory, env, sandbox).open(loaded)

    async def run() -> list[OrgSeries]:
        async with ws.client() as client:
            await _prepare_sandbox(ws, client, loaded)
            rows = await _org_rows(ws, client, loaded, ws.load_state())
        return [r for r in rows if not r.key] if unmanaged else rows

    return run_async(run())


# ---------------------------------------------------------------------------- state


def edit_state(
    *, directory: Path, env: str | None, sandbox: bool, change: Callable[[StateStore], Any]
) -> tuple[Workspace, Any]:
    """Change the state under the environment's lock (never beside a running apply)."""
    ws = Where(directory, env, sandbox).open()
    with ws.writing() as store:
        return ws, change(store)


def read_state(*, directory: Path, env: str | None, sandbox: bool) -> tuple[Workspace, State]:
    ws = Where(directory, env, sandbox).open()
    return ws, ws.load_state()


@dataclass(frozen=True)
class Rebuilt:
    """What ``state rebuild`` found: the new state, and what it could not decide."""

    state: State
    path: Path
    found: tuple[tuple[str, int, str], ...]  # key, id, how
    undecided: tuple[tuple[str, str], ...]  # key, why
    kept_intents: tuple[str, ...]
    written: bool


def rebuild_state(
    *, directory: Path, env: str | None = None, sandbox: bool = False, dry_run: bool = False
) -> Rebuilt:
    """The state of an environment recovered from the live org: markers and unique matches.

    The old file is not read (it may be damaged or conflicted), except its journal and intents
    when they can be read: an intent is the only record of a create that may still land.
    """
    from reconciler.engine.identity import How, Known, Lookalike, OrgIndex, identify

    loaded = load_valid(directory)
    ws = Where(directory, env, sandbox).open(loaded)

    async def run() -> Rebuilt:
        try:
            old = ws.load_state()
        except ReconcilerError:
            old = State(environment=ws.name)
        blank = State(environment=ws.name, intents=old.intents)
        async with ws.client() as client:
            org = OrgIndex.of(await client.list_series())
            desired = {s.key: s.fields for s in loaded.for_environment(ws.name).series}
            verdicts = identify(desired=desired, state=blank, org=org)
            state = blank
            found: list[tuple[str, int, str]] = []
            undecided: list[tuple[str, str]] = []
            for key, verdict in sorted(verdicts.items()):
                if isinstance(verdict, Known):
                    state = state.with_id(key, verdict.series_id)
                    # Found by an intent: its marker was never set; the next apply sets it.
                    state = state.with_unmarked(key, unmarked=verdict.how is How.INTENT)
                    found.append((key, verdict.series_id, verdict.how.value))
                elif isinstance(verdict, Lookalike) and len(verdict.series_ids) == 1:
                    sid = verdict.series_ids[0]
                    # Adopted by its discountCode: its seriesCode may be used elsewhere, so it
                    # gets no marker (a later lost state shows it blocked, never a create).
                    state = state.with_id(key, sid)
                    found.append((key, sid, "discountCode"))
                elif isinstance(verdict, Lookalike):
                    undecided.append((key, verdict.reason))
            kept = tuple(sorted(state.intents))
            if not dry_run:
                with ws.lock():
                    replace_state(ws.state_file, state)
            return Rebuilt(
                state=state,
                path=ws.state_file,
                found=tuple(found),
                undecided=tuple(undecided),
                kept_intents=kept,
                written=not dry_run,
            )

    return run_async(run())
