"""`reconciler adopt`: keep the drift, by writing the live values into the series files.

The I/O around ``reconciler.files.adopt.adopt_text``: a plan says which fields drifted (each
change's ``before`` is the live value, canonical), the files are patched, loaded again and
checked to declare exactly the live values in the environment adopted from, and to leave
every other environment's values as they were; only then are they left written. Any
failure puts every file back as it was.

The ids of the folder's series in that environment (state, markers: what the planner
resolves references with) are written back as ``{series: KEY}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.engine.diff import diff_fields
from reconciler.engine.ownership import HELD_NOTE
from reconciler.engine.plan import Action, Plan, SeriesPlan
from reconciler.errors import ValidationFailed
from reconciler.files.adopt import BLOCK, AdoptError, Scope, adopt_text, owning_all, placement
from reconciler.files.loader import LoadResult
from reconciler.model.catalogue import BY_NAME
from reconciler.model.desired import DesiredSeries, Reference
from reconciler.model.ports import FetchResult, Listing, SeriesReader
from reconciler.model.references import reaches, referenced_keys, resolve
from reconciler.model.settings import SANDBOX_ENVIRONMENT, Settings
from reconciler.running import run_async
from reconciler.safefile import write_atomic, write_failure
from reconciler.service import Where, _prepare_sandbox, load_valid
from reconciler.workspace import Workspace


@dataclass(frozen=True)
class Adopted:
    """One series file patched with the live values of ``fields``."""

    key: str
    file: Path
    fields: tuple[str, ...]
    # The fields written in the file's ``reconciler: environments: ENV:`` block.
    in_block: tuple[str, ...] = ()
    environment: str = ""


@dataclass(frozen=True)
class AdoptResult:
    adopted: tuple[Adopted, ...] = ()
    # Said to the user: drift that was not adopted, and why.
    notes: tuple[str, ...] = ()


def adoptable(series: SeriesPlan, *, only: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """The fields of ``series`` to adopt, and notes on those left. Pure.

    Ignored fields never reach the plan's changes, so they are never adopted. A retired
    series' validTillDate is the retirement itself, not drift; nor is a reset of a field the
    file no longer declares (a change with a note): adopting it would undo the removal. A
    field held at its default by ``owns: all`` is drift: its live value is written in.
    """
    fields: list[str] = []
    notes: list[str] = []
    if series.action is not Action.UPDATE:
        return fields, notes
    for change in series.changes:
        if only and change.field not in only:
            continue
        if change.note and change.note != HELD_NOTE:
            # A reset (a removed line, a dependent field): the files' decision, not drift.
            # A held default (owns: all) is drift like any declared value: adopted.
            notes.append(
                f"{series.key}: {change.field} is not adopted: the apply resets it ({change.note})"
            )
            continue
        if series.retire and change.field == "validTillDate":
            notes.append(
                f"{series.key}: validTillDate is set by `retire: true`; not adopted (remove "
                "`retire` first to keep the CRM's date)"
            )
            continue
        fields.append(change.field)
    return fields, notes


def series_path(directory: Path, key: str) -> Path:
    for suffix in (".yaml", ".yml"):
        path = directory / f"{key}{suffix}"
        if path.is_file():
            return path
    raise AdoptError(f"{key}: no file {directory / key}.yaml")


def adopt(
    *,
    directory: Path,
    keys: Sequence[str] = (),
    fields: Sequence[str] = (),
    env: str | None = None,
    sandbox: bool = False,
) -> AdoptResult:
    """Write the live values of drifted fields into the files of ``keys`` (all: every key)."""
    unknown = [f for f in fields if f not in BY_NAME or not BY_NAME[f].writable]
    if unknown:
        raise AdoptError(f"--field names no field a series file can declare: {unknown}")
    loaded = load_valid(directory)
    files = {s.key for s in loaded.series}
    missing = sorted(set(keys) - files)
    if missing:
        raise AdoptError(
            f"no series file for {', '.join(missing)}: adopt writes into existing files "
            "(`reconciler import ID` makes a file for a series that has none)"
        )
    ws = Where(directory, env, sandbox).open(loaded)
    plan, ids = run_async(_plan_and_ids(ws=ws, loaded=loaded, targets=keys))
    return adopt_plan(
        plan=plan, directory=directory, fields=fields, ids=ids, settings=loaded.settings
    )


class _OneListing:
    """A reader that lists the org once: the plan and the key ↔ id map read one listing."""

    def __init__(self, client: SeriesReader) -> None:
        self._client = client
        self._listed: Listing | None = None

    async def get_series(self, ids: Sequence[int]) -> FetchResult:
        return await self._client.get_series(ids)

    async def list_series(self) -> Listing:
        if self._listed is None:
            self._listed = await self._client.list_series()
        return self._listed


async def _plan_and_ids(
    *, ws: Workspace, loaded: LoadResult, targets: Sequence[str]
) -> tuple[Plan, dict[str, int]]:
    """The plan of ``targets``, and the id of every key of the folder known in the
    environment (the state's, a marker's: what the planner resolves references with)."""
    from reconciler.engine.identity import Known, OrgIndex, identify
    from reconciler.engine.planner import build_plan

    async with ws.client() as client:
        await _prepare_sandbox(ws, client, loaded)
        reader = _OneListing(client)
        state = ws.load_state()
        plan = await build_plan(
            loaded=loaded, state=state, client=reader, targets=targets, command=ws.command
        )
        org = OrgIndex.of(await reader.list_series())
    here = loaded.for_environment(ws.name).series
    verdicts = identify(desired={s.key: s.fields for s in here}, state=state, org=org)
    return plan, {k: v.series_id for k, v in verdicts.items() if isinstance(v, Known)}


def scope_of(environment: str, settings: Settings | None) -> Scope:
    """What ``adopt_text`` needs of the settings: the other environments (whose values must
    stay; the embedded sandbox is a playground, not one of them) and this one's defaults."""
    if settings is None:
        return Scope(name=environment)
    others = tuple(
        sorted(n for n in settings.environments if n not in (environment, SANDBOX_ENVIRONMENT))
    )
    defaults = frozenset(settings.environment_defaults.get(environment, {}))
    return Scope(name=environment, others=others, defaults=defaults)


