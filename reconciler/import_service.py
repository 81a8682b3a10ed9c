"""``reconciler import``: adopt existing series, a file each, their ids recorded.

A series a file already declares (its marker, or its discountCode alone) is recorded for that
file instead of getting a second file; every other one gets a file written from its live
fields (``files/importer.py``), naming the folder's other series by key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.engine.state import State
from reconciler.errors import ReconcilerError
from reconciler.files.loader import LoadResult
from reconciler.model.canonical import now_utc, timestamp
from reconciler.running import run_async
from reconciler.service import Where, _org_rows, _prepare_sandbox, load_valid
from reconciler.workspace import Workspace

if TYPE_CHECKING:
    from reconciler.engine.state import StateStore
    from reconciler.model.ports import Listing


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
    base_url: str | None = None,
) -> list[Imported]:
    """Fetch series by id (or every unmanaged one), write a file for each, record the ids."""
    if key is not None and len(ids) != 1:
        raise ReconcilerError("--key names the key of one series: give exactly one id with it")
    if all_unmanaged and (ids or key):
        raise ReconcilerError("--all-unmanaged takes no id and no --key")
    if not all_unmanaged and not ids:
        raise ReconcilerError("name the ids to import, or --all-unmanaged")
    loaded = load_valid(directory)
    ws = Where(directory, env, sandbox, base_url=base_url).open(loaded)

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

    return run_async(run())


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
        # Adopting an existing series (an interrupted create's, or a look-alike) for a file:
        # it owns every defaulted field, as an imported one does.
        from reconciler.adopt_service import own_every_field

        store.record_id(chosen, series_id)
        said = own_every_field(directory, chosen)
        return Imported(series_id, chosen, None, f"recorded for the existing file{said}")
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
    from reconciler.files.importer import declared_fields, file_fields, render_file

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
    # What the written file declares (its fields, the settings' defaults and what owns: all
    # holds, as the loader merges them): the file matches the CRM now, so a line deleted
    # later is a reset.
    store.record_fields(
        chosen, declared_fields(fields=fields, defaults=loaded.settings.defaults_in(ws.name))
    )
    return Imported(series_id, chosen, path, "written")


def _adopt_for_file(*, ws: Workspace, store: StateStore, series_id: int, claim: _Claim) -> Imported:
    """Record ``series_id`` for the one file that declares it, or say who must choose."""
    from reconciler.adopt_service import own_every_field

    owner = claim.keys[0]
    if claim.decided and owner not in store.state.ids:
        store.record_id(owner, series_id)
        said = own_every_field(ws.directory, owner)
        return Imported(
            series_id,
            owner,
            None,
            f"recorded for the existing file that declares its discountCode{said}",
        )
    files = ", ".join(claim.keys)
    return Imported(
        series_id,
        "",
        None,
        f"not imported: {files} declare(s) its discountCode, which other series share too; "
        f"adopt the right one with `{ws.command(f'import ID --key {owner}')}`",
    )
