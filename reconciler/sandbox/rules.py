"""What the server does with a CouponSeriesV2 body: checks, normalisation, server-owned fields.

Pure functions over dicts, driven by the field catalogue and ``canonical.stored_value``; the
HTTP layer (``app``) and the storage (``store``) sit around them. Every behaviour here is
written down, with its evidence, in ``docs/sandbox.md``.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from reconciler.model import catalogue
from reconciler.model.canonical import (
    API_DATETIME,
    API_DATETIME_FORM,
    now_utc,
    parse_datetime,
    stored_value,
    timestamp,
    utc_day,
)
from reconciler.model.catalogue import (
    ABSENT,
    BY_NAME,
    FIELDS,
    Field,
    Kind,
    Storage,
    is_int,
    required_on_create,
    required_on_update,
)

# --- error codes (docs: coupon-apis reference and the update page) ---------------------------
CODE_INVALID_SERIES_ID: Final = 707  # "Coupon Series ID = {x} is invalid"
CODE_INVALID_RANGE: Final = 729
CODE_FIELDS: Final = 744  # "couldn't save series fields": the sandbox's code for field checks
CODE_DUPLICATE_SERIES_CODE: Final = 751
CODE_SERIES_CODE_EMPTY: Final = 753
CODE_GENERIC_CODE_EMPTY: Final = 754
CODE_BAD_SERIES_ID: Final = 755
CODE_MUTUAL_EXCLUSIVE: Final = 756
CODE_RETRY: Final = 786  # "unable to process (retry)"

ORG_ID: Final = 100737  # the org of the docs' own answers (seeds/000, seeds/003)
CREATED_BY: Final = 75155297  # the user of the update pair's answer (seeds/000)
VALID_DAYS_FROM_CREATION: Final = 30
SERIES_CODE_LENGTH: Final = 10

# The key order of the real answers is the catalogue's (catalogue.ANSWER_ORDER).
ANSWER_ORDER: Final = catalogue.ANSWER_ORDER

# Fields the real answers carry that the catalogue does not list; the sandbox adds them to
# every answer (never stores them) so that clients prove they tolerate unknown keys.
EXTRA_ANSWER_FIELDS: Final[Mapping[str, Any]] = {"brandId": None, "offerType": "COUPON"}

# Server-owned fields set once, on create, and kept by every PUT.
_SET_ON_CREATE: Final = catalogue.kept_on_update()

_RANGE_BOUNDS: Final = {"dom": (1, 31), "dow": (1, 7), "hours": (0, 23)}


class ApiFailure(Exception):
    """An answer other than 2xx, with the documented error body."""

    def __init__(
        self,
        status: int,
        errors: tuple[tuple[int, str], ...],
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.errors = errors
        self.headers = dict(headers or {})
        super().__init__(f"{status}: " + "; ".join(f"{c} {m}" for c, m in errors))

    @classmethod
    def one(cls, status: int, code: int, message: str) -> ApiFailure:
        return cls(status, ((code, message),))

    def body(self) -> dict[str, Any]:
        return error_body(self.errors)


def error_body(errors: tuple[tuple[int, str], ...]) -> dict[str, Any]:
    """The documented v2 error body."""
    return {
        "warnings": [],
        "errors": [{"status": False, "code": c, "message": m} for c, m in errors],
        "success": False,
    }


def epoch_ms(day: str) -> int | None:
    moment = parse_datetime(day, lenient=True)
    return int(moment.timestamp() * 1000) if moment else None


def new_series_code(*, taken: Callable[[str], bool]) -> str:
    """A random 10-character code, as the server makes on create (seeds/003: fEDH0qD8rr)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        code = "".join(secrets.choice(alphabet) for _ in range(SERIES_CODE_LENGTH))
        if not taken(code):
            return code


