"""What a reviewer weighs beside the changes: plain values a plan carries. Pure.

- ``Business``: what the live CRM says of a series (coupons issued and redeemed, whether it
  runs, its validity before and after the change) and, only where the vendor's docs say so,
  what the change does to coupons already in customers' hands (``engine.impact``).
- ``PolicyFinding``: a rule of the repository's policy file that a series of the plan
  matches (``engine.policy``), with the override that lifts it, if any.
- ``Overlap``: a changed series and another series of the org with the same discountCode
  whose validity windows meet (``engine.impact``).

Each converts to and from plain data for the plan file (``Plan.to_dict``); readers take
every key with a default, so plan files written before these existed read the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

# A series ending within this many days is shown as "ending in N days", not just "active".
ENDING_SOON_DAYS = 30


class Status(str, Enum):
    """Where a live series stands on the day of the plan."""

    NEW = "new"  # created by this plan
    NOT_STARTED = "not_started"  # redemption starts after the plan's day
    ACTIVE = "active"
    ENDING = "ending"  # active, ends within ENDING_SOON_DAYS
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # the CRM's answer carries no dates


@dataclass(frozen=True)
class Window:
    """A validity window in UTC days (``YYYY-MM-DD``), both ends included; None: not known
    (a start) or no end."""

    start: str | None
    end: str | None

    def to_dict(self) -> dict[str, str | None]:
        return {"start": self.start, "end": self.end}

    @classmethod
    def from_dict(cls, data: Any) -> Window | None:
        if not isinstance(data, Mapping):
            return None
        return cls(_day(data.get("start")), _day(data.get("end")))


@dataclass(frozen=True)
class Business:
    """A series as the business sees it, read from the live CRM when the plan was made."""

    status: Status = Status.UNKNOWN
    issued: int | None = None  # the GET answer's numIssued
    redeemed: int | None = None  # its numRedeemed
    days_left: int | None = None  # days from the plan's day to the live end (0: ends today)
    discount_code: str = ""
    before: Window | None = None  # the live window (None: a create)
    after: Window | None = None  # the window once applied
    impacts: tuple[str, ...] = ()  # what the change does to issued coupons (documented only)
    # The discount once applied (policy rules read it: a value change keeps the live type).
    discount_type: str = ""
    discount_value: float | None = None

    def status_text(self) -> str:
        """The status in words: ``active``, ``ending in 12 days``, ``expired on 2026-01-31``."""
        before = self.before
        if self.status is Status.NEW:
            return "new series"
        if self.status is Status.NOT_STARTED and before is not None and before.start:
            return f"not yet started (starts {before.start})"
        if self.status is Status.EXPIRED and before is not None and before.end:
            return f"expired (ended {before.end})"
        if self.status is Status.ENDING and self.days_left is not None:
            if self.days_left == 0:
                return "active, ends today"
            return f"active, ending in {self.days_left} day{'s' if self.days_left != 1 else ''}"
        return str(self.status.value).replace("_", " ")

    def coupons_text(self) -> str:
        """``1,234 issued, 56 redeemed`` (what the CRM answered; ``?`` when it did not say)."""
        if self.status is Status.NEW:
            return "no coupons yet"
        issued = "?" if self.issued is None else f"{self.issued:,}"
        redeemed = "?" if self.redeemed is None else f"{self.redeemed:,}"
        return f"{issued} issued, {redeemed} redeemed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "status_text": self.status_text(),
            "issued": self.issued,
            "redeemed": self.redeemed,
            "days_left": self.days_left,
            "discount_code": self.discount_code,
            "before": None if self.before is None else self.before.to_dict(),
            "after": None if self.after is None else self.after.to_dict(),
            "impacts": list(self.impacts),
            "discount_type": self.discount_type,
            "discount_value": self.discount_value,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Business | None:
        if not isinstance(data, Mapping):
            return None
        try:
            status = Status(data.get("status", Status.UNKNOWN.value))
        except ValueError:
            status = Status.UNKNOWN
        return cls(
            status=status,
            issued=as_count(data.get("issued")),
            redeemed=as_count(data.get("redeemed")),
            days_left=as_count(data.get("days_left")),
            discount_code=str(data.get("discount_code") or ""),
            before=Window.from_dict(data.get("before")),
            after=Window.from_dict(data.get("after")),
            impacts=tuple(str(i) for i in data.get("impacts") or () if isinstance(i, str)),
            discount_type=str(data.get("discount_type") or ""),
            discount_value=as_number(data.get("discount_value")),
        )


class Level(str, Enum):
    """How a policy rule acts on a plan that matches it."""

    WARN = "warn"  # shown
    APPROVE = "approve"  # refused unless an override names the rule with a reason
    DENY = "deny"  # refused, always

    @property
    def rank(self) -> int:
        return {"warn": 1, "approve": 2, "deny": 3}[self.value]


@dataclass(frozen=True)
class PolicyFinding:
    """Rule ``rule`` matches series ``key`` of the plan; ``override``: the reason given to
    lift it (an approve rule only) and ``by`` who gave it."""

    rule: str
    level: Level
    key: str
    message: str
    override: str = ""
    by: str = ""

    @property
    def blocking(self) -> bool:
        """True when the plan may not be applied as it stands."""
        return self.level is Level.DENY or (self.level is Level.APPROVE and not self.override)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "level": self.level.value,
            "key": self.key,
            "message": self.message,
            "blocking": self.blocking,
            "override": self.override,
            "by": self.by,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PolicyFinding:
        return cls(
            rule=str(data["rule"]),
            level=Level(data["level"]),
            key=str(data.get("key", "")),
            message=str(data.get("message", "")),
            override=str(data.get("override") or ""),
            by=str(data.get("by") or ""),
        )


@dataclass(frozen=True)
class Overlap:
    """``key`` (a series the plan changes) and ``other`` (a key, or ``id N`` for a series no
    file manages) share ``discount_code`` between ``start`` and ``end`` (UTC days)."""

    key: str
    other: str
    discount_code: str
    start: str
    end: str

    def to_dict(self) -> dict[str, str]:
        return {
            "key": self.key,
            "other": self.other,
            "discount_code": self.discount_code,
            "start": self.start,
            "end": self.end,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Overlap:
        return cls(
            key=str(data["key"]),
            other=str(data["other"]),
            discount_code=str(data.get("discount_code", "")),
            start=str(data["start"]),
            end=str(data["end"]),
        )


def as_count(value: Any) -> int | None:
    """``value`` when it is a whole number (not a bool), else None: read as not known."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_number(value: Any) -> float | None:
    """``value`` when it is a number (not a bool), else None: read as not known."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _day(value: Any) -> str | None:
    # A day as the plan writes it; anything else (a hand-edited file) reads as not known.
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return value
    return None
