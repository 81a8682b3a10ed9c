"""What the server does with a CouponSeriesV2 body: checks, defaults, server-owned fields.

Pure functions over dicts, driven by the sandbox's own table (``fields``) and arithmetic
(``values``), never by the tool's catalogue; the HTTP layer (``routes``) and the storage
(``store``) sit around them. Every behaviour here is in ``docs/sandbox.md`` with its evidence.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from reconciler.sandbox import fields as F
from reconciler.sandbox import values as V
from reconciler.sandbox.fields import CreationDay, FromDescription

# --- error codes (the coupon API reference and the Update page) -------------------------------
CODE_INVALID_SERIES_ID: Final = 707  # "Coupon Series ID = {x} is invalid"
CODE_INVALID_RANGE: Final = 729
CODE_FIELDS: Final = 744  # "couldn't save series fields": the sandbox's code for field checks
CODE_DUPLICATE_SERIES_CODE: Final = 751
CODE_SERIES_CODE_EMPTY: Final = 753
CODE_GENERIC_CODE_EMPTY: Final = 754
CODE_BAD_SERIES_ID: Final = 755
CODE_MUTUAL_EXCLUSIVE: Final = 756
CODE_RETRY: Final = 786  # "unable to process (retry)"

SERIES_CODE_LENGTH: Final = 10  # the Create pair's answer: fEDH0qD8rr
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


def new_series_code(*, taken: Callable[[str], bool]) -> str:
    """A random 10-character code, as the server makes on create (the Create pair)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        code = "".join(secrets.choice(alphabet) for _ in range(SERIES_CODE_LENGTH))
        if not taken(code):
            return code


def answer(doc: Mapping[str, Any], *, warnings: bool) -> dict[str, Any]:
    """A stored series as the API answers it: ``warnings`` on POST/PUT answers only (the Get
    page's entities have none; the Create and Update answers end with ``"warnings": []``)."""
    out = dict(doc)
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
    """With ``strict`` (``Faults.strict_dates``), refuse a body whose date-times are not
    spelled as the pages document them; ``ApiFailure`` naming each one."""
    if not strict:
        return
    errors = tuple(
        (
            CODE_FIELDS,
            f"{name} must be {V.DOCUMENTED_DATETIME_FORM}, not {json.dumps(value)[:80]}",
        )
        for name, kind in F.KINDS.items()
        if kind == "date" and name in sent
        for value in (sent[name],)
        if value is not None and not (isinstance(value, str) and V.DOCUMENTED_DATETIME.match(value))
    )
    if errors:
        raise ApiFailure(400, errors)


def check_org_id(sent: Mapping[str, Any]) -> None:
    """A PUT must carry ``orgId`` (the Update page's error table: "Verify that the series ID
    is a valid long integer and orgId is provided"; both its examples send it). Its value is
    not checked: the Update pair sends ``orgId: 0`` and is answered 100737."""
    if not V.is_int(sent.get("orgId")):
        raise ApiFailure.one(
            400,
            400,
            "Invalid request: verify that the series ID is a valid long integer and orgId "
            "is provided",
        )


# --- create and update -------------------------------------------------------------------------


def build_created(
    sent: Mapping[str, Any],
    *,
    new_id: int,
    now: datetime,
    series_code: str,
    exists: Callable[[int], bool],
) -> dict[str, Any]:
    """The series the server stores for a POST of ``sent``; ``ApiFailure`` when refused."""
    _check_required(sent, F.REQUIRED_ON_CREATE, update=False)
    doc = _writable(sent, exists=exists, self_id=None, creation_day=V.utc_day(now))
    doc["seriesCode"] = series_code  # the sent value is ignored (the Create pair)
    doc.update(F.ON_CREATE)
    doc.update(id=new_id, orgId=F.ORG_ID, createdBy=F.CREATED_BY, createdOn=V.stamp(now))
    return _finish(doc, now=now)


