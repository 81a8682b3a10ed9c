"""One field of a series file, as written: its name, its type, and what the server would store.

``check_field`` checks a value and turns it into the API's form (``canonical.to_api``);
values carried as structures are checked by ``reconciler.files.shape_checks``. A value the
server would change in a way that matters is an error, one it changes harmlessly a warning;
every message says what to write instead.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import date, datetime
from typing import Any

from reconciler.files.shape_checks import (
    ID_LIST_HINT,
    check_object,
    check_references,
    id_list_message,
    range_problems,
)
from reconciler.files.source import Checked, Source, enum_message, shown, suggest
from reconciler.files.yamlsafe import DocPath
from reconciler.model import catalogue
from reconciler.model.canonical import (
    API_DATETIME_FORM,
    float32,
    int32,
    parse_datetime,
    to_api,
    utc_day,
)
from reconciler.model.catalogue import (
    ABSENT,
    BY_NAME,
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    Access,
    Field,
    Format,
    Kind,
    Storage,
    is_int,
    is_number,
)
from reconciler.problems import Problem, Severity


def check_field(name: str, value: Any, *, source: Source) -> Checked:
    """Check the value a file gives field ``name``; return it in the API's form."""
    problems: list[Problem] = []
    spec = BY_NAME.get(name)
    if spec is None:
        problems.append(source.problem((name,), unknown_field_message(name), key=True))
        return Checked(ABSENT, tuple(problems))
    if spec.access is not Access.WRITABLE:
        problems.append(source.problem((name,), _server_owned_message(spec), key=True))
        return Checked(ABSENT, tuple(problems))
    if spec.deprecated:
        problems.append(
            source.problem(
                (name,),
                f"{name} is deprecated by the vendor: it may stop working; remove it "
                "unless you rely on it",
                severity=Severity.WARNING,
                key=True,
            )
        )
    if value is None:
        if None in spec.unset:
            return Checked(None, tuple(problems))
        problems.append(
            source.problem((name,), f"{name} has no value: write one, or remove the line")
        )
        return Checked(ABSENT, tuple(problems))
    if spec.series_ids and isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return check_references(spec, value, source, problems)
    errors = _check_value(spec, value, source, problems)
    if errors:
        return Checked(ABSENT, tuple(problems))
    if not spec.answered:
        problems.append(
            source.problem((name,), unanswered_message(name), severity=Severity.WARNING, key=True)
        )
    return Checked(_api_form(spec, value), tuple(problems))


@functools.lru_cache(maxsize=256)  # one string per field, not one per file (10,000 files)
def unanswered_message(name: str) -> str:
    return (
        f"{name} appears in no documented answer of the API: when the CRM's answer leaves it "
        "out, the plan cannot compare it and a change to it alone is not planned. The tool "
        "sends it with the create and with every update of this series, so an update never "
        "clears it"
    )


def unknown_field_message(name: str) -> str:
    """The message for a name the API does not have, with the closest known name."""
    if name == "CouponSeriesV2":
        return (
            "write the series' fields at the top level of the file, without the "
            "CouponSeriesV2 wrapper of the API's request"
        )
    suggestion = suggest(name, [f.name for f in catalogue.FIELDS])
    hint = (
        f": did you mean {suggestion}?"
        if suggestion
        else (": it is not a coupon series field (`reconciler schema` lists them all)")
    )
    return f"unknown field {name!r}{hint}"


def _server_owned_message(spec: Field) -> str:
    why = f" ({spec.evidence})" if spec.evidence else ""
    if spec.access is Access.IGNORED:
        return (
            f"{spec.name} is accepted by the server but never stored{why}: remove it from the file"
        )
    return (
        f"{spec.name} is set by the server, not by files: what is sent is ignored{why}. "
        "Remove it from the file"
    )


