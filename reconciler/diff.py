"""Pure comparison of a desired series with a live one, field by field.

Both sides go through ``canonical.canonical`` first, so the server's normalisations, JSON
carried in strings and lists that are sets never show as changes. A cheap equality test runs
first; deepdiff only explains what changed inside nested values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from deepdiff import DeepDiff

from reconciler.canonical import canonical
from reconciler.catalogue import ABSENT, FIELDS


@dataclass(frozen=True)
class NestedChange:
    """One difference inside a nested value (``path`` like ``[0]['productIds']``)."""

    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class FieldChange:
    """A field whose live value differs from the desired one, both in canonical form.

    ``None`` means "not set". ``nested`` explains changes inside objects and lists.
    """

    field: str
    before: Any
    after: Any
    nested: tuple[NestedChange, ...] = ()


def canonical_fields(series: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {name: canonical(name, series.get(name, ABSENT)) for name in names}


def diff_fields(
    *, desired: Mapping[str, Any], live: Mapping[str, Any], fields: Iterable[str]
) -> tuple[FieldChange, ...]:
    """The changes that would make ``live`` match ``desired`` on ``fields``, sorted by name."""
    changes: list[FieldChange] = []
    for name in sorted(set(fields)):
        after = canonical(name, desired.get(name, ABSENT))
        before = canonical(name, live.get(name, ABSENT))
        if before == after and type(before) is type(after):
            continue
        changes.append(
            FieldChange(field=name, before=before, after=after, nested=_nested(before, after))
        )
    return tuple(changes)


def live_digest(live: Mapping[str, Any]) -> str:
    """A digest of a live series' writable fields, in canonical form.

    Counters the server moves on its own (numIssued, lastUsed, ...) are left out, so a plan
    goes stale only when someone changed what a file could declare.
    """
    data = {f.name: canonical(f.name, live.get(f.name, ABSENT)) for f in FIELDS if f.writable}
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _nested(before: Any, after: Any) -> tuple[NestedChange, ...]:
    if not isinstance(before, dict | list) or not isinstance(after, dict | list):
        return ()
    if type(before) is not type(after):
        return ()
    diff = DeepDiff(before, after, ignore_order=False, verbose_level=2)
    out: list[NestedChange] = []
    for kind, items in diff.items():
        if not isinstance(items, Mapping):
            continue
        for path, detail in items.items():
            clean = str(path).removeprefix("root")
            if kind in ("values_changed", "type_changes") and isinstance(detail, Mapping):
                out.append(NestedChange(clean, detail.get("old_value"), detail.get("new_value")))
            elif kind.endswith("_added"):
                out.append(NestedChange(clean, None, detail))
            elif kind.endswith("_removed"):
                out.append(NestedChange(clean, detail, None))
    return tuple(sorted(out, key=lambda c: c.path))
