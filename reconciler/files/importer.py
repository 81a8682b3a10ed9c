"""Adopt existing series: write one file per series and record its id.

The file holds the series' writable fields in their friendly forms, and says
``reconciler: owns: all``: the series owns every field with a documented server default,
so a change made to one of them in the CRM shows as drift and the apply puts it back. To
keep the file short for its reviewers, a value equal to that default is left out (unless
``all_fields``): ``owns: all`` holds it. Always written: the fields a create requires, the
fields with no documented default that the series has a value for (info, tag and
redemptionValidFrom, which the server derives when the series is made; seriesCode,
genericCode, customPropertyMap, ...), and values the settings' defaults would otherwise
change. A plan right after an import is empty.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from typing import Any, Final

import yaml

from reconciler.files.options import OWNS_ALL, RESERVED_KEY
from reconciler.model.canonical import canonical, to_friendly
from reconciler.model.catalogue import ABSENT, FIELDS, server_defaults
from reconciler.model.references import FILE_FORM

MAX_KEY_LENGTH = 60


def slug(text: str) -> str:
    """A readable file name from a description or a code: lower case, dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return words[:MAX_KEY_LENGTH].rstrip("-")


def choose_key(*, live: Mapping[str, Any], taken: Collection[str], folder: str = "imported") -> str:
    """A key for ``live`` under ``folder`` that no file or state entry uses yet."""
    base = (
        slug(str(live.get("description") or ""))
        or slug(str(live.get("discountCode") or ""))
        or f"series-{live.get('id')}"
    )
    prefix = f"{folder}/" if folder else ""
    key = f"{prefix}{base}"
    n = 2
    while key in taken:
        key = f"{prefix}{base}-{n}"
        n += 1
    return key


def file_fields(
    *,
    live: Mapping[str, Any],
    defaults: Mapping[str, Any],
    all_fields: bool = False,
    keys: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """The fields an imported file declares, in friendly form, in catalogue order.

    ``keys`` maps ids to the keys of the folder that manage them: a field holding series ids
    names those series by key (``{series: KEY}``), so the file works in every environment.
    """
    out: dict[str, Any] = {}
    for spec in FIELDS:
        if not spec.writable:
            continue
        value = live.get(spec.name, ABSENT)
        mine = canonical(spec.name, value)
        if value is ABSENT or value is None or (mine is None and not all_fields):
            # No value live; a default of the settings would give it one, unless the file
            # says "no value" in the one spelling the field has for it.
            if (
                spec.name in defaults
                and spec.unset
                and canonical(spec.name, defaults[spec.name]) is not None
            ):
                out[spec.name] = spec.unset[0]
            continue
        # Held by owns: all when equal to the documented default; written otherwise.
        keep = all_fields or spec.required_on_create or not spec.has_default
        if not keep:
            keep = mine != canonical(spec.name, spec.default)
        if not keep and spec.name in defaults:
            keep = mine != canonical(spec.name, defaults[spec.name])
        if keep:
            friendly = to_friendly(spec.name, value)
            if spec.series_ids and keys:
                friendly = by_key(friendly, keys)
            out[spec.name] = friendly
    return out


def declared_fields(*, fields: Collection[str], defaults: Collection[str]) -> tuple[str, ...]:
    """What an imported file declares once loaded: its fields, the settings' defaults, and the
    fields ``owns: all`` holds (the state records them: a line deleted later is a reset)."""
    return tuple(sorted({*fields, *defaults, *server_defaults()}))


def by_key(items: Any, keys: Mapping[int, str]) -> Any:
    """``items`` (ids) with each id a key of the folder manages written as ``{series: KEY}``."""
    if not isinstance(items, list):
        return items
    return [
        {FILE_FORM: keys[item]} if isinstance(item, int) and item in keys else item
        for item in items
    ]


OWNS_BLOCK: Final = (
    f"{RESERVED_KEY}:\n"
    "  # Every field not written above is held at the server's documented default: a change\n"
    "  # made to one in the CRM shows in the plan, and the apply puts it back.\n"
    f"  owns: {OWNS_ALL}\n"
)


def render_file(*, fields: Mapping[str, Any], header: str, owns_all: bool = True) -> str:
    body = yaml.safe_dump(dict(fields), sort_keys=False, allow_unicode=True, width=100)
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    return comments + body + (OWNS_BLOCK if owns_all else "")
