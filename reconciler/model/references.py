"""References between series by key, in the fields that hold series ids.

A field that holds ids of other series of the org (the catalogue's ``series_ids`` flag:
``mutualExclusiveSeriesIds``) may name series of the same folder by key instead of by id::

    mutualExclusiveSeriesIds:
      - series: summer/weekend-15     # the id of summer/weekend-15 in each environment
      - 698948                        # an id, as before

Ids differ per org, so a file that names a key works in every environment. The reference is
resolved per environment from the ids the plan knows (the state, markers); a reference to a
series that the same apply creates is left as a placeholder (``"series:KEY"`` inside the
API's JSON array) that the applier replaces with the new id before the referring series is
sent. The API refuses an id of a series that does not exist (error 756, "invalid mutually
exclusive series"), so the referenced series is always created first, and a cycle (which
would need a series to name one not made yet) is a validation error.

Everything here is pure.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from reconciler.model.desired import DesiredSeries, Reference
from reconciler.problems import Problem

# The spelling of an unresolved reference inside an API-form value (a JSON array of ids): a
# text item, so it never compares equal to an id and the plan shows the change.
PLACEHOLDER_PREFIX: Final = "series:"
FILE_FORM: Final = "series"  # the key of the mapping a file writes: {series: KEY}


def placeholder(key: str) -> str:
    return f"{PLACEHOLDER_PREFIX}{key}"


def placeholder_key(item: Any) -> str | None:
    """The key a placeholder item names (None for an id)."""
    if isinstance(item, str) and item.startswith(PLACEHOLDER_PREFIX):
        return item[len(PLACEHOLDER_PREFIX) :]
    return None


def api_value(items: Sequence[int | Reference], ids: Mapping[str, int]) -> str:
    """The API form of ``items``: each reference as its id in ``ids``, else a placeholder."""
    out: list[int | str] = []
    for item in items:
        if isinstance(item, Reference):
            sid = ids.get(item.key)
            out.append(sid if sid is not None else placeholder(item.key))
        else:
            out.append(item)
    return json.dumps(out)


def waiting_on(value: Any) -> tuple[str, ...]:
    """The keys still unresolved in an API-form value (placeholders), in order."""
    parsed = _array(value)
    keys = (placeholder_key(item) for item in parsed)
    return tuple(dict.fromkeys(k for k in keys if k is not None))


def fill(fields: Mapping[str, Any], ids: Mapping[str, int]) -> tuple[dict[str, Any], list[str]]:
    """``fields`` with every placeholder replaced by its key's id in ``ids``; the keys that
    ``ids`` does not hold (those placeholders are left as they are)."""
    out = dict(fields)
    missing: list[str] = []
    for name, value in fields.items():
        keys = waiting_on(value)
        if not keys:
            continue
        absent = [k for k in keys if k not in ids]
        missing.extend(k for k in absent if k not in missing)
        items = [_filled(item, ids) for item in _array(value)]
        out[name] = json.dumps(items)
    return out, missing


def _filled(item: Any, ids: Mapping[str, int]) -> Any:
    key = placeholder_key(item)
    if key is None or key not in ids:
        return item
    return ids[key]


def _array(value: Any) -> list[Any]:
    if not isinstance(value, str) or PLACEHOLDER_PREFIX not in value:
        return []
    try:
        parsed = json.loads(value)
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []


def referenced_keys(series: DesiredSeries) -> tuple[str, ...]:
    """Every key ``series`` names, in the order written."""
    keys = (
        i.key for items in series.references.values() for i in items if isinstance(i, Reference)
    )
    return tuple(dict.fromkeys(keys))


# --- resolution (per environment) ----------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """One series with its references resolved from the ids known in one environment."""

    series: DesiredSeries
    # "field: KEY is id N" lines for the plan: it shows the key and the id.
    notes: tuple[str, ...]
    # Keys whose id is not known yet (their series is created by this apply).
    waiting: tuple[str, ...]


def resolve(series: DesiredSeries, ids: Mapping[str, int]) -> Resolved:
    """``series`` with each reference replaced by its key's id in ``ids`` (placeholders for
    the keys it does not hold)."""
    if not series.references:
        return Resolved(series, (), ())
    fields = dict(series.fields)
    notes: list[str] = []
    waiting: list[str] = []
    for name, items in sorted(series.references.items()):
        fields[name] = api_value(items, ids)
        for item in items:
            if not isinstance(item, Reference):
                continue
            sid = ids.get(item.key)
            if sid is None:
                waiting.append(item.key)
                notes.append(
                    f"{name}: {item.key} is created by this apply first; its id replaces "
                    f"{placeholder(item.key)} before this series is sent"
                )
            else:
                notes.append(f"{name}: {item.key} is id {sid}")
    return Resolved(replace(series, fields=fields), tuple(notes), tuple(dict.fromkeys(waiting)))


# --- validation ----------------------------------------------------------------------------


def check_references(
    series: Sequence[DesiredSeries],
    *,
    folder_keys: Collection[str],
    left_out: Collection[str] = (),
    environment: str = "",
) -> list[Problem]:
    """Unknown keys, keys left out of ``environment`` and cycles, each at the reference.

    ``series`` are the series of one environment; ``folder_keys`` every key of the folder
    (a file with errors still has its key: naming it is not an unknown key, its file's
    errors are reported there); ``left_out`` the keys whose ``only:`` excludes
    ``environment``.
    """
    problems: list[Problem] = []
    here = {s.key for s in series}
    for one in series:
        for name, items in sorted(one.references.items()):
            for item in items:
                if not isinstance(item, Reference) or item.key in here:
                    continue
                if item.key in left_out:
                    problems.append(_left_out(one, name, item, environment))
                elif item.key not in folder_keys:
                    problems.append(_unknown(one, name, item, folder_keys))
    problems.extend(_cycles(series))
    return problems


def _left_out(one: DesiredSeries, name: str, ref: Reference, environment: str) -> Problem:
    message = (
        f"{name} names {ref.key}, which is not in environment {environment!r} (its file "
        f"limits it with only:): add {environment} to its only:, or limit this series too"
    )
    return Problem(ref.file or one.file, ref.line, ref.column, message, field=name)


def _unknown(
    one: DesiredSeries, name: str, ref: Reference, folder_keys: Collection[str]
) -> Problem:
    message = f"{name} names the series {ref.key!r}, and no file in the folder has that key"
    close = _closest(ref.key, folder_keys)
    message += (
        f": did you mean {close}?"
        if close
        else " (a key is the file's path under the folder, without .yaml)"
    )
    return Problem(ref.file or one.file, ref.line, ref.column, message, field=name)


def _closest(key: str, keys: Collection[str]) -> str | None:
    import difflib

    trimmed = key.removeprefix("series/").removesuffix(".yaml").removesuffix(".yml")
    if trimmed != key and trimmed in keys:
        return trimmed
    close = difflib.get_close_matches(key, sorted(keys), n=1, cutoff=0.6)
    return close[0] if close else None


def _cycles(series: Sequence[DesiredSeries]) -> list[Problem]:
    """A problem at each reference that closes a cycle (a series naming itself included)."""
    by_key = {s.key: s for s in series}
    edges = {s.key: [k for k in referenced_keys(s) if k in by_key] for s in series}
    problems: list[Problem] = []
    seen_cycles: set[frozenset[str]] = set()
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(key: str, path: list[str]) -> None:
        state[key] = 1
        path.append(key)
        for nxt in edges[key]:
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :]
                members = frozenset(cycle)
                if members not in seen_cycles:
                    seen_cycles.add(members)
                    problems.extend(_cycle_problems(cycle, by_key))
            elif nxt not in state:
                visit(nxt, path)
        path.pop()
        state[key] = 2

    for key in sorted(edges):
        if key not in state:
            visit(key, [])
    return problems


def _cycle_problems(cycle: list[str], by_key: Mapping[str, DesiredSeries]) -> list[Problem]:
    shown = " → ".join([*cycle, cycle[0]])
    problems = []
    for i, key in enumerate(cycle):
        nxt = cycle[(i + 1) % len(cycle)]
        one = by_key[key]
        for name, items in sorted(one.references.items()):
            for item in items:
                if isinstance(item, Reference) and item.key == nxt:
                    what = (
                        f"{name} names this series itself"
                        if len(cycle) == 1
                        else f"{name} references form a cycle: {shown}"
                    )
                    problems.append(
                        Problem(
                            item.file or one.file,
                            item.line,
                            item.column,
                            f"{what}. A series can only name one that exists before it is "
                            "sent (the API refuses an unknown id: error 756): remove one "
                            "reference of the cycle",
                            field=name,
                        )
                    )
    return problems


# --- order -----------------------------------------------------------------------------------


def dependencies(desired: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[str, ...]]:
    """For each key of a plan, the keys whose id its API-form values still wait for."""
    out: dict[str, tuple[str, ...]] = {}
    for key, fields in desired.items():
        keys: list[str] = []
        for value in fields.values():
            keys.extend(k for k in waiting_on(value) if k not in keys)
        if keys:
            out[key] = tuple(keys)
    return out


__all__ = [
    "FILE_FORM",
    "PLACEHOLDER_PREFIX",
    "Resolved",
    "api_value",
    "check_references",
    "dependencies",
    "fill",
    "placeholder",
    "placeholder_key",
    "referenced_keys",
    "resolve",
    "waiting_on",
]


def reaches(edges: Mapping[str, Collection[str]], start: str, target: str) -> bool:
    """True when ``target`` can be reached from ``start`` along ``edges`` (key → keys it
    names): adding ``target → start`` would then close a cycle."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        key = stack.pop()
        if key == target:
            return True
        if key not in seen:
            seen.add(key)
            stack.extend(edges.get(key, ()))
    return False
