"""One canonical form for every field value, driven by the catalogue.

Three conversions live here, all keyed on a field's ``kind`` and ``storage``:

- ``stored_value``: what the real server keeps when it is sent a value (UTC day for dates,
  single precision for discountValue and discountUpto, 32-bit wrap for maxCreate/maxRedeem,
  ...). The sandbox uses it to behave like the server; the validator uses it to warn before a
  value is lost.
- ``canonical``: the form both sides of a diff are compared in: the stored value, with JSON
  carried in strings parsed, lists that are sets sorted, and "no value" spelled ``None``.
- ``to_api`` / ``to_friendly``: between the friendlier YAML forms of a series file and the
  API's own forms. ``to_api`` gives every spelling a file may use the one form the vendor's
  pages document for a request (``api_datetime`` for dates), so the server never has to be
  lenient; ``request_body`` does the same for a whole body (live values resent by a PUT).

A canonical value is plain JSON (None, bool, int, float, str, list, dict), so it can be
hashed, saved in a plan file and shown.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from reconciler.model.catalogue import ABSENT, BY_NAME, Field, Kind, Storage, is_int

_DATETIME = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?\s*$"
)

RANGE_KEYS = ("dom", "dow", "hours")

# The one date-time form the vendor's pages document for a request: "YYYY-MM-DDTHH:MM:SS+/-
# (time-zone)", every example spelled like 2030-09-30T00:00:00+05:30.
API_DATETIME_FORM: Final = "YYYY-MM-DDTHH:MM:SS+hh:mm"
API_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")

# Nesting deeper than this in the JSON carried by a string is refused before it is parsed:
# Python's parser would raise RecursionError, and no id list or range nests more than twice.
MAX_JSON_DEPTH: Final = 32


# Parsed date-times by (text, lenient): thousands of series share a few dates, and each is
# parsed four times in a plan (checked, sent form, stored form, compared). Bounded.
_PARSED: dict[tuple[str, bool], datetime | None] = {}
_PARSED_MAX: Final = 4096


def parse_datetime(text: str, *, lenient: bool = False) -> datetime | None:
    """Parse an API date-time into an aware UTC datetime; ``None`` when it is not one.

    With ``lenient``, parts out of range roll over as the real server's parser does
    (``23:50:79`` is ``23:51:19``); a missing offset is read as UTC. Without it, a value
    needs an offset unless it is a bare date, and out-of-range parts are refused.
    """
    key = (text, lenient)
    if key in _PARSED:
        return _PARSED[key]
    parsed = _parse_datetime(text, lenient=lenient)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[key] = parsed  # an aware datetime is immutable: safe to hand out again
    return parsed


def _parse_datetime(text: str, *, lenient: bool) -> datetime | None:
    match = _DATETIME.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if hour is None and offset is None:
        offset = "Z"  # a bare date is a UTC day: the server keeps nothing finer
    if offset is None:
        if not lenient:
            return None
        offset = "Z"
    try:
        base = datetime(int(year), int(month), int(day), tzinfo=UTC)
    except ValueError:
        return None
    h, m, s = int(hour or 0), int(minute or 0), int(second or 0)
    if not lenient and (h > 23 or m > 59 or s > 59):
        return None
    micros = int((fraction or "0").ljust(6, "0")[:6])
    sign = -1 if offset[0] == "-" else 1
    off_h, off_m = (0, 0)
    if offset not in ("Z", "z"):
        digits = offset[1:].replace(":", "")
        off_h, off_m = int(digits[:2]), int(digits[2:4] or 0)
        if not lenient and (off_h > 18 or off_m > 59):
            return None
    try:
        local = base + timedelta(hours=h, minutes=m, seconds=s, microseconds=micros)
        return local - sign * timedelta(hours=off_h, minutes=off_m)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is past the last day Python can hold
        return None


def api_datetime(text: str) -> str | None:
    """``text`` in the request form the docs show (``API_DATETIME_FORM``); ``None`` when it is
    not a date-time a series file may use (``parse_datetime`` without ``lenient``).

    The wall-clock time and the offset are kept as written: a space or ``T``, ``Z``/``z``
    (``+00:00``), ``-08``/``-0800`` (``-08:00``), missing seconds (``:00``) all become the
    one documented spelling; fractions of a second are dropped (the server keeps only the
    UTC day, and cutting a fraction never moves a moment across a day). A bare date is the
    start of that UTC day.
    """
    match = _DATETIME.match(text)
    if not match or parse_datetime(text) is None:
        return None
    year, month, day, hour, minute, second, _fraction, offset = match.groups()
    if hour is None:
        return f"{year}-{month}-{day}T00:00:00+00:00"
    zone = "+00:00"
    if offset not in ("Z", "z"):
        digits = offset[1:].replace(":", "")
        zone = f"{offset[0]}{digits[:2]}:{digits[2:4] or '00'}"
        if zone == "-00:00":
            zone = "+00:00"  # RFC 3339 reads -00:00 as "offset unknown"; it is UTC here
    return f"{year}-{month}-{day}T{hour}:{minute}:{second or '00'}{zone}"


def utc_day(moment: datetime) -> str:
    """The API's spelling of the start of ``moment``'s UTC day."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT00:00:00Z")