def adopt_plan(
    *,
    plan: Plan,
    directory: Path,
    fields: Sequence[str] = (),
    ids: Mapping[str, int] | None = None,
    settings: Settings | None = None,
) -> AdoptResult:
    """Patch the files with the drift ``plan`` found; check the result; all or nothing.

    ``ids``: the id of each key of the folder in the plan's environment (references);
    ``settings``: the environments whose values the files must keep, and this one's
    defaults (None: one environment, every value at the top level).
    """
    ids = dict(ids or {})
    scope = scope_of(plan.environment, settings)
    notes: list[str] = [f"{b.key}: blocked, not adopted: {b.reason}" for b in plan.blocked]
    work: list[tuple[SeriesPlan, Path, list[str]]] = []
    for series in plan.series:
        chosen, why = adoptable(series, only=fields)
        notes.extend(why)
        if chosen:
            work.append((series, series_path(directory, series.key), chosen))
    if not work:
        return AdoptResult(notes=tuple(notes))
    needs_refs = ids and any(BY_NAME[f].series_ids for _, _, chosen in work for f in chosen)
    original = load_valid(directory) if scope.others or needs_refs else None
    before = _meanings(original, scope.others) if original and scope.others else {}
    written_as = (
        _reference_keys(loaded=original, scope=scope, work=work, ids=ids) if original else {}
    )
    originals: dict[Path, bytes] = {}
    adopted: list[Adopted] = []
    try:
        for series, path, chosen in work:
            raw = path.read_bytes()
            originals[path] = raw
            live = {c.field: c.before for c in series.changes}
            text = raw.decode("utf-8-sig")
            bom = "\ufeff" if raw.startswith(b"\xef\xbb\xbf") else ""
            where = placement(text=text, fields=chosen, scope=scope, file=str(path))
            patched = adopt_text(
                text=text,
                live=live,
                fields=chosen,
                file=str(path),
                scope=scope,
                keys=written_as.get(series.key, {}),
            )
            _write(path, (bom + patched).encode("utf-8"))
            in_block = tuple(f for f in chosen if where[f] == BLOCK)
            adopted.append(Adopted(series.key, path, tuple(chosen), in_block, scope.name))
        _check(directory=directory, work=work, ids=ids, environment=plan.environment)
        if before:
            _check_others(directory=directory, before=before)
    except BaseException:
        for path, raw in originals.items():
            _write(path, raw)
        raise
    return AdoptResult(adopted=tuple(adopted), notes=tuple(notes))