def ordered(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` with its keys in the order the real answers use."""
    out = {k: doc[k] for k in ANSWER_ORDER if k in doc}
    out.update({k: v for k, v in doc.items() if k not in out})
    return out


def answer(doc: Mapping[str, Any], *, warnings: bool) -> dict[str, Any]:
    """A stored series as the API answers it: extras added, ``warnings`` on POST/PUT only."""
    out = dict(doc)
    out.update(EXTRA_ANSWER_FIELDS)
    if warnings:
        out["warnings"] = []
    return out


def unwrap(body: Any) -> dict[str, Any]:
    """The CouponSeriesV2 object of a request body."""
    inner = body.get("CouponSeriesV2") if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        raise ApiFailure.one(400, CODE_FIELDS, 'The body must be {"CouponSeriesV2": {...}}')
    return inner


def check_date_forms(sent: Mapping[str, Any], *, strict: bool) -> None:
    """With ``strict`` (``Faults.strict_dates``), refuse a body whose writable date-times
    are not spelled as the docs show them; ``ApiFailure`` naming each one."""
    if not strict:
        return
    errors = tuple(
        (CODE_FIELDS, f"{spec.name} must be {API_DATETIME_FORM}, not {json.dumps(value)[:80]}")
        for spec in FIELDS
        if spec.writable and spec.kind is Kind.DATETIME and spec.name in sent
        for value in (sent[spec.name],)
        if value is not None and not (isinstance(value, str) and API_DATETIME.match(value))
    )
    if errors:
        raise ApiFailure(400, errors)


# --- create and update ---------------------------------------------------------------------


def build_created(
    sent: Mapping[str, Any],
    *,
    new_id: int,
    now: datetime,
    series_code: str,
    exists: Callable[[int], bool],
) -> dict[str, Any]:
    """The series the server stores for a POST of ``sent``; ``ApiFailure`` when refused."""
    _check_required(sent, required_on_create(), update=False)
    doc = _writable(sent, exists=exists, self_id=None)
    doc["seriesCode"] = series_code  # the sent value is ignored (seeds/003)
    doc.update(
        id=new_id,
        orgId=ORG_ID,
        createdBy=CREATED_BY,
        createdOn=timestamp(now),
        validDaysFromCreation=VALID_DAYS_FROM_CREATION,
        ownerId=-1,
        numIssued=0,
        numRedeemed=0,
        numTotal=0,
        numUploadedNonIssued=0,
        numUploadedTotal=0,
        latestIssualTime=0,
        latestRedemptionTime=0,
    )
    return _finish(doc, now=now)


def build_updated(
    sent: Mapping[str, Any],
    *,
    current: Mapping[str, Any],
    now: datetime,
    exists: Callable[[int], bool],
    series_code_owner: Callable[[str], int | None],
) -> dict[str, Any]:
    """The series the server stores for a PUT of ``sent`` onto ``current`` (full replacement)."""
    _check_required(sent, required_on_update(), update=True)
    series_id = int(current["id"])
    code = sent["seriesCode"]
    owner = series_code_owner(code)
    if owner is not None and owner != series_id:
        raise ApiFailure.one(
            400,
            CODE_DUPLICATE_SERIES_CODE,
            f"A coupon series with the same series code '{code}' already exists",
        )
    doc = _writable(sent, exists=exists, self_id=series_id)
    if "validTillDate" not in doc and "validTillDate" in current:
        doc["validTillDate"] = current["validTillDate"]  # the one field without a default
    issued = current.get("numIssued", 0)
    max_create = doc.get("maxCreate", -1)
    if isinstance(issued, int) and isinstance(max_create, int) and 0 <= max_create < issued:
        raise ApiFailure.one(
            400,
            CODE_FIELDS,
            f"maxCreate {max_create} is below the {issued} coupons already issued",
        )
    for name in _SET_ON_CREATE:
        if name in current:
            doc[name] = current[name]
    return _finish(doc, now=now)


def _finish(doc: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    doc["lastUsed"] = timestamp(now)
    doc["dvsExpiryDate"] = utc_day(now)
    till = doc.get("validTillDate")
    fixed = epoch_ms(till) if isinstance(till, str) else None
    if fixed is not None:
        doc["fixedExpiryDate"] = fixed
    return ordered(doc)


def _check_required(sent: Mapping[str, Any], names: tuple[str, ...], *, update: bool) -> None:
    errors: list[tuple[int, str]] = []
    for name in names:
        value = sent.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if name == "seriesCode" and update:
                errors.append((CODE_SERIES_CODE_EMPTY, "Series code cannot be empty"))
            else:
                errors.append((CODE_FIELDS, f"{name} is mandatory"))
    if errors:
        raise ApiFailure(400, tuple(errors))


def _writable(
    sent: Mapping[str, Any], *, exists: Callable[[int], bool], self_id: int | None
) -> dict[str, Any]:
    """Every writable field: the sent value as stored, else the server's default."""
    errors: list[tuple[int, str]] = []
    doc: dict[str, Any] = {}
    for spec in FIELDS:
        if not spec.writable or (spec.set_on_update_only and self_id is None):
            continue
        if spec.name in sent and sent[spec.name] is not None:
            problem = _check_value(spec, sent[spec.name], exists=exists, self_id=self_id)
            if problem:
                errors.append(problem)
                continue
            doc[spec.name] = stored_value(spec, sent[spec.name])
        elif spec.default is not ABSENT:
            doc[spec.name] = spec.default
    errors.extend(_check_combinations(doc))
    if errors:
        raise ApiFailure(400, tuple(errors))
    return doc


def _check_combinations(doc: Mapping[str, Any]) -> list[tuple[int, str]]:
    """The catalogue's rules the server enforces, answered with its codes and messages; the
    rules of one group are one chain on the server, so only the first broken one answers."""
    errors: list[tuple[int, str]] = []
    answered: set[str] = set()
    for rule in catalogue.broken_rules(doc, rules=catalogue.rules_for_server()):
        if rule.group and rule.group in answered:
            continue
        answered.add(rule.group)
        errors.append((rule.code if rule.code is not None else CODE_FIELDS, rule.answer))
    return errors


def _check_value(
    spec: Field, value: Any, *, exists: Callable[[int], bool], self_id: int | None
) -> tuple[int, str] | None:
    name, kind = spec.name, spec.kind
    bad = (CODE_FIELDS, f"Invalid value for {name}: {json.dumps(value)[:80]}")
    if kind is Kind.BOOLEAN:
        return None if isinstance(value, bool) else bad
    if kind is Kind.INTEGER:
        if not is_int(value):
            return bad
        if spec.minimum is not None and value < spec.minimum:
            return bad
        return None
    if kind is Kind.NUMBER:
        return None if is_int(value) or isinstance(value, float) else bad
    if kind is Kind.ENUM:
        if spec.storage is Storage.CONSTANT:
            return None if isinstance(value, str) else bad  # seeds/000: "string" was taken
        return None if value in spec.enum else bad
    if kind is Kind.DATETIME:
        ok = isinstance(value, str) and parse_datetime(value, lenient=True) is not None
        return None if ok else bad
    if kind is Kind.STRING:
        if not isinstance(value, str):
            return bad
        if spec.pattern is not None and not re.match(spec.pattern, value):
            return bad
        if spec.max_length is not None and len(value) > spec.max_length:
            return bad
        return None
    if kind is Kind.ID_LIST:
        if not isinstance(value, str):
            return bad
        if name == "mutualExclusiveSeriesIds":
            return _check_exclusive(value, exists=exists, self_id=self_id)
        return None
    if kind is Kind.REDEMPTION_RANGE:
        if not isinstance(value, str) or not _valid_range(value):
            return (CODE_INVALID_RANGE, f"Invalid redemption range: {value}")
        return None
    if kind is Kind.STRING_MAP:
        ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        return None if ok else bad
    if kind is Kind.OBJECT:
        return None if isinstance(value, dict) else bad
    if kind is Kind.OBJECT_LIST:
        return None if _valid_object_list(spec, value) else bad
    return None


def _check_exclusive(
    value: str, *, exists: Callable[[int], bool], self_id: int | None
) -> tuple[int, str] | None:
    bad = (CODE_MUTUAL_EXCLUSIVE, f"Invalid mutually exclusive series ids: {value}")
    try:
        parsed = json.loads(value)
    except ValueError:
        return bad
    if not isinstance(parsed, list):
        return bad
    for item in parsed:
        ident = _as_int(item)
        if ident is None:
            return bad
        if ident == -1:
            continue
        if ident == self_id or not exists(ident):
            return bad
    return None


def _valid_range(text: str) -> bool:
    try:
        parsed = json.loads(text)
    except ValueError:
        return False
    if not isinstance(parsed, dict) or not parsed or set(parsed) - set(_RANGE_BOUNDS):
        return False
    for key, items in parsed.items():
        values = items if isinstance(items, list) else [items]
        if not values:
            return False
        low, high = _RANGE_BOUNDS[key]
        for item in values:
            number = _as_int(item)
            if number is None or not (number == -1 or low <= number <= high):
                return False
    return True


def _valid_object_list(spec: Field, value: Any) -> bool:
    if not isinstance(value, list):
        return False
    for item in value:
        if not isinstance(item, dict):
            return False
        for sub in spec.subfields:
            if sub.required and sub.name not in item:
                return False
            if sub.enum and sub.name in item and item[sub.name] not in sub.enum:
                return False
        if spec.name == "productInfo" and item.get("productType") == "CATEGORY":
            ids = item.get("productIds")
            if isinstance(ids, list) and len(ids) > catalogue.MAX_CATEGORY_IDS:
                return False
    return True


def _as_int(value: Any) -> int | None:
    if is_int(value):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


# --- edits behind the API's back -----------------------------------------------------------


def apply_edit(
    current: Mapping[str, Any], changes: Mapping[str, Any], *, now: datetime
) -> dict[str, Any]:
    """``current`` with ``changes`` applied as the CRM's own screens would store them.

    Writable catalogue fields are stored as the server stores them (``stored_value``);
    any other key is set as given; ``None`` removes a key. ``id`` cannot change.
    """
    if "id" in changes and changes["id"] != current.get("id"):
        raise ValueError("the id of a series cannot be edited")
    doc = dict(current)
    for name, value in changes.items():
        if value is None:
            doc.pop(name, None)
            continue
        spec = BY_NAME.get(name)
        doc[name] = stored_value(spec, value) if spec is not None and spec.writable else value
    if "validTillDate" in changes and isinstance(doc.get("validTillDate"), str):
        fixed = epoch_ms(doc["validTillDate"])
        if fixed is not None:
            doc["fixedExpiryDate"] = fixed
    if "lastUsed" not in changes:
        doc["lastUsed"] = timestamp(now)
    return ordered(doc)


def snake_case(name: str) -> str:
    """``discountCode`` → ``discount_code`` (the v1.1 API's spelling)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


__all__ = [
    "ANSWER_ORDER",
    "EXTRA_ANSWER_FIELDS",
    "ORG_ID",
    "ApiFailure",
    "answer",
    "apply_edit",
    "build_created",
    "build_updated",
    "check_date_forms",
    "error_body",
    "new_series_code",
    "now_utc",
    "snake_case",
    "timestamp",
    "unwrap",
]
