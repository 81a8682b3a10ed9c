"""The JSON Schema of a series file, generated from the field catalogue.

Editors with the YAML language server use it to complete and check field names while a file
is written (``# yaml-language-server: $schema=…``). It describes the writable fields only,
each with its type, enum, description and deprecation, the friendlier YAML forms the loader
accepts (lists for the id lists, a mapping for redemptionRange, bare dates), and the reserved
``reconciler:`` key, and the catalogue's rules between fields where JSON Schema can say them
(``catalogue.RULES``). The rest (dates, what the server would store) stays in
``reconciler validate``.
"""

from __future__ import annotations

from typing import Any, Final

from reconciler.files.options import OWNS_ALL, OWNS_WRITTEN
from reconciler.files.validate import RESERVED_KEY
from reconciler.model import catalogue
from reconciler.model.catalogue import INT32_MAX, INT32_MIN, Field, Format, Kind, SubField

SCHEMA_ID: Final = "https://reconciler.invalid/schemas/series.json"

_ID: Final[dict[str, Any]] = {
    "anyOf": [{"type": "integer"}, {"type": "string", "pattern": r"^-?\d+$"}]
}
_ID_LIST: Final[dict[str, Any]] = {
    "anyOf": [
        {"type": "array", "items": _ID},
        {"type": "string", "description": "The API's form: a JSON array in a string."},
    ]
}
# A field holding series ids also takes {series: KEY}: another series of the folder, by key.
_SERIES_ID_LIST: Final[dict[str, Any]] = {
    "anyOf": [
        {
            "type": "array",
            "items": {
                "anyOf": [
                    _ID,
                    {
                        "type": "object",
                        "properties": {"series": {"type": "string", "minLength": 1}},
                        "required": ["series"],
                        "additionalProperties": False,
                    },
                ]
            },
        },
        {"type": "string", "description": "The API's form: a JSON array in a string."},
    ]
}
_DATETIME: Final[dict[str, Any]] = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}"
    r"([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?))?$",
}


def _range_part(low: int, high: int) -> dict[str, Any]:
    one = {
        "anyOf": [
            {"type": "integer", "minimum": low, "maximum": high},
            {"const": -1},
            {"const": "-1"},
        ]
    }
    return {"anyOf": [{"type": "array", "items": one, "minItems": 1}, one]}


_REDEMPTION_RANGE: Final[dict[str, Any]] = {
    "anyOf": [
        {
            "type": "object",
            "properties": {
                "dom": _range_part(1, 31),
                "dow": _range_part(1, 7),
                "hours": _range_part(0, 23),
            },
            "additionalProperties": False,
        },
        {"type": "string", "description": "The API's form: a JSON object in a string."},
    ]
}


def _sub_schema(sub: SubField) -> dict[str, Any]:
    out: dict[str, Any] = {"description": sub.doc}
    if sub.kind is Kind.ENUM:
        out["enum"] = list(sub.enum)
    elif sub.kind is Kind.INTEGER:
        out["type"] = "integer"
    elif sub.kind is Kind.ID_LIST:
        out.update({"type": "array", "items": _ID})
    else:
        out["type"] = "string"
    return out


def _object(spec: Field) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {s.name: _sub_schema(s) for s in spec.subfields},
        "required": [s.name for s in spec.subfields if s.required],
        "additionalProperties": False,
    }


def _field_schema(spec: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"description": spec.doc}
    kind = spec.kind
    if kind is Kind.STRING:
        out["type"] = "string"
        if spec.max_length is not None:
            out["maxLength"] = spec.max_length
    elif kind is Kind.INTEGER:
        out["type"] = "integer"
    elif kind is Kind.NUMBER:
        out["type"] = "number"
    elif kind is Kind.BOOLEAN:
        out["type"] = "boolean"
    elif kind is Kind.ENUM:
        out["enum"] = list(spec.enum)
    elif kind is Kind.DATETIME:
        out.update(_DATETIME)
    elif kind is Kind.ID_LIST and spec.series_ids:
        out.update(_SERIES_ID_LIST)
    elif kind is Kind.ID_LIST:
        out.update(_ID_LIST)
    elif kind is Kind.REDEMPTION_RANGE:
        out.update(_REDEMPTION_RANGE)
    elif kind is Kind.STRING_MAP:
        out.update({"type": "object", "additionalProperties": {"type": "string"}})
    elif kind is Kind.OBJECT:
        out.update(_object(spec))
    elif kind is Kind.OBJECT_LIST:
        out.update({"type": "array", "items": _object(spec)})
    if kind in (Kind.INTEGER, Kind.NUMBER):
        if spec.format is not Format.NONE:
            out["format"] = spec.format.value
        low, high = (INT32_MIN, INT32_MAX) if spec.format is Format.INT32 else (None, None)
        if spec.minimum is not None:
            low = spec.minimum if low is None else max(low, spec.minimum)
        if spec.maximum is not None:
            high = spec.maximum if high is None else min(high, spec.maximum)
        if low is not None:
            out["minimum"] = low
        if high is not None:
            out["maximum"] = high
    if None in spec.unset:
        out = {"anyOf": [out, {"type": "null"}], "description": spec.doc}
    if spec.deprecated:
        out["deprecated"] = True
    return out


def _options_schema() -> dict[str, Any]:
    return {
        "description": "The tool's own settings for this series (never sent to the API).",
        "type": "object",
        "properties": {
            "ignore": {
                "description": "Fields whose live value the plan leaves alone, and why.",
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "field": {"enum": [f.name for f in catalogue.writable_fields()]},
                        "reason": {"type": "string", "minLength": 1},
                    },
                    "required": ["field", "reason"],
                    "additionalProperties": False,
                },
            },
            "retire": {
                "description": "Plan validTillDate to today: the reviewed way to end a series.",
                "type": "boolean",
            },
            "only": {
                "description": "The environments this series exists in (left out: all).",
                "anyOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                ],
            },
            "distinct_from": {
                "description": "Ids of existing series with this discountCode that are not "
                "this file's series: the plan creates it (known then by its marker) instead "
                "of blocking on them.",
                "type": "array",
                "items": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
                "minItems": 1,
            },
            "owns": {
                "description": "all: every field with a documented server default is held at "
                "it where the file writes nothing (imported files); written (the default): "
                "only the fields written are managed.",
                "enum": [OWNS_ALL, OWNS_WRITTEN],
            },
            "environments": {
                "description": "Fields whose value differs in one environment, by its name.",
                "type": "object",
                "additionalProperties": {"type": "object"},
            },
        },
        "additionalProperties": False,
    }


def series_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a series file."""
    properties: dict[str, Any] = {f.name: _field_schema(f) for f in catalogue.writable_fields()}
    properties[RESERVED_KEY] = _options_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Coupon series",
        "description": "One coupon series of a Capillary CRM org, fields spelled as in the "
        "API (CouponSeriesV2). Checked in full by `reconciler validate`.",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        # The catalogue's rules between fields that JSON Schema can say, over one file's own
        # keys (the settings' defaults are merged by `reconciler validate` only).
        "allOf": [dict(r.schema) for r in catalogue.RULES if r.schema is not None],
    }


__all__ = ["series_schema"]
