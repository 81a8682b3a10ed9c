"""Pure comparison of a desired series with a live one, field by field.

Both sides go through ``canonical.canonical`` first, so the server's normalisations, JSON
carried in strings and lists that are sets never show as changes. A cheap equality test runs
first; ``nested_changes`` then explains what changed inside objects and lists.

Nested paths are the tool's own, documented in the README's JSON section and part of the
versioned plan format: the field name, then ``.key`` for an object key that is an identifier
(``["key"]``, JSON-quoted, for any other), and ``[i]`` for a list index, counted in the value
the change is about (``before`` for a removal, ``after`` otherwise). For example
``productInfo[0].productIds[1]`` or ``customPropertyMap["gift card"]``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from reconciler.model.canonical import canonical
from reconciler.model.catalogue import ABSENT, FIELDS, Kind


@dataclass(frozen=True)
class NestedChange:
    """One difference inside a nested value (``path`` like ``productInfo[0].productIds``).

    ``before`` is None for an added key or item, ``after`` None for a removed one.
    """

    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class FieldChange:
    """A field whose live value differs from the desired one, both in canonical form.

    ``None`` means "not set". ``nested`` explains changes inside objects and lists. ``note``
    says why a change the file does not spell out is planned: a field no longer in the file
    reset to the server's default, a dependent field reset with the fields it depends on
    (``reconciler.engine.ownership``); empty for a value the file declares.
    """

    field: str
    before: Any
    after: Any
    nested: tuple[NestedChange, ...] = ()
    note: str = ""


def canonical_fields(series: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {name: canonical(name, series.get(name, ABSENT)) for name in names}


def diff_fields(
    *, desired: Mapping[str, Any], live: Mapping[str, Any], fields: Iterable[str]
) -> tuple[FieldChange, ...]:
    """The changes that would make ``live`` match ``desired`` on ``fields``, sorted by name."""
    changes: list[FieldChange] = []
    for name in sorted(set(fields)):
        mine, theirs = desired.get(name, ABSENT), live.get(name, ABSENT)
        if type(mine) is type(theirs) and mine == theirs:
            continue  # one value, one canonical form: most fields of most series, cheaply
        after = canonical(name, mine)
        before = canonical(name, theirs)
        if before == after and type(before) is type(after):
            continue
        changes.append(
            FieldChange(
                field=name, before=before, after=after, nested=nested_changes(name, before, after)
            )
        )
    return tuple(changes)


def live_digest(live: Mapping[str, Any]) -> str:
    """A digest of a live series' writable fields: it changes when one of them changes.

    Counters the server moves on its own (numIssued, lastUsed, ...) are left out, so a plan
    goes stale only when someone changed what a file could declare. Both sides of a staleness
    check are answers of the same server (the plan's read, a later read), so a scalar is hashed
    as answered; only the values whose order or spelling carries no meaning (sets kept as
    lists, JSON carried in strings, objects) are put in canonical form first. That keeps it
    cheap (about 40 µs a series instead of 200 µs for 75 canonical forms), and it never misses
    a change: equal answers have equal canonical forms.
    """
    data = {}
    for name in _WRITABLE:
        value = live.get(name)
        if value is not None and (name in _UNORDERED or isinstance(value, dict | list)):
            value = canonical(name, value)
        data[name] = value
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


_WRITABLE: Final = tuple(f.name for f in FIELDS if f.writable)
_UNORDERED: Final = frozenset(
    f.name
    for f in FIELDS
    if f.kind
    in (Kind.ID_LIST, Kind.REDEMPTION_RANGE, Kind.STRING_MAP, Kind.OBJECT, Kind.OBJECT_LIST)
)

_IDENTIFIER: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MISSING: Final = object()


def key_step(key: Any) -> str:
    """The path step of an object key: ``.name``, or ``["any text"]`` (JSON-quoted)."""
    text = str(key)
    if _IDENTIFIER.match(text):
        return f".{text}"
    return f"[{json.dumps(text, ensure_ascii=False)}]"


def nested_changes(field: str, before: Any, after: Any) -> tuple[NestedChange, ...]:
    """What changed inside ``before`` → ``after`` when both are objects or both lists.

    Any other pair (scalars, or an object that became a list) has no nested explanation:
    the field's whole value is the change. Objects are compared key by key (in key order);
    lists of scalars by their longest common runs (an inserted id is one addition, not a
    change of every later index); lists holding objects or lists index by index.
    """
    if not isinstance(before, dict | list) or type(before) is not type(after):
        return ()
    return tuple(_walk(field, before, after))


def _walk(path: str, before: Any, after: Any) -> Iterator[NestedChange]:
    if before is _MISSING:
        yield NestedChange(path, None, after)
    elif after is _MISSING:
        yield NestedChange(path, before, None)
    elif isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            yield from _walk(
                path + key_step(key), before.get(key, _MISSING), after.get(key, _MISSING)
            )
    elif isinstance(before, list) and isinstance(after, list):
        yield from _walk_list(path, before, after)
    elif before != after or type(before) is not type(after):
        yield NestedChange(path, before, after)


def _walk_list(path: str, before: list[Any], after: list[Any]) -> Iterator[NestedChange]:
    if any(isinstance(v, dict | list) for v in (*before, *after)):
        for i in range(max(len(before), len(after))):
            old = before[i] if i < len(before) else _MISSING
            new = after[i] if i < len(after) else _MISSING
            yield from _walk(f"{path}[{i}]", old, new)
        return
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1)
        for k in range(paired):  # replaced in place: a change at the new index
            yield NestedChange(f"{path}[{j1 + k}]", before[i1 + k], after[j1 + k])
        for i in range(i1 + paired, i2):
            yield NestedChange(f"{path}[{i}]", before[i], None)
        for j in range(j1 + paired, j2):
            yield NestedChange(f"{path}[{j}]", None, after[j])
