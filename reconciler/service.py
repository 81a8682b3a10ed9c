"""The service functions the CLI calls: one per command, each wiring the layers once.

Each returns a value (a Plan, an ApplyResult, ...) for the CLI to render; none prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reconciler.applier import Applier, Progress, refuse_stale
from reconciler.connect import Target, bootstrap_sandbox_state, open_client, resolve_target
from reconciler.errors import PlanError, ReconcilerError, ValidationFailed
from reconciler.importer import choose_key, file_fields, render_file
from reconciler.loader import LoadResult, validate_directory
from reconciler.plan import Plan, Rails, now_utc, timestamp, with_rails
from reconciler.planner import build_plan
from reconciler.result import ApplyResult
from reconciler.state import StateStore, environment_lock, load_state


def load_valid(directory: Path) -> LoadResult:
    """The series files, or ValidationFailed with every problem: no call is made before."""
    loaded = validate_directory(directory)
    if not loaded.ok:
        raise ValidationFailed(loaded.problems)
    return loaded


def _codes(loaded: LoadResult) -> dict[str, str]:
    return {s.key: str(s.fields.get("discountCode", "")) for s in loaded.series}


def target_for(*, directory: Path, loaded: LoadResult, env: str | None, sandbox: bool) -> Target:
    return resolve_target(directory=directory, settings=loaded.settings, env=env, sandbox=sandbox)


def make_plan(
    *,
    directory: Path,
    env: str | None = None,
    sandbox: bool = False,
    targets: Sequence[str] = (),
    now: datetime | None = None,
) -> Plan:
    loaded = load_valid(directory)
    target = target_for(directory=directory, loaded=loaded, env=env, sandbox=sandbox)

    async def run() -> Plan:
        async with open_client(target) as client:
            state = await bootstrap_sandbox_state(
                target=target, client=client, discount_codes=_codes(loaded)
            )
            return await build_plan(
                loaded=loaded, state=state, client=client, targets=targets, now=now
            )

    plan = asyncio.run(run())
    thresholds = target.environment
    rails = Rails(
        max_update_share=thresholds.max_update_share,
        share_min_series=thresholds.share_min_series,
    )
    # The rails travel with the plan so a reviewer sees them before the merge.
    return with_rails(plan, rails=rails, now=now or now_utc())


def read_plan_file(path: Path) -> Plan:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PlanError(f"cannot read the plan file {path}: {error.strerror}") from None
    return Plan.from_json(text)


@dataclass(frozen=True)
class ApplyRequest:
    directory: Path
    env: str | None = None
    sandbox: bool = False
    plan_file: Path | None = None
    force: bool = False
    parallelism: int | None = None
    targets: Sequence[str] = ()


def apply(
    request: ApplyRequest,
    *,
    confirm: Callable[[Plan], bool],
    on_progress: Callable[[Progress], None] | None = None,
) -> ApplyResult | None:
    """Apply a saved plan, or plan and (once ``confirm`` agrees) apply. None: declined."""
    loaded = load_valid(request.directory)
    target = target_for(
        directory=request.directory, loaded=loaded, env=request.env, sandbox=request.sandbox
    )
    saved = read_plan_file(request.plan_file) if request.plan_file else None
    env = target.environment
    rails = Rails(max_update_share=env.max_update_share, share_min_series=env.share_min_series)

    async def run() -> ApplyResult | None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, stop.set)
            loop.add_signal_handler(signal.SIGTERM, stop.set)
        try:
            with environment_lock(target.state_file):
                async with open_client(target) as client:
                    await bootstrap_sandbox_state(
                        target=target, client=client, discount_codes=_codes(loaded)
                    )
                    store = StateStore(path=target.state_file, environment=target.name)
                    if saved is not None:
                        await refuse_stale(
                            plan=saved, loaded=loaded, client=client, environment=target.name
                        )
                        plan = saved
                    else:
                        plan = await build_plan(
                            loaded=loaded,
                            state=store.state,
                            client=client,
                            targets=request.targets,
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
                        stop=stop,
                    )
                    return await applier.run(rails=rails, force=request.force)
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)
                loop.remove_signal_handler(signal.SIGTERM)

    return asyncio.run(run())


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


@dataclass(frozen=True)
class Imported:
    series_id: int
    key: str
    file: Path | None
    message: str


def import_series(
    *,
    directory: Path,
    ids: Sequence[int],
    env: str | None = None,
    sandbox: bool = False,
    all_fields: bool = False,
    key: str | None = None,
) -> list[Imported]:
    """Fetch series by id, write a file for each, record the ids in the state."""
    if key is not None and len(ids) != 1:
        raise ReconcilerError("--key names the key of one series: give exactly one id with it")
    loaded = load_valid(directory)
    target = target_for(directory=directory, loaded=loaded, env=env, sandbox=sandbox)

    async def run() -> list[Imported]:
        with environment_lock(target.state_file):
            async with open_client(target) as client:
                await bootstrap_sandbox_state(
                    target=target, client=client, discount_codes=_codes(loaded)
                )
                store = StateStore(path=target.state_file, environment=target.name)
                result = await client.get_series(list(ids))
                taken = {s.key for s in loaded.series} | set(store.state.ids)
                out: list[Imported] = []
                for sid in ids:
                    live = result.found.get(sid)
                    if live is None:
                        out.append(Imported(sid, "", None, "not returned by the API: skipped"))
                        continue
                    known = store.state.key_of(sid)
                    if known is not None:
                        out.append(Imported(sid, known, None, f"already managed as {known}"))
                        continue
                    chosen = key or choose_key(live=live, taken=taken)
                    path = directory / f"{chosen}.yaml"
                    has_file = chosen in {s.key for s in loaded.series}
                    if path.exists() or (directory / f"{chosen}.yml").exists():
                        if not (key and has_file):
                            out.append(
                                Imported(sid, chosen, None, f"{path} exists: not overwritten")
                            )
                            continue
                        # Adopting the id an interrupted create made for an existing file.
                        store.record_id(chosen, sid)
                        out.append(Imported(sid, chosen, None, "recorded for the existing file"))
                        continue
                    fields = file_fields(
                        live=live, defaults=loaded.settings.defaults, all_fields=all_fields
                    )
                    header = (
                        f"Imported from environment {target.name!r}, series {sid}, on "
                        f"{timestamp(now_utc())} by `reconciler import`."
                    )
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(render_file(fields=fields, header=header), encoding="utf-8")
                    store.record_id(chosen, sid)
                    taken.add(chosen)
                    out.append(Imported(sid, chosen, path, "written"))
                return out

    return asyncio.run(run())


def state_store(*, directory: Path, env: str | None, sandbox: bool) -> StateStore:
    from reconciler.loader import load_settings

    settings, _problems = load_settings(directory)
    target = resolve_target(directory=directory, settings=settings, env=env, sandbox=sandbox)
    load_state(target.state_file, environment=target.name)  # fail early on a damaged file
    return StateStore(path=target.state_file, environment=target.name)
