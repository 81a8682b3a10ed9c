"""The service functions the CLI calls: one per command, each wiring the layers once.

Each opens one ``Workspace`` (where the command talks to) and returns a value (a Plan, an
ApplyResult, rows...) for the CLI to render; none prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.engine.plan import Plan, Rails, with_rails
from reconciler.engine.state import State, replace_state, save_state
from reconciler.errors import PlanError, ReconcilerError, ValidationFailed
from reconciler.files.loader import LoadResult, load_settings, validate_directory
from reconciler.model.canonical import now_utc, timestamp
from reconciler.workspace import Workspace

if TYPE_CHECKING:
    from reconciler.client import ClientEvent, CouponClient
    from reconciler.engine.applier import Progress
    from reconciler.engine.result import ApplyResult
    from reconciler.engine.state import StateStore
    from reconciler.model.ports import Listing


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

    def open(self, loaded: LoadResult | None = None) -> Workspace:
        settings = loaded.settings if loaded is not None else load_settings(self.directory)[0]
        return Workspace.open(
            directory=self.directory,
            settings=settings,
            env=self.env,
            sandbox=self.sandbox,
            trusted_settings=self.trusted_settings,
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
) -> Plan:
    """The plan of ``directory`` against an environment; ``digests``: see ``build_plan``."""
    from reconciler.engine.planner import build_plan

    loaded = load_valid(directory)
    ws = Where(directory, env, sandbox, trusted_settings).open(loaded)

    async def run() -> Plan:
        async with ws.client(on_event=on_event) as client:
            await _prepare_sandbox(ws, client, loaded)
            return await build_plan(
                loaded=loaded,
                state=ws.load_state(),
                client=client,
                targets=targets,
                now=now,
                command=ws.command,
                digests=digests,
            )

    plan = asyncio.run(run())
    thresholds = ws.environment
    rails = Rails(
        max_update_share=thresholds.max_update_share,
        share_min_series=thresholds.share_min_series,
    )
    # The rails travel with the plan so a reviewer sees them before the merge.
    return with_rails(plan, rails=rails, now=now or now_utc())


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


def apply(
    request: ApplyRequest,
    *,
    confirm: Callable[[Plan], bool],
    on_progress: Callable[[Progress], None] | None = None,
    on_message: Callable[[str], None] | None = None,
    on_event: Callable[[ClientEvent], None] | None = None,
) -> ApplyResult | None:
    """Apply a saved plan, or plan and (once ``confirm`` agrees) apply. None: declined."""
    from reconciler.engine.applier import Applier, refuse_stale
    from reconciler.engine.planner import build_plan

    loaded = load_valid(request.directory)
    where = Where(request.directory, request.env, request.sandbox, request.trusted_settings)
    ws = where.open(loaded)
    saved = read_plan_file(request.plan_file) if request.plan_file else None
    env = ws.environment
    rails = Rails(max_update_share=env.max_update_share, share_min_series=env.share_min_series)

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
                    if saved is not None:
                        await until_stopped(
                            refuse_stale(
                                plan=saved, loaded=loaded, client=client, environment=ws.name
                            ),
                            stop=stop,
                        )
                        plan = saved
                    else:
                        plan = await until_stopped(
                            build_plan(
                                loaded=loaded,
                                state=store.state,
                                client=client,
                                targets=request.targets,
                                command=ws.command,
                                digests=False,  # applied now: only the updates' are checked
                            ),
                            stop=stop,
                        )
                        if plan.has_changes and not _ask(confirm, plan, loop=loop, stop=stop):
                            return None
                    applier = Applier(
                        plan=plan,
                        loaded=loaded,
                        store=store,
                        client=client,
                        parallelism=request.parallelism or env.parallelism,
                        on_progress=on_progress,
                        on_message=on_message,
                        stop=stop,
                        settle_seconds=env.create_settle_seconds,
                        command=ws.command,
                    )
                    return await applier.run(rails=rails, force=request.force)
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)
                loop.remove_signal_handler(signal.SIGTERM)

    try:
        return asyncio.run(run())
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

    return asyncio.run(run())


# ---------------------------------------------------------------------------- import


@dataclass(frozen=True)
class Imported:
    series_id: int
    key: str
    file: Path | None
    message: str


def import_series(
    *,
    directory: Path,
    ids: Sequence[int] = (),
    env: str | None = None,
    sandbox: bool = False,
    all_fields: bool = False,
    key: str | None = None,
    all_unmanaged: bool = False,
) -> list[Imported]:
    """Fetch series by id (or every unmanaged one), write a file for each, record the ids."""
    if key is not None and len(ids) != 1:
        raise ReconcilerError("--key names the key of one series: give exactly one id with it")
    if all_unmanaged and (ids or key):
        raise ReconcilerError("--all-unmanaged takes no id and no --key")
    if not all_unmanaged and not ids:
        raise ReconcilerError("name the ids to import, or --all-unmanaged")
    loaded = load_valid(directory)
    ws = Where(directory, env, sandbox).open(loaded)

    async def run() -> list[Imported]:
        async with ws.client() as client:
            await _prepare_sandbox(ws, client, loaded)
            with ws.writing() as store:
                wanted = list(ids)
                if all_unmanaged:
                    rows = await _org_rows(ws, client, loaded, store.state)
                    wanted = [r.series_id for r in rows if not r.key]
                if not wanted:
                    return []
                claims = _file_claims(loaded, store.state, await client.list_series())
                result = await client.get_series(wanted)
                # Two passes: every key first, then the files, so that a series naming
                # another one of this run names it by key whichever comes first.
                chosen: dict[int, Imported | _Pending] = {}
                taken = {s.key for s in loaded.series} | set(store.state.ids)
                for sid in wanted:
                    chosen[sid] = _import_key(
                        store=store,
                        loaded=loaded,
                        directory=ws.directory,
                        series_id=sid,
                        live=result.found.get(sid),
                        key=key,
                        taken=taken,
                        claim=claims.get(sid),
                        ws=ws,
                    )
                pending = [p for p in chosen.values() if isinstance(p, _Pending)]
                named = _names_by_key(loaded=loaded, state=store.state, pending=pending)
                return [
                    item
                    if isinstance(item, Imported)
                    else _import_one(
                        ws=ws,
                        store=store,
                        loaded=loaded,
                        pending=item,
                        all_fields=all_fields,
                        keys=named.get(item.key, {}),
                    )
                    for item in chosen.values()
                ]

    return asyncio.run(run())


@dataclass(frozen=True)
class _Claim:
    """The files without an id that declare a series' discountCode; ``decided`` when one
    file declares it and no other series (so the series is that file's)."""

    keys: tuple[str, ...]
    decided: bool


def _file_claims(loaded: LoadResult, state: State, listed: Listing) -> dict[int, _Claim]:
    """Which files without an id declare each listed series, by identity's rules (a marker,
    or a look-alike: the same discountCode and genericCode).

    Importing such a series must record its id for that file, never write a second file
    declaring the same discountCode (which the next plan would block, or a create repeat).
    """
    from reconciler.engine.identity import How, Known, Lookalike, OrgIndex, identify

    org = OrgIndex.of(listed)
    desired = {s.key: s.fields for s in loaded.series if s.key not in state.ids}
    claims: dict[int, list[str]] = {}
    claimed: dict[str, int] = {}
    for file_key, verdict in identify(desired=desired, state=state, org=org).items():
        if isinstance(verdict, Known) and verdict.how is not How.STATE:
            sids: tuple[int, ...] = (verdict.series_id,)
        elif isinstance(verdict, Lookalike):
            code = str(desired[file_key].get("discountCode") or "").strip()
            sids = tuple(i for i in verdict.series_ids if org.by_id[i].discount_code == code)
        else:
            continue
        claimed[file_key] = len(sids)
        for sid in sids:
            claims.setdefault(sid, []).append(file_key)
    return {
        sid: _Claim(keys=tuple(sorted(keys)), decided=len(keys) == 1 and claimed[keys[0]] == 1)
        for sid, keys in claims.items()
    }


@dataclass(frozen=True)
class _Pending:
    """A series the import writes a file for: its key chosen, the file not written yet."""

    series_id: int
    key: str
    path: Path
    live: dict[str, Any]


def _names_by_key(
    *, loaded: LoadResult, state: State, pending: Sequence[_Pending]
) -> dict[str, dict[int, str]]:
    """For each file to write, the ids it names by key: those of the series the folder
    manages and of every series this run imports, except its own and one that would close
    a cycle (a cycle is refused; exclusion set on both sides stays an id on the second)."""
    from reconciler.model.canonical import to_friendly
    from reconciler.model.catalogue import FIELDS
    from reconciler.model.references import reaches, referenced_keys

    files = {s.key for s in loaded.series}
    key_of = {sid: k for k, sid in state.ids.items() if k in files}
    key_of.update({p.series_id: p.key for p in pending})
    edges: dict[str, set[str]] = {s.key: set(referenced_keys(s)) for s in loaded.series}
    out: dict[str, dict[int, str]] = {}
    for item in pending:
        edges[item.key] = set()
        mine: dict[int, str] = {}
        for spec in FIELDS:
            listed = to_friendly(spec.name, item.live.get(spec.name)) if spec.series_ids else None
            for sid in listed if isinstance(listed, list) else ():
                key = key_of.get(sid) if isinstance(sid, int) else None
                if key is None or key == item.key or reaches(edges, key, item.key):
                    continue
                mine[sid] = key
                edges[item.key].add(key)
        out[item.key] = mine
    return out


def _import_key(
    *,
    store: StateStore,
    loaded: LoadResult,
    directory: Path,
    series_id: int,
    live: dict[str, Any] | None,
    key: str | None,
    taken: set[str],
    claim: _Claim | None = None,
    ws: Workspace,
) -> Imported | _Pending:
    """The first pass: the key of one series (added to ``taken``), or what stops its import.

    A series that a file already declares (its marker, or its discountCode) is recorded for
    that file, never written as a second file declaring the same discountCode.
    """
    from reconciler.files.importer import choose_key

    if live is None:
        return Imported(series_id, "", None, "not returned by the API: skipped")
    known = store.state.key_of(series_id)
    if known is not None:
        return Imported(series_id, known, None, f"already managed as {known}")
    if key is None and claim is not None:
        return _adopt_for_file(ws=ws, store=store, series_id=series_id, claim=claim)
    files = {s.key for s in loaded.series}
    chosen = key or choose_key(live=live, taken=taken)
    path = directory / f"{chosen}.yaml"
    if path.exists() or (directory / f"{chosen}.yml").exists():
        if not (key and chosen in files):
            return Imported(series_id, chosen, None, f"{path} exists: not overwritten")
        # Adopting an existing series (an interrupted create's, or a look-alike) for a file.
        store.record_id(chosen, series_id)
        return Imported(series_id, chosen, None, "recorded for the existing file")
    taken.add(chosen)
    return _Pending(series_id, chosen, path, live)


def _import_one(
    *,
    ws: Workspace,
    store: StateStore,
    loaded: LoadResult,
    pending: _Pending,
    all_fields: bool,
    keys: dict[int, str],
) -> Imported:
    """The second pass: write one file. ``keys`` maps ids to the keys its series-id fields
    name them by (``_names_by_key``): the file then works in every environment; other ids
    stay ids."""
    from reconciler.files.importer import file_fields, render_file

    series_id, chosen, path = pending.series_id, pending.key, pending.path
    fields = file_fields(
        live=pending.live,
        defaults=loaded.settings.defaults_in(ws.name),
        all_fields=all_fields,
        keys=keys,
    )
    header = (
        f"Imported from environment {ws.name!r}, series {series_id}, on "
        f"{timestamp(now_utc())} by `reconciler import`."
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_file(fields=fields, header=header), encoding="utf-8")
    except OSError as error:
        return Imported(series_id, chosen, None, f"cannot write {path}: {error.strerror}")
    store.record_id(chosen, series_id)
    # What the written file declares (its fields and the settings' defaults, as the loader
    # merges them): the file matches the CRM now, so a line deleted later is a reset.
    store.record_fields(chosen, tuple(sorted({*fields, *loaded.settings.defaults_in(ws.name)})))
    return Imported(series_id, chosen, path, "written")


def _adopt_for_file(*, ws: Workspace, store: StateStore, series_id: int, claim: _Claim) -> Imported:
    """Record ``series_id`` for the one file that declares it, or say who must choose."""
    owner = claim.keys[0]
    if claim.decided and owner not in store.state.ids:
        store.record_id(owner, series_id)
        return Imported(
            series_id, owner, None, "recorded for the existing file that declares its discountCode"
        )
    files = ", ".join(claim.keys)
    return Imported(
        series_id,
        "",
        None,
        f"not imported: {files} declare(s) its discountCode, which other series share too; "
        f"adopt the right one with `{ws.command(f'import ID --key {owner}')}`",
    )


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

    return asyncio.run(run())