def _check_value(spec: Field, value: Any, source: Source, problems: list[Problem]) -> int:
    """Append the problems of ``value``; return how many of them are errors."""
    before = len(problems)
    name = spec.name
    path: DocPath = (name,)

    def error(message: str, where: DocPath = path) -> None:
        problems.append(source.problem(where, message))

    def warn(message: str, where: DocPath = path) -> None:
        problems.append(source.problem(where, message, severity=Severity.WARNING))

    kind = spec.kind
    if kind is Kind.STRING:
        if not isinstance(value, str):
            if isinstance(value, list | dict):
                error(f"{name} must be text, not {shown(value)}")
            else:
                error(f'{name} must be text: put it in quotes ("{shown(value)}")')
        # A field with a pattern (couponPrefix, couponSuffix) is checked against it in
        # check_series, whose message gives the length too.
        elif spec.max_length is not None and len(value) > spec.max_length and not spec.pattern:
            error(f"{name} is {len(value)} characters long: at most {spec.max_length}")
    elif kind is Kind.INTEGER:
        _check_integer(spec, value, path, error, warn)
    elif kind is Kind.NUMBER:
        _check_number(spec, value, error)
    elif kind is Kind.BOOLEAN:
        if not isinstance(value, bool):
            quoted = isinstance(value, str) and value.lower() in ("true", "false", "yes", "no")
            error(
                f"{name} must be true or false"
                + (" (without quotes)" if quoted else "")
                + f", not {shown(value)}"
            )
    elif kind is Kind.ENUM:
        message = enum_message(name, value, spec.enum)
        if message:
            if spec.storage is Storage.CONSTANT:
                message += f" (the server stores {spec.enum[0]} whatever is sent)"
            error(message)
    elif kind is Kind.DATETIME:
        _check_datetime(name, value, error, warn)
    elif kind is Kind.ID_LIST:
        message = id_list_message(value)
        if message:
            error(f"{name} must be {ID_LIST_HINT}: {message}")
    elif kind is Kind.REDEMPTION_RANGE:
        for where, message in range_problems(value):
            error(message, (*path, *where))
    elif kind is Kind.STRING_MAP:
        if not isinstance(value, dict):
            error(f"{name} must be a mapping of names to text, not {shown(value)}")
        else:
            for key, item in value.items():
                if not isinstance(item, str):
                    error(
                        f'{name}.{key} must be text: put it in quotes ("{shown(item)}")',
                        (*path, key),
                    )
    elif kind is Kind.OBJECT:
        if not isinstance(value, dict):
            error(
                f"{name} must be a mapping with the keys "
                f"{', '.join(s.name for s in spec.subfields)}, not {shown(value)}"
            )
        else:
            check_object(spec, value, path, error)
    elif kind is Kind.OBJECT_LIST:
        if not isinstance(value, list):
            error(f"{name} must be a list of mappings, not {shown(value)}")
        else:
            for i, item in enumerate(value):
                if not isinstance(item, dict):
                    error(
                        f"each item of {name} must be a mapping with the keys "
                        f"{', '.join(s.name for s in spec.subfields)}",
                        (*path, i),
                    )
                else:
                    check_object(spec, item, (*path, i), error)
    return sum(1 for p in problems[before:] if p.is_error)


def _leading_zero(text: str) -> bool:
    """Digits after a leading 0 (``08``): YAML reads them as text, quoted or not."""
    return re.fullmatch(r"\s*-?0\d+\s*", text) is not None


def _leading_zero_words(name: str, text: str) -> str:
    shown = text.strip()
    return (
        f"{name} must be a number: {shown} is text in YAML (digits after a leading 0 are "
        f"read as an octal number, and {shown} is not one); write {int(shown)}"
    )


def _check_integer(spec: Field, value: Any, path: DocPath, error: Any, warn: Any) -> None:
    name = spec.name
    if not is_int(value):
        if isinstance(value, float) and value.is_integer():
            error(f"{name} must be a whole number: write {int(value)}")
        elif isinstance(value, str) and _leading_zero(value):
            error(_leading_zero_words(name, value))
        elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            error(f"{name} must be a number: write {value.strip()} without quotes")
        else:
            error(f"{name} must be a whole number, not {shown(value)}")
        return
    if not INT64_MIN <= value <= INT64_MAX:
        error(
            f"{name} {value} is outside the range the server can store (64-bit numbers, "
            f"at most {INT64_MAX})"
        )
        return
    if spec.storage is Storage.INT32 and not INT32_MIN <= value <= INT32_MAX:
        error(
            f"{name} {value} is too large for the server, which keeps 32-bit numbers: it "
            f"would store {int32(value)}. Write at most {INT32_MAX}, or -1 for no limit"
        )
        return
    if spec.format is Format.INT32 and not INT32_MIN <= value <= INT32_MAX:
        # The OpenAPI types it int32; no pair shows what the server does beyond (wrap, as
        # maxCreate does, or refuse): either way the value would not be kept.
        error(
            f"{name} {value} is beyond what the API holds for it (a 32-bit number, "
            f"{INT32_MIN} to {INT32_MAX})"
        )
        return
    if spec.storage is Storage.NON_POSITIVE_IS_UNLIMITED and value <= 0 and value != -1:
        error(
            f"{name} {value} is stored as -1 (no limit) by the server: write -1 for no "
            "limit, or a number above 0"
        )
        return
    if spec.minimum is not None and value < spec.minimum:
        error(f"{name} must be at least {spec.minimum}, not {value}")
    elif spec.maximum is not None and value > spec.maximum:
        error(f"{name} must be at most {spec.maximum}, not {value}")


