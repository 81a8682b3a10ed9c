"""How the server stores the values it is sent, each rule from a request/response pair.

The sandbox's own arithmetic, written from the vendor's pairs and not shared with the tool's
``canonical`` (which holds the tool's reading of the same pairs): a check that shares code with
what it checks proves little. Evidence is cited as in ``docs/sandbox.md``.
"""

from __future__ import annotations

import math
import re
import struct
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeGuard

# What the server's parser reads (the pairs send "2030-09-30T00:00:00+05:30" and even
# "2025-04-25T23:50:79+05:30"); a missing offset is read as UTC (sandbox choice).
_LENIENT = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?\s*$"
)
# The one request form the pages document: "YYYY-MM-DDTHH:MM:SS+/-(time-zone)".
DOCUMENTED_DATETIME: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
DOCUMENTED_DATETIME_FORM: Final = "YYYY-MM-DDTHH:MM:SS+hh:mm"

# The largest integer a double holds exactly (the Create pair keeps 9007199254740991).
_DOUBLE_EXACT: Final = 2**53


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return is_int(value)


def parse_moment(text: str) -> datetime | None:
    """The moment a date-time the server accepts names, in UTC; parts out of range roll
    over (the Update pair: ``23:50:79`` is read, and the day kept); ``None`` otherwise."""
    match = _LENIENT.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), tzinfo=UTC)
        moment += timedelta(
            hours=int(hour or 0), minutes=int(minute or 0), seconds=int(second or 0)
        )
    except (ValueError, OverflowError):
        return None
    if offset and offset not in ("Z", "z"):
        digits = offset[1:].replace(":", "")
        shift = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        try:
            moment = moment - shift if offset[0] == "+" else moment + shift
        except OverflowError:
            return None
    return moment


def utc_day(moment: datetime) -> str:
    """The start of ``moment``'s UTC day, spelled as the answers spell it.

    The Create pair: 2030-09-30T00:00:00+05:30 answered 2030-09-29T00:00:00Z; the Update pair:
    2025-04-24T00:00:00+05:30 answered 2025-04-23T00:00:00Z.
    """
    return moment.astimezone(UTC).strftime("%Y-%m-%dT00:00:00Z")


def end_of_day(day: str) -> str:
    """``validTillDateTime`` for a stored ``validTillDate``: the last second of that day
    (gold_877510: 2026-06-11T00:00:00Z with 2026-06-11T23:59:59Z)."""
    return day[:10] + "T23:59:59Z"


def stamp(moment: datetime) -> str:
    """A moment as the answers write one: ``2025-04-17T05:36:41Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def epoch_ms(day: str) -> int | None:
    """``fixedExpiryDate`` for a stored day (the Create pair: 2030-09-29 is 1916870400000)."""
    moment = parse_moment(day)
    return int(moment.timestamp()) * 1000 if moment else None


def int32(value: int) -> int:
    """Wrapped to a signed 32-bit integer (the Update pair: maxCreate 10000000297830 answered
    1316432742, maxRedeem 10000000728300 answered 1316863212)."""
    wrapped = value % 2**32
    return wrapped - 2**32 if wrapped >= 2**31 else wrapped


def float32(value: float) -> float | int | None:
    """Rounded to single precision, whole values as integers (the Update pair: discountValue
    150000000000000 answered 150000004759552); ``None`` beyond what a float holds."""
    try:
        rounded: float = struct.unpack("f", struct.pack("f", float(value)))[0]
    except OverflowError:
        return None
    if not math.isfinite(rounded):
        return None
    return int(rounded) if rounded == int(rounded) else rounded


def double(value: float) -> float | int | None:
    """Kept as a double: exact up to 2**53 (the Create pair keeps maxBillAmount
    9007199254740991), rounded beyond; whole values as integers."""
    if is_int(value) and abs(value) <= _DOUBLE_EXACT:
        return value
    try:
        rounded = float(value)
    except OverflowError:
        return None
    if not math.isfinite(rounded):
        return None
    return int(rounded) if rounded == int(rounded) else rounded


__all__ = [
    "DOCUMENTED_DATETIME",
    "DOCUMENTED_DATETIME_FORM",
    "double",
    "end_of_day",
    "epoch_ms",
    "float32",
    "int32",
    "is_int",
    "is_number",
    "now",
    "parse_moment",
    "stamp",
    "utc_day",
]
