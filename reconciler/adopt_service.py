"""`reconciler adopt`: keep the drift, by writing the live values into the series files.

The I/O around ``reconciler.adopt.adopt_text``: a plan says which fields drifted (each
change's ``before`` is the live value, canonical), the files are patched, loaded again and
checked to declare exactly the live values, and only then left written. Any failure puts
every file back as it was.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.adopt import AdoptError, adopt_text
from reconciler.catalogue import BY_NAME
from reconciler.diff import diff_fields
from reconciler.errors import ValidationFailed
from reconciler.plan import Action, Plan, SeriesPlan
from reconciler.service import load_valid, make_plan


@dataclass(frozen=True)
class Adopted:
    """One series file patched with the live values of ``fields``."""

    key: str
    file: Path
    fields: tuple[str, ...]


@dataclass(frozen=True)
class AdoptResult:
    adopted: tuple[Adopted, ...] = ()
    # Said to the user: drift that was not adopted, and why.
    notes: tuple[str, ...] = ()


def adoptable(series: SeriesPlan, *, only: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """The fields of ``series`` to adopt, and notes on those left. Pure.

    Ignored fields never reach the plan's changes, so they are never adopted. A retired
    series' validTillDate is the retirement itself, not drift; nor is a reset of a field the
    file no longer declares (a change with a note): adopting it would undo the removal.
    """
    fields: list[str] = []
    notes: list[str] = []
    if series.action is not Action.UPDATE:
        return fields, notes
    for change in series.changes:
        if only and change.field not in only:
            continue
        if change.note:
            # A reset (a removed line, a dependent field): the files' decision, not drift.
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
    files = {s.key for s in load_valid(directory).series}
    missing = sorted(set(keys) - files)
    if missing:
        raise AdoptError(
            f"no series file for {', '.join(missing)}: adopt writes into existing files "
            "(`reconciler import ID` makes a file for a series that has none)"
        )
    plan = make_plan(directory=directory, env=env, sandbox=sandbox, targets=keys)
    return adopt_plan(plan=plan, directory=directory, fields=fields)


def adopt_plan(*, plan: Plan, directory: Path, fields: Sequence[str] = ()) -> AdoptResult:
    """Patch the files with the drift ``plan`` found; check the result; all or nothing."""
    notes: list[str] = [f"{b.key}: blocked, not adopted: {b.reason}" for b in plan.blocked]
    work: list[tuple[SeriesPlan, Path, list[str]]] = []
    for series in plan.series:
        chosen, why = adoptable(series, only=fields)
        notes.extend(why)
        if chosen:
            work.append((series, series_path(directory, series.key), chosen))
    originals: dict[Path, bytes] = {}
    try:
        for series, path, chosen in work:
            raw = path.read_bytes()
            originals[path] = raw
            live = {c.field: c.before for c in series.changes}
            text = raw.decode("utf-8-sig")
            bom = "\ufeff" if raw.startswith(b"\xef\xbb\xbf") else ""
            patched = adopt_text(text=text, live=live, fields=chosen, file=str(path))
            _write(path, (bom + patched).encode("utf-8"))
        _check(directory=directory, work=work)
    except BaseException:
        for path, raw in originals.items():
            _write(path, raw)
        raise
    adopted = tuple(Adopted(s.key, path, tuple(chosen)) for s, path, chosen in work)
    return AdoptResult(adopted=adopted, notes=tuple(notes))


def _check(*, directory: Path, work: Sequence[tuple[SeriesPlan, Path, list[str]]]) -> None:
    """The patched files load, and declare exactly the live values they adopted."""
    try:
        loaded = load_valid(directory)
    except ValidationFailed as error:
        raise AdoptError(
            "the live values would make the files invalid; nothing was written:\n"
            + "\n".join(str(p) for p in error.problems if p.is_error)
        ) from None
    by_key = {s.key: s for s in loaded.series}
    for series, path, chosen in work:
        live: dict[str, Any] = {c.field: c.before for c in series.changes}
        desired = by_key[series.key]
        left = diff_fields(desired=desired.fields, live=live, fields=chosen)
        if left:
            names = ", ".join(c.field for c in left)
            raise AdoptError(f"{path}: could not write the live value of {names}; nothing written")


def _write(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically: a reader sees the old file or the new one."""
    temporary = path.with_name(f".{path.name}.adopt-tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
