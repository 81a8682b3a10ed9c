"""Checks of the values carried as structures: id lists, the redemption range, objects, and
lists of ids that name other series of the folder by key.

Each returns its problems (or the message of one), with the path under the field where it
was written when the file wrote a structure rather than the API's JSON text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from reconciler.files.source import Checked, Source, enum_message, shown, suggest
from reconciler.files.yamlsafe import DocPath
from reconciler.model.canonical import MAX_JSON_DEPTH, RANGE_KEYS, json_too_deep
from reconciler.model.catalogue import ABSENT, INT64_MAX, INT64_MIN, Field, Kind, SubField, is_int
from reconciler.model.desired import Reference
from reconciler.problems import Problem

_RANGE_LIMITS: Final = {"dom": (1, 31), "dow": (1, 7), "hours": (0, 23)}
_RANGE_WORDS: Final = {
    "dom": "days of the month",
    "dow": "weekdays (1 is Monday)",
    "hours": "hours",
}
ID_LIST_HINT = 'a list of ids such as [101, 102] (or the API\'s JSON text "[101, 102]")'
_INVALID_RANGE = "API error 729, invalid redemption range"


def check_references(
    spec: Field, value: list[Any], source: Source, problems: list[Problem]
) -> Checked:
    """A list of series ids some of which name a series of the folder: ``{series: KEY}``.

    The value is the list of items (ids and ``Reference``); the loader keeps it aside and
    puts the unresolved API form in the fields (``references.api_value``).
    """
    from reconciler.model.references import FILE_FORM

    name = spec.name
    items: list[int | Reference] = []
    errors = 0
    for i, item in enumerate(value):
        at: DocPath = (name, i)
        if isinstance(item, dict):
            key = item.get(FILE_FORM)
            extra = [k for k in item if k != FILE_FORM]
            if extra or not isinstance(key, str) or not key.strip():
                problems.append(
                    source.problem(
                        at,
                        f"an item of {name} is an id or {{{FILE_FORM}: KEY}}, naming another "
                        "series of the folder by its key (such as {series: summer/weekend-15})",
                    )
                )
                errors += 1
                continue
            mark = source.document.where((*source.prefix, *at, FILE_FORM))
            items.append(Reference(key.strip(), source.file, mark.line, mark.column))
            continue
        message = id_list_message([item])
        if message:
            problems.append(source.problem(at, f"{name}: {message}"))
            errors += 1
            continue
        items.append(int(item))
    if errors:
        return Checked(ABSENT, tuple(problems))
    return Checked(tuple(items), tuple(problems))


def id_list_message(value: Any) -> str:
    """Why ``value`` is not a list of ids, or "" when it is one."""
    items = value
    if isinstance(value, str):
        if json_too_deep(value):
            return f"{shown(value[:40])}... nests deeper than {MAX_JSON_DEPTH} levels"
        try:
            items = json.loads(value)
        except ValueError:
            return f"{shown(value)} is not valid JSON"
        if not isinstance(items, list):
            return f"{shown(value)} is not a JSON array"
    if not isinstance(items, list):
        return f"not {shown(value)}"
    bad = [v for v in items if not is_id(v)]
    if bad:
        return f"{shown(bad[0])} is not an id (ids are whole numbers)"
    return ""


def is_id(value: Any) -> bool:
    if is_int(value):
        return bool(INT64_MIN <= value <= INT64_MAX)
    return isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value.strip()) is not None


def range_problems(value: Any) -> list[tuple[DocPath, str]]:
    """Problems of a redemptionRange (a mapping or the API's JSON text), each with the path
    under the field where it was written (only a mapping has inner paths)."""
    name = "redemptionRange"
    inner = True
    parsed = value
    if isinstance(value, str):
        inner = False
        if json_too_deep(value):
            return [
                (
                    (),
                    f"{name} {shown(value[:40])}... nests deeper than {MAX_JSON_DEPTH} "
                    f"levels ({_INVALID_RANGE}): write a mapping such as {{dom: [1, 15], "
                    "dow: [-1], hours: [-1]}",
                )
            ]
        try:
            parsed = json.loads(value)
        except ValueError:
            return [
                (
                    (),
                    f"{name} {shown(value)} is not valid JSON ({_INVALID_RANGE}): write "
                    "a mapping such as {dom: [1, 15], dow: [-1], hours: [-1]}",
                )
            ]
    if not isinstance(parsed, dict):
        return [
            (
                (),
                f"{name} must be a mapping such as {{dom: [1, 15], dow: [-1], hours: "
                f"[-1]}}, not {shown(parsed)}",
            )
        ]
    found: list[tuple[DocPath, str]] = []
    for key, items in parsed.items():
        where: DocPath = (key,) if inner else ()
        if key not in RANGE_KEYS:
            close = suggest(str(key), RANGE_KEYS)
            hint = f"did you mean {close}? " if close else ""
            found.append(
                (
                    where,
                    f"{name} has no key {key!r}: {hint}The keys are dom (days of "
                    "the month), dow (weekdays) and hours",
                )
            )
            continue
        low, high = _RANGE_LIMITS[key]
        listed = items if isinstance(items, list) else [items]
        if not listed:
            found.append((where, f"{name} {key} is empty: write [-1] for all {_RANGE_WORDS[key]}"))
            continue
        numbers: list[int] = []
        for i, item in enumerate(listed):
            spot: DocPath = (*where, i) if inner and isinstance(items, list) else where
            number = int(item) if is_id(item) else None
            if number is None or (number != -1 and not low <= number <= high):
                found.append(
                    (
                        spot,
                        f"{name} {key} has {shown(item)}: {_RANGE_WORDS[key]} "
                        f"go from {low} to {high}, or -1 for all ({_INVALID_RANGE})",
                    )
                )
            else:
                numbers.append(number)
        if -1 in numbers and len(listed) > 1:
            found.append(
                (
                    where,
                    f"{name} {key} mixes -1 (all) with other values: write [-1] "
                    f"alone for all {_RANGE_WORDS[key]}, or list the ones you mean",
                )
            )
    return found


def check_object(spec: Field, value: Mapping[str, Any], path: DocPath, error: Any) -> None:
    names = [s.name for s in spec.subfields]
    for key, item in value.items():
        sub = spec.subfield(key)
        if sub is None:
            close = suggest(key, names)
            hint = f"did you mean {close}? " if close else ""
            error(
                f"{spec.name} has no key {key!r}: {hint}The keys are {', '.join(names)}",
                (*path, key),
            )
            continue
        message = _subfield_message(spec, sub, item)
        if message:
            error(message, (*path, key))
    for sub in spec.subfields:
        if sub.required and sub.name not in value:
            error(f"{spec.name} item is missing {sub.name}", path)


def _subfield_message(spec: Field, sub: SubField, value: Any) -> str:
    label = f"{spec.name} {sub.name}"
    if sub.kind is Kind.ENUM:
        return enum_message(label, value, sub.enum)
    if sub.kind is Kind.INTEGER and not is_int(value):
        return f"{label} must be a whole number, not {shown(value)}"
    if sub.kind is Kind.ID_LIST:
        if not isinstance(value, list):
            return f"{label} must be a list of ids such as [101, 102], not {shown(value)}"
        message = id_list_message(value)
        return f"{label}: {message}" if message else ""
    return ""


__all__ = [
    "ID_LIST_HINT",
    "check_object",
    "check_references",
    "id_list_message",
    "is_id",
    "range_problems",
]