def float32(value: float) -> float | int:
    """``value`` rounded to single precision, as an int when it is whole."""
    try:
        rounded: float = struct.unpack("f", struct.pack("f", float(value)))[0]
    except OverflowError:
        return math.copysign(math.inf, value)
    if math.isfinite(rounded) and rounded == int(rounded):
        return int(rounded)
    return rounded


def int32(value: int) -> int:
    wrapped = value % 2**32
    return wrapped - 2**32 if wrapped >= 2**31 else wrapped


def stored_value(spec: Field, value: Any) -> Any:
    """What the server keeps (and answers) when it is sent ``value`` for ``spec``."""
    if value is None or value is ABSENT:
        return value
    storage = spec.storage
    if storage is Storage.UTC_DAY and isinstance(value, str):
        moment = parse_datetime(value, lenient=True)
        return utc_day(moment) if moment else value
    if storage is Storage.INT32 and is_int(value):
        return int32(int(value))
    if storage is Storage.FLOAT32 and _is_number(value):
        return float32(value)
    if storage is Storage.NON_POSITIVE_IS_UNLIMITED and _is_number(value) and value <= 0:
        return -1
    if storage is Storage.CONSTANT:
        return spec.enum[0]
    return value


# Canonical forms of scalars by (field, type, value): a plan compares 30 fields of every
# series on both sides, and most values repeat (PERC, true, the same dates). Only immutable
# results are kept, so a caller can never change what another one gets. Bounded.
_CANONICAL: dict[tuple[str, type, Any], Any] = {}
_CANONICAL_MAX: Final = 16384
_SCALAR_TYPES: Final = frozenset({str, int, float, bool, type(None)})


def canonical(name: str, value: Any) -> Any:
    """The form in which a value of field ``name`` is compared; ``None`` means no value."""
    kind = type(value)
    if kind not in _SCALAR_TYPES:
        return _canonical(name, value)
    key = (name, kind, value)
    if key in _CANONICAL:
        return _CANONICAL[key]
    result = _canonical(name, value)
    if type(result) in _SCALAR_TYPES:
        if len(_CANONICAL) >= _CANONICAL_MAX:
            _CANONICAL.clear()
        _CANONICAL[key] = result
    return result


