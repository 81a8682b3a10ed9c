"""The rules a series file must meet, checked offline, every problem at once.

Three levels, each returning problems rather than raising, so one run reports everything:

- ``check_field``: one API field as written (name known and writable, type, enum, the
  friendly forms, what the server would store), turned into the API's form;
- ``check_series``: the rules between fields of one series, after the settings' defaults are
  merged under it (required on create, genericCode for GENERIC, expiry, limits, dates);
- ``check_across``: the rules between series files (a discountCode or seriesCode used twice).

The rules come from the vendor's pages and from what the request/response pairs in
the vendor's pages show the server doing (``canonical.stored_value`` models it): a value
the server would change in a way that matters is an error, one it changes harmlessly a
warning. Every message says what to write instead, for a marketer as much as an engineer.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, TypeGuard

from reconciler.files.yamlsafe import DocPath, Document
from reconciler.model import catalogue
from reconciler.model.canonical import (
    API_DATETIME_FORM,
    MAX_JSON_DEPTH,
    RANGE_KEYS,
    float32,
    int32,
    json_too_deep,
    parse_datetime,
    stored_value,
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
    MAX_CATEGORY_IDS,
    Access,
    Field,
    Kind,
    Storage,
    SubField,
)
from reconciler.model.desired import DesiredSeries, IgnoreRule, Reference, SeriesOptions
from reconciler.problems import Problem, Severity

RESERVED_KEY: Final = "reconciler"
OPTION_KEYS: Final = ("ignore", "retire", "only", "environments")
IGNORE_KEYS: Final = ("field", "reason")

_RANGE_LIMITS: Final = {"dom": (1, 31), "dow": (1, 7), "hours": (0, 23)}
_RANGE_WORDS: Final = {
    "dom": "days of the month",
    "dow": "weekdays (1 is Monday)",
    "hours": "hours",
}
_ID_LIST_HINT = 'a list of ids such as [101, 102] (or the API\'s JSON text "[101, 102]")'
_INVALID_RANGE = "API error 729, invalid redemption range"


@dataclass(frozen=True)
class Source:
    """Where a group of values was written: a file, its document, and the path in it
    (``("defaults",)`` for the settings' defaults)."""

    file: str
    document: Document
    prefix: DocPath = ()

    def problem(
        self,
        path: DocPath,
        message: str,
        *,
        severity: Severity = Severity.ERROR,
        key: bool = False,
        field: str = "",
    ) -> Problem:
        mark = self.document.where((*self.prefix, *path), key=key)
        name = field or (str(path[0]) if path else "")
        return Problem(self.file, mark.line, mark.column, message, severity, name)


@dataclass(frozen=True)
class Checked:
    """One field, checked: its API-form value (``ABSENT`` when it has an error)."""

    value: Any
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return self.value is not ABSENT


# --- one field ---------------------------------------------------------------------------------


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
        return _check_references(spec, value, source, problems)
    errors = _check_value(spec, value, source, problems)
    if errors:
        return Checked(ABSENT, tuple(problems))
    return Checked(_api_form(spec, value), tuple(problems))


def _check_references(
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
        message = _id_list_message([item])
        if message:
            problems.append(source.problem(at, f"{name}: {message}"))
            errors += 1
            continue
        items.append(int(item))
    if errors:
        return Checked(ABSENT, tuple(problems))
    return Checked(tuple(items), tuple(problems))


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


def suggest(name: str, known: Sequence[str]) -> str | None:
    """The known name closest to ``name``: a case or underscore slip first, then spelling."""
    squashed = name.replace("_", "").replace("-", "").lower()
    for candidate in known:
        if candidate.replace("_", "").lower() == squashed:
            return candidate
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return close[0] if close else None


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


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    """A value as the person wrote it in YAML, more or less."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return str(value)


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
                error(f"{name} must be text, not {_shown(value)}")
            else:
                error(f'{name} must be text: put it in quotes ("{_shown(value)}")')
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
                + f", not {_shown(value)}"
            )
    elif kind is Kind.ENUM:
        message = _enum_message(name, value, spec.enum)
        if message:
            if spec.storage is Storage.CONSTANT:
                message += f" (the server stores {spec.enum[0]} whatever is sent)"
            error(message)
    elif kind is Kind.DATETIME:
        _check_datetime(name, value, error, warn)
    elif kind is Kind.ID_LIST:
        message = _id_list_message(value)
        if message:
            error(f"{name} must be {_ID_LIST_HINT}: {message}")
    elif kind is Kind.REDEMPTION_RANGE:
        for where, message in _range_problems(value):
            error(message, (*path, *where))
    elif kind is Kind.STRING_MAP:
        if not isinstance(value, dict):
            error(f"{name} must be a mapping of names to text, not {_shown(value)}")
        else:
            for key, item in value.items():
                if not isinstance(item, str):
                    error(
                        f'{name}.{key} must be text: put it in quotes ("{_shown(item)}")',
                        (*path, key),
                    )
    elif kind is Kind.OBJECT:
        if not isinstance(value, dict):
            error(
                f"{name} must be a mapping with the keys "
                f"{', '.join(s.name for s in spec.subfields)}, not {_shown(value)}"
            )
        else:
            _check_object(spec, value, path, error)
    elif kind is Kind.OBJECT_LIST:
        if not isinstance(value, list):
            error(f"{name} must be a list of mappings, not {_shown(value)}")
        else:
            for i, item in enumerate(value):
                if not isinstance(item, dict):
                    error(
                        f"each item of {name} must be a mapping with the keys "
                        f"{', '.join(s.name for s in spec.subfields)}",
                        (*path, i),
                    )
                else:
                    _check_object(spec, item, (*path, i), error)
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
    if not _is_int(value):
        if isinstance(value, float) and value.is_integer():
            error(f"{name} must be a whole number: write {int(value)}")
        elif isinstance(value, str) and _leading_zero(value):
            error(_leading_zero_words(name, value))
        elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            error(f"{name} must be a number: write {value.strip()} without quotes")
        else:
            error(f"{name} must be a whole number, not {_shown(value)}")
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
    if not _is_number(value):
        if isinstance(value, str) and _leading_zero(value):
            error(_leading_zero_words(name, value))
        elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
            error(f"{name} must be a number: write {value.strip()} without quotes")
        else:
            error(f"{name} must be a number, not {_shown(value)}")
        return
    if not math.isfinite(value):
        error(f"{name} must be a finite number")
        return
    if value < 0:
        error(f"{name} cannot be negative ({value})")
        return
    if spec.storage is Storage.FLOAT32:
        stored = float32(value)
        # Cents are what a discount can lose and still mean the same thing.
        if not math.isfinite(stored) or abs(stored - value) >= 0.01:
            error(
                f"{name} {value} cannot be stored exactly: the server keeps single-precision "
                f"numbers and would store {stored}"
            )


def _enum_message(name: str, value: Any, allowed: Sequence[str]) -> str:
    if isinstance(value, str) and value in allowed:
        return ""
    listed = ", ".join(allowed)
    if not isinstance(value, str):
        return f"{name} must be one of {listed}, not {_shown(value)}"
    for option in allowed:
        if option.lower() == value.lower():
            return f"{name} {value!r} must be written {option} (values are case-sensitive)"
    close = difflib.get_close_matches(value.upper(), [a.upper() for a in allowed], n=1)
    hint = ""
    if close:
        hint = f": did you mean {next(a for a in allowed if a.upper() == close[0])}?"
    return f"{name} {value!r} is not one of {listed}{hint}"


def _check_datetime(name: str, value: Any, error: Any, warn: Any) -> None:
    if not isinstance(value, str):
        error(
            f"{name} must be a date such as 2025-12-31 or 2025-12-31T23:59:59+05:30, "
            f"not {_shown(value)}"
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


def _id_list_message(value: Any) -> str:
    """Why ``value`` is not a list of ids, or "" when it is one."""
    items = value
    if isinstance(value, str):
        if json_too_deep(value):
            return f"{_shown(value[:40])}... nests deeper than {MAX_JSON_DEPTH} levels"
        try:
            items = json.loads(value)
        except ValueError:
            return f"{_shown(value)} is not valid JSON"
        if not isinstance(items, list):
            return f"{_shown(value)} is not a JSON array"
    if not isinstance(items, list):
        return f"not {_shown(value)}"
    bad = [v for v in items if not _is_id(v)]
    if bad:
        return f"{_shown(bad[0])} is not an id (ids are whole numbers)"
    return ""


def _is_id(value: Any) -> bool:
    if _is_int(value):
        return bool(INT64_MIN <= value <= INT64_MAX)
    return isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value.strip()) is not None


def _range_problems(value: Any) -> list[tuple[DocPath, str]]:
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
                    f"{name} {_shown(value[:40])}... nests deeper than {MAX_JSON_DEPTH} "
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
                    f"{name} {_shown(value)} is not valid JSON ({_INVALID_RANGE}): write "
                    "a mapping such as {dom: [1, 15], dow: [-1], hours: [-1]}",
                )
            ]
    if not isinstance(parsed, dict):
        return [
            (
                (),
                f"{name} must be a mapping such as {{dom: [1, 15], dow: [-1], hours: "
                f"[-1]}}, not {_shown(parsed)}",
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
            number = int(item) if _is_id(item) else None
            if number is None or (number != -1 and not low <= number <= high):
                found.append(
                    (
                        spot,
                        f"{name} {key} has {_shown(item)}: {_RANGE_WORDS[key]} "
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


def _check_object(spec: Field, value: Mapping[str, Any], path: DocPath, error: Any) -> None:
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
        return _enum_message(label, value, sub.enum)
    if sub.kind is Kind.INTEGER and not _is_int(value):
        return f"{label} must be a whole number, not {_shown(value)}"
    if sub.kind is Kind.ID_LIST:
        if not isinstance(value, list):
            return f"{label} must be a list of ids such as [101, 102], not {_shown(value)}"
        message = _id_list_message(value)
        return f"{label}: {message}" if message else ""
    return ""


def _api_form(spec: Field, value: Any) -> Any:
    # Every spelling accepted above has one request form (canonical.to_api): the server is
    # sent what its pages document, never what the file happened to write.
    return to_api(spec.name, value)


# --- the tool's own key ------------------------------------------------------------------------


def check_options(value: Any, *, source: Source) -> tuple[SeriesOptions, list[Problem]]:
    """Check the reserved ``reconciler:`` key of a series file."""
    path: DocPath = (RESERVED_KEY,)
    problems: list[Problem] = []
    if not isinstance(value, dict):
        problems.append(
            source.problem(
                path,
                f"{RESERVED_KEY}: holds the tool's settings for this series, a mapping "
                "with ignore:, retire:, only: and environments:",
                field=RESERVED_KEY,
            )
        )
        return SeriesOptions(), problems
    for key in value:
        if key not in OPTION_KEYS:
            close = suggest(key, OPTION_KEYS)
            hint = f"did you mean {close}? " if close else ""
            problems.append(
                source.problem(
                    (*path, key),
                    f"{RESERVED_KEY}: has no setting {key!r}: {hint}The settings "
                    f"are {', '.join(OPTION_KEYS)}",
                    key=True,
                    field=RESERVED_KEY,
                )
            )
    rules, more = check_ignore_rules(value.get("ignore", []), source=source, path=(*path, "ignore"))
    problems.extend(more)
    retire = value.get("retire", False)
    if not isinstance(retire, bool):
        problems.append(
            source.problem(
                (*path, "retire"),
                f"retire must be true or false, not {_shown(retire)}",
                field=RESERVED_KEY,
            )
        )
        retire = False
    only, more = _check_only(value.get("only"), source=source, path=(*path, "only"))
    problems.extend(more)
    overrides = value.get("environments")
    if overrides is not None and not (
        isinstance(overrides, dict) and all(isinstance(v, dict) for v in overrides.values())
    ):
        problems.append(
            source.problem(
                (*path, "environments"),
                "environments: maps environment names to the fields that differ there, such "
                "as {production: {storeIdsJson: [201, 202]}}",
                field=RESERVED_KEY,
            )
        )
    return SeriesOptions(ignore=rules, retire=retire, only=only), problems


def _check_only(
    value: Any, *, source: Source, path: DocPath
) -> tuple[tuple[str, ...] | None, list[Problem]]:
    if value is None:
        return None, []
    names = [value] if isinstance(value, str) else value
    if (
        not isinstance(names, list)
        or not names
        or not all(isinstance(n, str) and n.strip() for n in names)
    ):
        message = (
            "only: lists the environments this series exists in, such as [testing]; "
            "leave it out for every environment"
        )
        return None, [source.problem(path, message, field=RESERVED_KEY)]
    return tuple(n.strip() for n in names), []


def check_ignore_rules(
    value: Any, *, source: Source, path: DocPath
) -> tuple[tuple[IgnoreRule, ...], list[Problem]]:
    """Check a list of ``{field: NAME, reason: TEXT}`` rules."""
    problems: list[Problem] = []
    rules: list[IgnoreRule] = []
    label = "ignore"
    if value is None:
        return (), problems
    if not isinstance(value, list):
        problems.append(
            source.problem(
                path,
                f"{label} must be a list of rules such as - {{field: maxRedeem, reason: "
                '"ops tune it"}',
                field=RESERVED_KEY,
            )
        )
        return (), problems
    for i, item in enumerate(value):
        at: DocPath = (*path, i)
        if not isinstance(item, dict):
            problems.append(
                source.problem(at, "each ignore rule is a mapping with field: and reason:")
            )
            continue
        for key in item:
            if key not in IGNORE_KEYS:
                problems.append(
                    source.problem(
                        (*at, key),
                        f"an ignore rule has no key {key!r}: write field: and reason: only",
                        key=True,
                    )
                )
        name = item.get("field")
        reason = item.get("reason")
        ok = True
        if not isinstance(name, str) or not name:
            problems.append(
                source.problem(
                    at, "an ignore rule needs field: the API field whose live value is left alone"
                )
            )
            ok = False
        elif name not in BY_NAME:
            problems.append(source.problem((*at, "field"), unknown_field_message(name), field=name))
            ok = False
        elif not BY_NAME[name].writable:
            problems.append(
                source.problem(
                    (*at, "field"),
                    f"{name} is set by the server and never compared: an ignore "
                    "rule for it has no effect; remove it",
                    field=name,
                )
            )
            ok = False
        if not isinstance(reason, str) or not reason.strip():
            problems.append(
                source.problem(
                    at,
                    "an ignore rule needs reason: say why the live value is left alone, for "
                    "the reviewers who will wonder",
                    field=name if isinstance(name, str) else "",
                )
            )
            ok = False
        if ok and isinstance(name, str) and isinstance(reason, str):
            rules.append(IgnoreRule(field=name, reason=reason.strip(), source=source.file))
    return tuple(rules), problems


# --- one series --------------------------------------------------------------------------------


def check_series(
    fields: Mapping[str, Any],
    *,
    origins: Mapping[str, Source],
    file: str,
    invalid: frozenset[str] = frozenset(),
    today: date | None = None,
) -> list[Problem]:
    """The rules between the fields of one series, in API form, defaults merged.

    ``origins`` says where each field was written (the series file or the settings'
    defaults); ``invalid`` names fields that already have an error, so that a wrong value
    is not reported a second time as missing.
    """
    problems: list[Problem] = []

    def at(
        name: str, message: str, *, severity: Severity = Severity.ERROR, path: DocPath = ()
    ) -> None:
        source = origins.get(name)
        if source is None:
            problems.append(Problem(file, 0, 0, message, severity, name))
        else:
            problems.append(source.problem((name, *path), message, severity=severity))

    def present(name: str) -> bool:
        return fields.get(name) is not None

    for name in catalogue.required_on_create():
        if name in invalid:
            continue
        doc = BY_NAME[name].doc.rstrip(".")
        if not present(name):
            at(name, f"{name} is missing: every series needs it to be created ({doc})")
        elif isinstance(fields[name], str) and not fields[name].strip():
            # The API refuses a blank mandatory text as if it were missing (error 744).
            at(name, f"{name} is empty: every series needs one ({doc})")

    for rule in catalogue.broken_rules(fields):
        if rule.field in invalid or any(name in invalid for name in rule.reads):
            continue  # a wrong value is reported once, where it was written
        at(rule.field, rule.message.format_map(fields), severity=rule.severity)

    for name in ("couponPrefix", "couponSuffix"):
        # Checked here rather than with the field, so that a bad affix is reported with the
        # rules above (DISC_CODE only) instead of hiding them.
        affix, pattern = fields.get(name), BY_NAME[name].pattern
        if isinstance(affix, str) and affix and pattern and not re.match(pattern, affix):
            at(name, f"{name} {affix!r} must be at most 10 characters of letters, digits, - and _")

    products = fields.get("productInfo")
    if isinstance(products, list):
        for i, item in enumerate(products):
            if (
                isinstance(item, Mapping)
                and item.get("productType") == "CATEGORY"
                and isinstance(item.get("productIds"), list)
                and len(item["productIds"]) > MAX_CATEGORY_IDS
            ):
                at(
                    "productInfo",
                    f"productInfo CATEGORY lists {len(item['productIds']):,} "
                    f"product ids: at most {MAX_CATEGORY_IDS:,}",
                    path=(i, "productIds"),
                )

    # The date rules stay here: they need the date parser (canonical), which sits above the
    # catalogue. A warning, not an error, for validTillDate before redemptionValidFrom: see
    # below.
    till = _moment(fields.get("validTillDate"))
    start = _moment(fields.get("redemptionValidFrom"))
    if till is not None and start is not None and till < start:
        # A warning: moving validTillDate is the documented way to end a series early, and a
        # series ended before its redemption started is one the CRM holds and import writes.
        at(
            "validTillDate",
            f"validTillDate {fields['validTillDate']} is before "
            f"redemptionValidFrom {fields['redemptionValidFrom']}: no coupon can ever be "
            "redeemed (fine for a series ended early; otherwise correct one of the dates)",
            severity=Severity.WARNING,
        )
    if till is not None:
        day = (today or datetime.now(UTC).date()).isoformat()
        kept = stored_value(BY_NAME["validTillDate"], fields["validTillDate"])
        if isinstance(kept, str) and kept[:10] < day:
            at(
                "validTillDate",
                f"validTillDate {fields['validTillDate']} is already past: "
                "the series has ended (to end a series on purpose, use retire: true under "
                f"{RESERVED_KEY}:)",
                severity=Severity.WARNING,
            )
    return problems


def _moment(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


# --- across files ------------------------------------------------------------------------------

# The identity fields that are unique in the org (genericCode is shared by design).
UNIQUE_FIELDS: Final = tuple(n for n in catalogue.identity_fields() if n != "genericCode")


def check_across(series: Sequence[DesiredSeries]) -> list[Problem]:
    """Rules between series files: a discountCode or seriesCode in two files."""
    problems: list[Problem] = []
    for name in UNIQUE_FIELDS:
        users: dict[Any, list[DesiredSeries]] = {}
        for one in series:
            value = one.fields.get(name)
            if isinstance(value, str) and value:
                users.setdefault(value, []).append(one)
        for value, holders in users.items():
            if len(holders) < 2:
                continue
            for one in holders:
                others = _some_files([o.file for o in holders if o is not one])
                line = one.lines.get(name, 0)
                problems.append(
                    Problem(
                        one.file,
                        line,
                        1 if line else 0,
                        f"{name} {value!r} is also used by {others}: each series needs its own",
                        Severity.ERROR,
                        name,
                    )
                )
    return problems


def _some_files(files: list[str], *, shown: int = 3) -> str:
    # A few names and a count: naming every other file on each line grows as n squared.
    head = ", ".join(files[:shown])
    return head + (f" and {len(files) - shown:,} other files" if len(files) > shown else "")


__all__ = [
    "OPTION_KEYS",
    "RESERVED_KEY",
    "UNIQUE_FIELDS",
    "Checked",
    "Source",
    "check_across",
    "check_field",
    "check_ignore_rules",
    "check_options",
    "check_series",
    "suggest",
    "unknown_field_message",
]
