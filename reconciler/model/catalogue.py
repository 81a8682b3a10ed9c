"""The field catalogue: every CouponSeriesV2 field the API documents, in one place.

The models, the validator, the JSON Schema, the diff, the importer and the sandbox all read
the catalogue; nothing else lists fields. It joins four tables, each in the module that says
what it holds:

- ``reconciler.model.fields``: the writable fields (type, required marks, enums, the
  OpenAPI's number formats, what the request/response pairs show the server doing);
- ``reconciler.model.server_fields``: the fields the server owns, and the key order of its
  answers;
- ``reconciler.model.defaults``: what the server stores for a field a create leaves out, each
  value with the documented answer that shows it (no page, no default: the tool never
  invents one), and the fields whose value the server derives from others;
- ``reconciler.model.rules``: the rules between fields, and the fields whose value depends on
  others;
- ``reconciler.model.concerns``: what a change to a field puts at stake for the business
  (discount, validity, limits, audience), which orders and badges a plan for its reviewers.

How values are compared and stored lives in ``reconciler.model.canonical``, driven by
``kind`` and ``storage`` here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any, Final

from reconciler.model.concerns import CONCERNS, Concern
from reconciler.model.defaults import DERIVED, DOCUMENTED
from reconciler.model.fields import WRITABLE
from reconciler.model.fieldtypes import (
    ABSENT,
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    Access,
    Field,
    Format,
    Kind,
    Storage,
    SubField,
    is_int,
    is_number,
)
from reconciler.model.rules import (
    COUNTED_EXPIRY,
    DEPENDENCIES,
    RULES,
    SERIES_EXPIRY_VALUES,
    Dependency,
    Fields,
    Rule,
    broken_rules,
    rules_for_server,
)
from reconciler.model.server_fields import ANSWER_ORDER, SERVER_OWNED


def _with_default(spec: Field) -> Field:
    documented = DOCUMENTED.get(spec.name)
    if documented is not None:
        return replace(spec, default=documented.value, default_evidence=documented.evidence)
    derived = DERIVED.get(spec.name)
    if derived is not None:
        return replace(spec, derived=derived.source, default_evidence=derived.evidence)
    return spec


FIELDS: Final[tuple[Field, ...]] = tuple(_with_default(f) for f in (*WRITABLE, *SERVER_OWNED))

BY_NAME: Final[Mapping[str, Field]] = {f.name: f for f in FIELDS}

# productInfo with productType CATEGORY: at most this many productIds (the Create page).
MAX_CATEGORY_IDS: Final = 1000

# Keys of customPropertyMap that the docs name (the map is open: any string key is allowed).
KNOWN_CUSTOM_PROPERTIES: Final = ("standard_terms_and_conditions",)

# Names in the docs that are not series fields: the request wrapper, the answer envelope of
# GET, and the envelope of one sample on the create page whose body is not valid JSON and
# matches no real answer ("couponSeriesId": "CS-789012").
NOT_FIELDS: Final = frozenset(
    {"CouponSeriesV2", "entity", "status", "message", "data", "couponSeriesId", "key1", "key2"}
)


def field(name: str) -> Field:
    """The catalogue entry of ``name``; ``KeyError`` when the API has no such field."""
    return BY_NAME[name]


def writable_fields() -> Iterator[Field]:
    return (f for f in FIELDS if f.writable)


def required_on_create() -> tuple[str, ...]:
    return tuple(f.name for f in FIELDS if f.required_on_create)


def required_on_update() -> tuple[str, ...]:
    return tuple(f.name for f in FIELDS if f.required_on_update)


def identity_fields() -> tuple[str, ...]:
    return tuple(f.name for f in FIELDS if f.identity)


def series_id_fields() -> tuple[str, ...]:
    """The fields that hold ids of other series (a file may name those series by key)."""
    return tuple(f.name for f in FIELDS if f.series_ids)


def kept_on_update() -> tuple[str, ...]:
    """Server-owned fields set once, on create, and kept by every PUT."""
    return tuple(f.name for f in FIELDS if f.access is Access.SERVER and not f.recomputed_on_write)


_SERVER_DEFAULTS: Final[Mapping[str, Any]] = {
    f.name: f.default for f in FIELDS if f.writable and f.has_default
}


def server_defaults() -> dict[str, Any]:
    """What the server stores for each writable field a create leaves out, where a documented
    answer shows it (API form; a new dict). Fields with no such answer are not here."""
    return dict(_SERVER_DEFAULTS)


def unanswered_fields() -> tuple[str, ...]:
    """Writable fields no answer on any page carries: sent, never read back."""
    return tuple(f.name for f in FIELDS if f.writable and not f.answered)


__all__ = [
    "ABSENT",
    "ANSWER_ORDER",
    "BY_NAME",
    "CONCERNS",
    "COUNTED_EXPIRY",
    "DEPENDENCIES",
    "FIELDS",
    "INT32_MAX",
    "INT32_MIN",
    "INT64_MAX",
    "INT64_MIN",
    "KNOWN_CUSTOM_PROPERTIES",
    "MAX_CATEGORY_IDS",
    "NOT_FIELDS",
    "RULES",
    "SERIES_EXPIRY_VALUES",
    "Access",
    "Concern",
    "Dependency",
    "Field",
    "Fields",
    "Format",
    "Kind",
    "Rule",
    "Storage",
    "SubField",
    "broken_rules",
    "field",
    "identity_fields",
    "is_int",
    "is_number",
    "kept_on_update",
    "required_on_create",
    "required_on_update",
    "rules_for_server",
    "series_id_fields",
    "server_defaults",
    "unanswered_fields",
    "writable_fields",
]
