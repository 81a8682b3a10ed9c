"""The words the field catalogue is written in: kinds, access, storage, and one field's entry.

Nothing here names a field; the tables are ``reconciler.model.fields`` (what a series holds),
``reconciler.model.defaults`` (what the server stores for a field left out, with the answers
that show it) and ``reconciler.model.rules`` (rules between fields). ``catalogue`` joins them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, TypeGuard


class Kind(str, Enum):
    """The shape of a field's value, as the API carries it."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ENUM = "enum"
    DATETIME = "datetime"  # "YYYY-MM-DDTHH:MM:SS±hh:mm"; the server keeps the UTC day
    ID_LIST = "id_list"  # a JSON array of ids carried in a string: "[1, 2]"
    REDEMPTION_RANGE = "redemption_range"  # a JSON object carried in a string
    STRING_MAP = "string_map"  # a JSON object of string values
    OBJECT = "object"  # a JSON object with the documented ``subfields``
    OBJECT_LIST = "object_list"  # a JSON array of objects with the documented ``subfields``


class Access(str, Enum):
    """Who decides a field's value."""

    WRITABLE = "writable"  # the client sets it; a file may declare it
    SERVER = "server"  # the server sets it; values sent are ignored
    IGNORED = "ignored"  # accepted in a request, never stored nor returned


class Storage(str, Enum):
    """How the server stores a value, when that loses something the client sent."""

    EXACT = "exact"
    INT32 = "int32"  # wraps modulo 2**32 into a signed 32-bit integer
    FLOAT32 = "float32"  # rounded to single precision
    UTC_DAY = "utc_day"  # converted to UTC, then cut to the start of that day
    NON_POSITIVE_IS_UNLIMITED = "non_positive_is_unlimited"  # 0 and below are stored as -1
    CONSTANT = "constant"  # whatever is sent, the one enum value is stored


class Format(str, Enum):
    """A number's type in the vendor's OpenAPI (``format``); ``NONE`` where it gives none."""

    NONE = ""
    INT32 = "int32"
    INT64 = "int64"
    DOUBLE = "double"
    FLOAT = "float"


class _Absent:
    """The server leaves the key out of its answers when nothing was set."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Final = _Absent()

INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1


def is_int(value: Any) -> TypeGuard[int]:
    """An integer, and not a bool (which Python counts as one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> TypeGuard[int | float]:
    """An integer or a float, and not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class SubField:
    """A documented key inside an OBJECT or OBJECT_LIST field."""

    name: str
    kind: Kind
    doc: str
    enum: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Field:
    """One CouponSeriesV2 field."""

    name: str
    kind: Kind
    doc: str
    access: Access = Access.WRITABLE
    required_on_create: bool = False
    required_on_update: bool = False
    enum: tuple[str, ...] = ()
    # What the server stores when a create leaves the field out, in API form; ABSENT when no
    # page shows it. Filled in from ``reconciler.model.defaults`` (with its evidence) by the
    # catalogue: the field tables never spell a default.
    default: Any = ABSENT
    default_evidence: str = ""
    # The server makes the value from others when the series is made (info and tag from the
    # description, redemptionValidFrom from the day): no fixed default, so a line removed
    # from a file is released, never reset to a guess.
    derived: str = ""
    storage: Storage = Storage.EXACT
    # The number's type in the vendor's OpenAPI: int32 fields are range-checked, a double
    # holds fractions, a float is single precision.
    format: Format = Format.NONE
    # Values that mean "no value" and compare equal to the key being left out.
    unset: tuple[Any, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    deprecated: bool = False
    # The server ignores the value on create and makes its own; a PUT can set it.
    set_on_update_only: bool = False
    # No answer on any page carries the field (productInfo, redemptionOrgEntityDetails): what
    # the server keeps cannot be read back, only sent (see ``reconciler.engine.ownership``).
    answered: bool = True
    subfields: tuple[SubField, ...] = ()
    # Identifies a series to people and to the server: unique in the org (seriesCode, the
    # POS discountCode) or the one code of a GENERIC series. Never matched loosely.
    identity: bool = False
    # Server-owned and recomputed on every write (not set once, on create).
    recomputed_on_write: bool = False
    # A regular expression the whole value must match (text fields).
    pattern: str | None = None
    # An ID_LIST of other series of the org: a file may name them by key (``{series: KEY}``),
    # resolved per environment from the ids the plan knows (``reconciler.model.references``).
    series_ids: bool = False
    evidence: str = ""

    @property
    def server_owned(self) -> bool:
        return self.access is not Access.WRITABLE

    @property
    def writable(self) -> bool:
        return self.access is Access.WRITABLE

    @property
    def has_default(self) -> bool:
        """A page shows what the server stores when the field is left out."""
        return self.default is not ABSENT

    def subfield(self, name: str) -> SubField | None:
        for sub in self.subfields:
            if sub.name == name:
                return sub
        return None


__all__ = [
    "ABSENT",
    "INT32_MAX",
    "INT32_MIN",
    "INT64_MAX",
    "INT64_MIN",
    "Access",
    "Field",
    "Format",
    "Kind",
    "Storage",
    "SubField",
    "is_int",
    "is_number",
]