def _canonical(name: str, value: Any) -> Any:
    spec = BY_NAME[name]
    if value is ABSENT or value is None:
        return None
    value = stored_value(spec, value)
    if _is_unset(spec, value):
        return None
    kind = spec.kind
    if kind is Kind.ID_LIST:
        return _id_set(value)
    if kind is Kind.REDEMPTION_RANGE:
        return _range(value)
    if kind is Kind.DATETIME:
        return value
    if kind is Kind.NUMBER and _is_number(value):
        if spec.storage is Storage.FLOAT32:
            return float32(value)
        # A double: 100 and 100.0 are one amount, compared (and hashed) as one value.
        return int(value) if isinstance(value, float) and value.is_integer() else value
    if kind is Kind.STRING_MAP and isinstance(value, Mapping):
        return {str(k): v for k, v in sorted(value.items())}
    if kind is Kind.OBJECT and isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items()) if v is not None}
    if kind is Kind.OBJECT_LIST and isinstance(value, list):
        return _object_set(spec, value)
    return _plain(value)


def to_api(name: str, value: Any) -> Any:
    """Turn a friendly YAML value of field ``name`` into the API's form."""
    spec = BY_NAME[name]
    kind = spec.kind
    if kind is Kind.ID_LIST and isinstance(value, list | tuple):
        return json.dumps([_id(v) for v in value])
    if kind is Kind.ID_LIST and isinstance(value, str):
        # JSON text is sent as the list form is: one spelling on the wire, ids as numbers.
        parsed = _json(value)
        if isinstance(parsed, list) and all(is_int(_id(v)) for v in parsed):
            return json.dumps([_id(v) for v in parsed])
        return value
    if kind is Kind.REDEMPTION_RANGE and isinstance(value, str):
        parsed = _json(value)
        if isinstance(parsed, dict) and parsed and set(parsed) <= set(RANGE_KEYS):
            return to_api(name, parsed)
        return value
    if kind is Kind.REDEMPTION_RANGE and isinstance(value, Mapping):
        # Every key, as in every example of the docs: a key left out means all ([-1]).
        return json.dumps(
            {k: [_id(v) for v in _as_list(value.get(k, [-1]))] for k in RANGE_KEYS},
            separators=(", ", ": "),
        )
    if kind is Kind.DATETIME:
        return _api_datetime_value(value)
    if (
        kind is Kind.NUMBER
        and isinstance(value, float)
        and value.is_integer()
        and (abs(value) < 2**53)
    ):
        # The docs label discountValue "integer": a whole value goes as one (15, not 15.0).
        return int(value)
    if kind is Kind.OBJECT_LIST and isinstance(value, list):
        return [_object_to_api(spec, item) for item in value]
    return value


def request_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A CouponSeriesV2 body with every date-time in the documented request form.

    Values a file gave are in that form already (``to_api``); this is for the values a PUT
    resends from the live series, which the server answers as ``2030-09-29T00:00:00Z``, a
    spelling its pages never show in a request.
    """
    out = dict(fields)
    for name, value in fields.items():
        spec = BY_NAME.get(name)
        if spec is not None and spec.kind is Kind.DATETIME and isinstance(value, str):
            out[name] = api_datetime(value) or value
    return out


def to_friendly(name: str, value: Any) -> Any:
    """Turn an API value of field ``name`` into the form a person would write in YAML."""
    spec = BY_NAME[name]
    if spec.kind is Kind.ID_LIST and isinstance(value, str):
        parsed = _json(value)
        return [_id(v) for v in parsed] if isinstance(parsed, list) else value
    if spec.kind is Kind.REDEMPTION_RANGE and isinstance(value, str):
        parsed = _json(value)
        if isinstance(parsed, dict):
            return {k: [_id(v) for v in _as_list(parsed[k])] for k in RANGE_KEYS if k in parsed}
        return value
    return value


# --- helpers ---------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_unset(spec: Field, value: Any) -> bool:
    return any(value == u and type(value) is type(u) for u in spec.unset)


def _json(text: str) -> Any:
    if json_too_deep(text):
        return None
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return None


def json_too_deep(text: str) -> bool:
    """``text`` opens more than ``MAX_JSON_DEPTH`` arrays or objects at once: refused unparsed
    (a parser would recurse that deep, and 5,000 levels raise RecursionError)."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _api_datetime_value(value: Any) -> Any:
    if isinstance(value, str):
        return api_datetime(value) or value  # a value that is no date is left to validate
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.isoformat(timespec="seconds")
        return api_datetime(value.isoformat(timespec="seconds")) or value.isoformat()
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00+00:00"
    return value