def build_updated(
    sent: Mapping[str, Any],
    *,
    current: Mapping[str, Any],
    now: datetime,
    exists: Callable[[int], bool],
    series_code_owner: Callable[[str], int | None],
) -> dict[str, Any]:
    """The series the server stores for a PUT of ``sent`` onto ``current`` (a full
    replacement: a writable field left out gets its default, as on a create)."""
    _check_required(sent, F.REQUIRED_ON_UPDATE, update=True)
    series_id = int(current["id"])
    code = sent["seriesCode"]
    owner = series_code_owner(code)
    if owner is not None and owner != series_id:
        raise ApiFailure.one(
            400,
            CODE_DUPLICATE_SERIES_CODE,
            f"A coupon series with the same series code '{code}' already exists",
        )
    created = current.get("createdOn")
    moment = V.parse_moment(created) if isinstance(created, str) else None
    doc = _writable(sent, exists=exists, self_id=series_id, creation_day=V.utc_day(moment or now))
    doc["seriesCode"] = code
    if "validTillDate" not in doc and "validTillDate" in current:
        doc["validTillDate"] = current["validTillDate"]  # the one field without a default
    issued = current.get("numIssued", 0)
    max_create = doc.get("maxCreate", -1)
    if V.is_int(issued) and V.is_int(max_create) and 0 <= max_create < issued:
        raise ApiFailure.one(
            400,
            CODE_FIELDS,
            f"maxCreate {max_create} is below the {issued} coupons already issued",
        )
    for name in F.KEPT_ON_UPDATE:
        if name in current:
            doc[name] = current[name]
    return _finish(doc, now=now)


def _finish(doc: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """The fields every write recomputes (lastUsed, dvsExpiryDate, the expiry forms)."""
    doc["lastUsed"] = V.stamp(now)
    doc["dvsExpiryDate"] = V.utc_day(now)
    _expiry_forms(doc)
    return F.ordered(doc)


def _expiry_forms(doc: dict[str, Any]) -> None:
    till = doc.get("validTillDate")
    fixed = V.epoch_ms(till) if isinstance(till, str) else None
    if fixed is not None and isinstance(till, str):
        doc["fixedExpiryDate"] = fixed
        doc["validTillDateTime"] = V.end_of_day(till)


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
    sent: Mapping[str, Any],
    *,
    exists: Callable[[int], bool],
    self_id: int | None,
    creation_day: str,
) -> dict[str, Any]:
    """Every writable field: the sent value as stored, else the server's default."""
    errors: list[tuple[int, str]] = []
    doc: dict[str, Any] = {}
    for name in F.KINDS:
        if name == "seriesCode":
            continue  # made by the server on create, required on update: the callers'
        value = sent.get(name)
        if value is not None:
            problem = _check_value(name, value, exists=exists, self_id=self_id)
            stored = None if problem else stored_value(name, value)
            if problem or stored is None:
                errors.append(problem or (CODE_FIELDS, _invalid(name, value)))
                continue
            doc[name] = stored
    for name, default in F.DEFAULTS.items():
        if name not in doc:
            doc[name] = _default(default, sent=sent, creation_day=creation_day)
    errors.extend(_check_combinations(doc))
    if errors:
        raise ApiFailure(400, tuple(errors))
    return doc


def _default(default: Any, *, sent: Mapping[str, Any], creation_day: str) -> Any:
    if isinstance(default, FromDescription):
        return sent.get("description")
    if isinstance(default, CreationDay):
        return creation_day
    return default


def stored_value(name: str, value: Any) -> Any:
    """What the server keeps of ``value`` for field ``name`` (``None``: it cannot)."""
    storage = F.STORAGE.get(name)
    if storage == "utc_day":
        moment = V.parse_moment(value) if isinstance(value, str) else None
        return V.utc_day(moment) if moment else None
    if storage == "int32" and V.is_int(value):
        return V.int32(value)
    if storage == "float32" and V.is_number(value):
        return V.float32(value)
    if storage == "double" and V.is_number(value):
        return V.double(value)
    if storage == "non_positive_unlimited" and V.is_int(value):
        return -1 if value <= 0 else value
    if storage == "constant":
        return F.ENUMS[name][0]
    return value


