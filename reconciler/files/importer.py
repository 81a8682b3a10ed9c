"""Adopt existing series: write one file per series and record its id.

The file holds the series' writable fields in their friendly forms. Values equal to what the
server stores by default are left out (unless ``all_fields``), except the fields a create
requires and those the settings' defaults would otherwise change: a plan right after an
import must be empty.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from typing import Any

import yaml

from reconciler.model.canonical import canonical, to_friendly
from reconciler.model.catalogue import ABSENT, FIELDS
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
        if value is ABSENT or value is None:
            # No value live; a default of the settings would give it one, unless the file
            # says "no value" in the one spelling the field has for it.
            if (
                spec.name in defaults
                and spec.unset
                and canonical(spec.name, defaults[spec.name]) is not None
            ):
                out[spec.name] = spec.unset[0]
            continue
        mine = canonical(spec.name, value)
        keep = all_fields or spec.required_on_create
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


def by_key(items: Any, keys: Mapping[int, str]) -> Any:
    """``items`` (ids) with each id a key of the folder manages written as ``{series: KEY}``."""
    if not isinstance(items, list):
        return items
    return [
        {FILE_FORM: keys[item]} if isinstance(item, int) and item in keys else item
        for item in items
    ]


def render_file(*, fields: Mapping[str, Any], header: str) -> str:
    body = yaml.safe_dump(dict(fields), sort_keys=False, allow_unicode=True, width=100)
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    return comments + body