def _check_number(spec: Field, value: Any, error: Any) -> None:
    name = spec.name
    if not is_number(value):
        if isinstance(value, str) and _leading_zero(value):
            error(_leading_zero_words(name, value))
        elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
            error(f"{name} must be a number: write {value.strip()} without quotes")
        else:
            error(f"{name} must be a number, not {shown(value)}")
        return
    if not math.isfinite(value):
        error(f"{name} must be a finite number")
        return
    if spec.minimum is not None and value < spec.minimum:
        error(
            f"{name} cannot be negative ({value})"
            if spec.minimum == 0
            else (f"{name} must be at least {spec.minimum}, not {value}")
        )
        return
    if spec.storage is Storage.FLOAT32:
        stored = float32(value)
        # Cents are what a discount can lose and still mean the same thing.
        if not math.isfinite(stored) or abs(stored - value) >= 0.01:
            error(
                f"{name} {value} cannot be stored exactly: the server keeps single-precision "
                f"numbers and would store {stored}"
            )
    elif spec.format is Format.DOUBLE and is_int(value) and not _double_holds(value):
        error(
            f"{name} {value} cannot be stored exactly: the server keeps it as a double "
            f"(the OpenAPI's type), which would hold {int(float(value))}"
        )


def _double_holds(value: int) -> bool:
    try:
        return int(float(value)) == value
    except OverflowError:
        return False


def _check_datetime(name: str, value: Any, error: Any, warn: Any) -> None:
    if not isinstance(value, str):
        error(
            f"{name} must be a date such as 2025-12-31 or 2025-12-31T23:59:59+05:30, "
            f"not {shown(value)}"
        )
        return
    moment = parse_datetime(value)
    if moment is None:
        if parse_datetime(value, lenient=True) is not None and _no_offset(value):
            error(
                f"{name} {value} has no UTC offset: the server's clock zone is not yours: "
                "add an offset such as +05:30 or Z"
            )
        elif _out_of_range(value):
            error(
                f"{name} {value!r} is outside the dates a server can hold in UTC: write a "
                f"date before 9999-12-31 in the form {API_DATETIME_FORM}, such as "
                "2025-12-31T23:59:59+05:30"
            )
        else:
            error(
                f"{name} {value!r} is not a valid date: write 2025-12-31 or "
                f"2025-12-31T23:59:59+05:30 (the API's form, {API_DATETIME_FORM})"
            )
        return
    if moment.time() != datetime.min.time():
        utc = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        said = value.strip() if utc == value.strip() else f"{value.strip()} is {utc}"
        warn(f"{name} {said}: the server keeps only the UTC day and stores {utc_day(moment)}")


def _out_of_range(text: str) -> bool:
    """A well-formed date-time whose moment in UTC falls outside years 1 to 9999."""
    match = re.match(r"^\s*(\d{4})-(\d{2})-(\d{2})", text)
    if match is None or parse_datetime(text, lenient=True) is not None:
        return False
    try:
        date(*(int(g) for g in match.groups()))
    except ValueError:
        return False
    return True


def _no_offset(text: str) -> bool:
    return re.search(r"(Z|z|[+-]\d{2}(:?\d{2})?)\s*$", text.strip()[10:]) is None


def _api_form(spec: Field, value: Any) -> Any:
    # Every spelling accepted above has one request form (canonical.to_api): the server is
    # sent what its pages document, never what the file happened to write.
    return to_api(spec.name, value)


__all__ = ["check_field", "unknown_field_message"]