def _reference_keys(
    *,
    loaded: LoadResult,
    scope: Scope,
    work: Sequence[tuple[SeriesPlan, Path, list[str]]],
    ids: Mapping[str, int],
) -> dict[str, dict[int, str]]:
    """For each adopted series, the ids to write as ``{series: KEY}``: ids of the folder's
    series in this environment, except its own and one that would close a cycle (the tool
    refuses a cycle, so exclusion set on both sides in the CRM stays an id on one side)."""
    view = _environment_series(loaded, scope.name)
    key_of = {sid: key for key, sid in ids.items() if key in view}
    edges = {key: set(referenced_keys(series)) for key, series in view.items()}
    out: dict[str, dict[int, str]] = {}
    for series, _, chosen in sorted(work, key=lambda w: w[0].key):
        adopted = {f for f in chosen if BY_NAME[f].series_ids}
        if not adopted:
            continue
        desired = view.get(series.key)
        edges[series.key] = {
            item.key
            for name, items in (desired.references.items() if desired else ())
            if name not in adopted
            for item in items
            if isinstance(item, Reference)
        }
        mine: dict[int, str] = {}
        for change in series.changes:
            if change.field not in adopted or not isinstance(change.before, list):
                continue
            for sid in change.before:
                key = key_of.get(sid) if isinstance(sid, int) else None
                if key is None or key == series.key or reaches(edges, key, series.key):
                    continue
                mine[sid] = key
                edges[series.key].add(key)
        out[series.key] = mine
    return out


def _environment_series(loaded: LoadResult, environment: str) -> dict[str, DesiredSeries]:
    view = loaded.for_environment(environment) if environment else loaded
    return {s.key: s for s in view.series}


_Meaning = dict[str, tuple[Mapping[str, Any], dict[str, tuple[Any, ...]]]]


def _meanings(loaded: LoadResult, environments: Sequence[str]) -> dict[str, _Meaning]:
    """What each environment's series say: their values, their references by key."""
    out: dict[str, _Meaning] = {}
    for name in environments:
        out[name] = {
            key: (
                dict(series.fields),
                {
                    field: tuple(i.key if isinstance(i, Reference) else i for i in items)
                    for field, items in series.references.items()
                },
            )
            for key, series in _environment_series(loaded, name).items()
        }
    return out


def _check_others(*, directory: Path, before: Mapping[str, _Meaning]) -> None:
    """Every other environment reads the values it read before the patch."""
    after = _meanings(load_valid(directory), list(before))
    for name, series in before.items():
        changed = sorted(
            k for k in set(series) | set(after[name]) if series.get(k) != after[name].get(k)
        )
        if changed:
            raise AdoptError(
                f"writing the live values would change environment {name!r} too "
                f"({', '.join(changed)}): nothing was written; adopt by hand"
            )


def _check(
    *,
    directory: Path,
    work: Sequence[tuple[SeriesPlan, Path, list[str]]],
    ids: Mapping[str, int] | None = None,
    environment: str = "",
) -> None:
    """The patched files load, and declare exactly the live values they adopted in the
    environment adopted from (references resolved to its ids)."""
    try:
        loaded = load_valid(directory)
    except ValidationFailed as error:
        raise AdoptError(
            "the live values would make the files invalid; nothing was written:\n"
            + "\n".join(str(p) for p in error.problems if p.is_error)
        ) from None
    by_key = _environment_series(loaded, environment)
    for series, path, chosen in work:
        live: dict[str, Any] = {c.field: c.before for c in series.changes}
        desired = by_key.get(series.key)
        if desired is None:
            raise AdoptError(f"{path}: no longer a series of environment {environment!r}")
        resolved = resolve(desired, ids or {}).series
        left = diff_fields(desired=resolved.fields, live=live, fields=chosen)
        if left:
            names = ", ".join(c.field for c in left)
            raise AdoptError(f"{path}: could not write the live value of {names}; nothing written")


def own_every_field(directory: Path, key: str) -> str:
    """Make the existing file of ``key`` say ``reconciler: owns: all``, as an imported file
    does: a series adopted for it (``import ID --key KEY``) then owns every field with a
    documented default, and the next plan shows what differs. What to tell the user."""
    try:
        path = series_path(directory, key)
        raw = path.read_bytes()
        bom = "\ufeff" if raw.startswith(b"\xef\xbb\xbf") else ""
        patched = owning_all(text=raw.decode("utf-8-sig"), file=str(path))
        if patched is None:
            return ""  # the file says owns: already: its choice stands
        _write(path, (bom + patched).encode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, AdoptError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        return (
            f"; add `owns: all` under `reconciler:` by hand to hold its other fields at their "
            f"documented defaults ({reason})"
        )
    return (
        "; owns: all added to the file: every field with a documented default is held (the "
        "next plan shows what differs)"
    )


def _write(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically: a reader sees the old file or the new one."""
    try:
        write_atomic(path, data)
    except OSError as error:  # a full disk, a size limit: said with the file's name
        raise AdoptError(write_failure(path, error, what="the series file")) from None