def _check_combinations(doc: Mapping[str, Any]) -> list[tuple[int, str]]:
    """The rules between fields the pages document a refusal for. The three rules on
    redemptionPerCouponMaxLimit are one chain: only the first broken one answers."""
    errors: list[tuple[int, str]] = []
    if doc.get("clientHandlingType") == "GENERIC":
        code = doc.get("genericCode")
        if not (isinstance(code, str) and code.strip()):
            errors.append((CODE_GENERIC_CODE_EMPTY, "Generic code cannot be empty for GENERIC"))
    limit = doc.get("redemptionPerCouponMaxLimit")
    if V.is_int(limit) and limit != -1:
        if limit <= 0:
            errors.append(
                (
                    CODE_FIELDS,
                    "redemptionPerCouponMaxLimit must be greater than 0, or -1 / null for no limit",
                )
            )
        elif doc.get("anyUser") is not True:
            errors.append(
                (CODE_FIELDS, "redemptionPerCouponMaxLimit applies only when anyUser is true")
            )
        elif doc.get("clientHandlingType") not in ("DISC_CODE", "DISC_CODE_PIN"):
            errors.append(
                (
                    CODE_FIELDS,
                    "redemptionPerCouponMaxLimit applies only to DISC_CODE and DISC_CODE_PIN",
                )
            )
    return errors


def _invalid(name: str, value: Any) -> str:
    return f"Invalid value for {name}: {json.dumps(value, default=str)[:80]}"


def _check_value(
    name: str, value: Any, *, exists: Callable[[int], bool], self_id: int | None
) -> tuple[int, str] | None:
    kind = F.KINDS[name]
    bad = (CODE_FIELDS, _invalid(name, value))
    ok: bool
    if kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "int":
        ok = V.is_int(value)
    elif kind == "number":
        ok = V.is_number(value)
    elif kind == "enum":
        # the Update pair sends redeemStoreType "string" and is answered the one value
        ok = isinstance(value, str) and (
            F.STORAGE.get(name) == "constant" or value in F.ENUMS[name]
        )
    elif kind == "date":
        ok = isinstance(value, str) and V.parse_moment(value) is not None
    elif kind == "text":
        ok = isinstance(value, str) and (
            name not in ("couponPrefix", "couponSuffix") or bool(re.match(F.AFFIX_PATTERN, value))
        )
    elif kind == "ids":
        if name == "mutualExclusiveSeriesIds" and isinstance(value, str):
            return _check_exclusive(value, exists=exists, self_id=self_id)
        ok = isinstance(value, str)
    elif kind == "range":
        if not isinstance(value, str) or not _valid_range(value):
            return (CODE_INVALID_RANGE, f"Invalid redemption range: {value}")
        return None
    elif kind == "map":
        ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    elif kind == "object":
        ok = isinstance(value, dict)
    else:
        ok = _valid_object_list(name, value)
    return None if ok else bad


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


def _valid_object_list(name: str, value: Any) -> bool:
    if not isinstance(value, list):
        return False
    for item in value:
        if not isinstance(item, dict):
            return False
        for sub, enum in F.SUBFIELDS[name].items():
            if sub not in item:
                return False
            if enum and item[sub] not in enum:
                return False
        if name == "productInfo" and item.get("productType") == "CATEGORY":
            ids = item.get("productIds")
            if isinstance(ids, list) and len(ids) > F.MAX_CATEGORY_IDS:
                return False
    return True


def _as_int(value: Any) -> int | None:
    if V.is_int(value):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


# --- edits behind the API's back -------------------------------------------------------------


def apply_edit(
    current: Mapping[str, Any], changes: Mapping[str, Any], *, now: datetime
) -> dict[str, Any]:
    """``current`` with ``changes`` applied as the CRM's own screens would store them.

    Writable fields are stored as the server stores them; any other key is set as given;
    ``None`` removes a key. ``id`` cannot change.
    """
    if "id" in changes and changes["id"] != current.get("id"):
        raise ValueError("the id of a series cannot be edited")
    doc = dict(current)
    for name, value in changes.items():
        if value is None:
            doc.pop(name, None)
            continue
        stored = stored_value(name, value) if name in F.WRITABLE else value
        doc[name] = value if stored is None else stored
    if "validTillDate" in changes:
        _expiry_forms(doc)
    if "lastUsed" not in changes:
        doc["lastUsed"] = V.stamp(now)
    return F.ordered(doc)


__all__ = [
    "CODE_BAD_SERIES_ID",
    "CODE_INVALID_SERIES_ID",
    "CODE_RETRY",
    "ApiFailure",
    "answer",
    "apply_edit",
    "build_created",
    "build_updated",
    "check_date_forms",
    "check_org_id",
    "error_body",
    "new_series_code",
    "stored_value",
    "unwrap",
]