def _id(value: Any) -> Any:
    """Ids are numbers; the server also accepts them as numeric strings (``"-1"``)."""
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return value


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if _is_number(value) else (1, str(value))


def _id_set(value: Any) -> Any:
    parsed = _json(value) if isinstance(value, str) else value
    if not isinstance(parsed, list):
        return value  # not comparable as a set: keep it as written, it will show as a change
    return sorted({_id(v) for v in parsed if not isinstance(v, list | dict)}, key=_sort_key)


def _range(value: Any) -> Any:
    parsed = _json(value) if isinstance(value, str) else value
    if not isinstance(parsed, Mapping):
        return value
    out: dict[str, list[Any]] = {}
    for key in RANGE_KEYS:
        items = {_id(v) for v in _as_list(parsed.get(key, [-1]))}
        out[key] = [-1] if -1 in items else sorted(items, key=_sort_key)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _object_to_api(spec: Field, item: Any) -> Any:
    if not isinstance(item, Mapping):
        return item
    out = dict(item)
    for sub in spec.subfields:
        if sub.kind is Kind.ID_LIST and isinstance(out.get(sub.name), list | tuple):
            out[sub.name] = [_id(v) for v in out[sub.name]]
    return out


def _object_set(spec: Field, items: list[Any]) -> list[Any]:
    """A list of objects whose order carries no meaning, as a sorted list without repeats."""
    normal: list[Any] = []
    for item in items:
        if not isinstance(item, Mapping):
            normal.append(_plain(item))
            continue
        obj: dict[str, Any] = {}
        for key, val in sorted(item.items()):
            sub = spec.subfield(str(key))
            if sub is not None and sub.kind is Kind.ID_LIST:
                obj[str(key)] = _id_set(val if isinstance(val, list) else _as_list(val))
            else:
                obj[str(key)] = _plain(val)
        normal.append(obj)
    unique = {json.dumps(o, sort_keys=True): o for o in normal}
    return [unique[k] for k in sorted(unique)]


# ---------------------------------------------------------------------------- display


def _single(value: float) -> float | None:
    """``value`` rounded to single precision; None when single precision cannot hold it."""
    try:
        rounded: float = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        return None
    return rounded


def shortest_single(value: float) -> float | None:
    """The shortest decimal that reads back as ``value`` through single precision, as the
    double nearest to it (so ``repr`` and JSON print that decimal); None when ``value`` is
    not a single-precision number.

    The server keeps discountValue in single precision, so its canonical value is the float32
    nearest to what the file says (15.1 is kept as 15.100000381469727). Showing that double's
    ``repr`` makes a value look changed when it is exactly what was written; the shortest
    decimal that rounds to the same float32 is what a person wrote. Comparison still uses the
    exact value: this is for display only, and two different float32 values never share a
    shortest decimal.
    """
    if not math.isfinite(value) or _single(value) != value:
        return None
    for digits in range(1, 10):  # 9 significant digits always round-trip a float32
        candidate = float(f"{value:.{digits}g}")
        if _single(candidate) == value:
            return candidate
    return value


# ---------------------------------------------------------------------------- clocks


def now_utc() -> datetime:
    """Now, in UTC, to the second (the resolution of every timestamp the tool writes)."""
    return datetime.now(UTC).replace(microsecond=0)


def timestamp(moment: datetime) -> str:
    """The API's spelling of a moment, as its answers write it: ``2025-04-17T05:36:41Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
