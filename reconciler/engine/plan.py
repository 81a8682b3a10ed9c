"""The Plan: a pure value saying what an apply would do, and nothing else.

A plan is built once by the planner, sorted once, and never does I/O. It can be turned into
plain data (``to_dict``) for the JSON renderer and the plan file, and read back
(``from_dict``). The safety rails that refuse an apply are pure functions of a plan.

Plan file / JSON format (``format_version`` 1) — documented in the README::

    {
      "format_version": 1,
      "tool_version": "0.1.0",
      "environment": "production",
      "created_at": "2026-11-23T10:00:00Z",
      "desired_digest": "<sha256 of the series files and settings>",
      "targets": [],
      "counts": {"create": 1, "update": 2, "unchanged": 40, "orphaned": 1, "moved": 0,
                 "blocked": 0, "ignored_fields": 3},
      "rails": ["<safety rail this plan trips: the apply refuses it without --force>"],
      "policy": [{"rule": "big-percentage", "level": "approve", "key": "summer/sale-10",
                  "message": "...", "blocking": true, "override": "", "by": ""}],
      "overlaps": [{"key": "k", "other": "id 9", "discount_code": "X", "start": "2026-01-01",
                    "end": "2026-02-01"}],
      "series": [
        {"key": "summer/sale-10", "file": "series/summer/sale-10.yaml", "action": "update",
         "id": 751412, "live_digest": "<sha256>", "live_issued": 0, "retire": false,
         "changes": [{"field": "discountValue", "before": 10, "after": 15, "nested": [],
                      "note": ""}],
         "desired": {<API-form values the apply sends for this series>},
         "ignored": [{"field": "maxRedeem", "reason": "...", "source": "...", "differs": true}],
         "notes": [],
         "business": {"status": "ending", "status_text": "active, ending in 12 days",
                      "issued": 1200, "redeemed": 56, "days_left": 12, "discount_code": "X",
                      "before": {"start": "2026-01-01", "end": "2026-12-05"},
                      "after": {"start": "2026-01-01", "end": "2027-01-31"},
                      "impacts": ["<what the change does to issued coupons, documented only>"]}}
      ],
      "orphans": [{"key": "old/thing", "id": 1, "description": "..."}],
      "moves": [{"from_key": "old", "to_key": "new", "id": 1, "reason": "..."}],
      "blocked": [{"key": "k", "file": "...", "reason": "..."}],
      "warnings": [{"message": "...", "key": "", "file": "", "line": 0}]
    }

A change's ``note`` says why a field the file does not spell out changes (``"no longer in the
file: server default"``: a removed line reset; a dependent field reset with the fields it
depends on); it is empty for a declared value. Readers take it with a default (``""``): plan
files written before it existed read the same.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from reconciler.engine.diff import FieldChange, NestedChange
from reconciler.engine.facts import Business, Overlap, PolicyFinding
from reconciler.errors import PlanError
from reconciler.model.canonical import parse_datetime
from reconciler.model.catalogue import BY_NAME

FORMAT_VERSION = 1


class Action(str, Enum):
    """What an apply does to one series; a closed set, each with its symbol."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class IgnoredField:
    """A field an ignore rule keeps out of the plan; ``differs`` when live differs."""

    field: str
    reason: str
    source: str
    differs: bool


@dataclass(frozen=True)
class SeriesPlan:
    """The plan for one series file.

    ``desired`` holds the API-form values the apply sends: the whole create body, or the
    declared fields an update sets (merged by the applier into the live series' writable
    fields, since PUT replaces the whole series). ``live_digest`` is the digest of the live
    series as the plan read it (``diff.live_digest``); ``live_issued`` its numIssued.
    """

    key: str
    file: str
    action: Action
    series_id: int | None = None
    changes: tuple[FieldChange, ...] = ()
    desired: Mapping[str, Any] = field(default_factory=dict)
    live_digest: str | None = None
    live_issued: int | None = None
    ignored: tuple[IgnoredField, ...] = ()
    retire: bool = False
    notes: tuple[str, ...] = ()
    # What the live CRM says of the series for a reviewer (issued, status, windows, impact);
    # filled in by the planner for the series that change (``engine.impact``).
    business: Business | None = None

    def change(self, name: str) -> FieldChange | None:
        for change in self.changes:
            if change.field == name:
                return change
        return None


@dataclass(frozen=True)
class Orphan:
    """A key in the state whose file is gone: reported and left alone (there is no delete)."""

    key: str
    series_id: int
    description: str = ""


@dataclass(frozen=True)
class Move:
    """A vanished key whose live series matches a new file: most likely a rename."""

    from_key: str
    to_key: str
    series_id: int
    reason: str
    # The command that records the rename, with the flags that reach this environment.
    command: str = ""


@dataclass(frozen=True)
class Blocked:
    """A series the apply will not touch until a person acts, and why."""

    key: str
    file: str
    reason: str


@dataclass(frozen=True)
class PlanWarning:
    message: str
    key: str = ""
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class PlanCounts:
    create: int
    update: int
    unchanged: int
    orphaned: int
    moved: int
    blocked: int
    ignored_fields: int

    def as_dict(self) -> dict[str, int]:
        return {
            "create": self.create,
            "update": self.update,
            "unchanged": self.unchanged,
            "orphaned": self.orphaned,
            "moved": self.moved,
            "blocked": self.blocked,
            "ignored_fields": self.ignored_fields,
        }


@dataclass(frozen=True)
class Plan:
    environment: str
    tool_version: str
    created_at: str
    desired_digest: str
    series: tuple[SeriesPlan, ...] = ()
    orphans: tuple[Orphan, ...] = ()
    moves: tuple[Move, ...] = ()
    blocked: tuple[Blocked, ...] = ()
    warnings: tuple[PlanWarning, ...] = ()
    targets: tuple[str, ...] = ()
    # The safety rails an apply of this plan would trip (``with_rails``): shown at the top of
    # every rendering so a reviewer sees them before the merge, not after.
    rails: tuple[str, ...] = ()
    # The policy rules the plan matches (``engine.policy``) and the other series of the org
    # that share a discountCode with a changed one in the same days (``engine.impact``).
    policy: tuple[PolicyFinding, ...] = ()
    overlaps: tuple[Overlap, ...] = ()
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        # Sorted once, here, so every renderer and every digest sees the same order.
        object.__setattr__(self, "series", tuple(sorted(self.series, key=lambda s: s.key)))
        object.__setattr__(self, "orphans", tuple(sorted(self.orphans, key=lambda o: o.key)))
        object.__setattr__(self, "moves", tuple(sorted(self.moves, key=lambda m: m.to_key)))
        object.__setattr__(self, "blocked", tuple(sorted(self.blocked, key=lambda b: b.key)))

    def of(self, action: Action) -> tuple[SeriesPlan, ...]:
        return tuple(s for s in self.series if s.action is action)

    @property
    def counts(self) -> PlanCounts:
        return PlanCounts(
            create=len(self.of(Action.CREATE)),
            update=len(self.of(Action.UPDATE)),
            unchanged=len(self.of(Action.UNCHANGED)),
            orphaned=len(self.orphans),
            moved=len(self.moves),
            blocked=len(self.blocked),
            ignored_fields=sum(len(s.ignored) for s in self.series),
        )

    @property
    def has_changes(self) -> bool:
        """True when an apply would write, or a person has something to resolve."""
        c = self.counts
        return bool(c.create or c.update or c.moved or c.blocked)

    def summary(self) -> str:
        """The one-line summary every renderer shows, Terraform style."""
        c = self.counts
        text = f"Plan: {c.create} to create, {c.update} to update, {c.unchanged} unchanged"
        extra = []
        if c.orphaned:
            extra.append(f"{c.orphaned} orphaned")
        if c.moved:
            extra.append(f"{c.moved} likely renamed")
        if c.blocked:
            extra.append(f"{c.blocked} blocked")
        if c.ignored_fields:
            extra.append(f"{c.ignored_fields} field(s) ignored by rules")
        return text + (("; " + ", ".join(extra)) if extra else "") + "."

    # --- plain data ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "tool_version": self.tool_version,
            "environment": self.environment,
            "created_at": self.created_at,
            "desired_digest": self.desired_digest,
            "targets": list(self.targets),
            "counts": self.counts.as_dict(),
            "rails": list(self.rails),
            "policy": [f.to_dict() for f in self.policy],
            "overlaps": [o.to_dict() for o in self.overlaps],
            "series": [_series_to_dict(s) for s in self.series],
            "orphans": [
                {"key": o.key, "id": o.series_id, "description": o.description}
                for o in self.orphans
            ],
            "moves": [
                {
                    "from_key": m.from_key,
                    "to_key": m.to_key,
                    "id": m.series_id,
                    "reason": m.reason,
                    "command": m.command,
                }
                for m in self.moves
            ],
            "blocked": [{"key": b.key, "file": b.file, "reason": b.reason} for b in self.blocked],
            "warnings": [
                {"message": w.message, "key": w.key, "file": w.file, "line": w.line}
                for w in self.warnings
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise PlanError(
                f"this plan file has format_version {version!r}; this tool reads "
                f"{FORMAT_VERSION}: make the plan again with this version"
            )
        try:
            return cls(
                environment=str(data["environment"]),
                tool_version=str(data["tool_version"]),
                created_at=str(data["created_at"]),
                desired_digest=str(data["desired_digest"]),
                targets=tuple(data.get("targets", ())),
                rails=tuple(str(r) for r in data.get("rails", ())),
                policy=tuple(PolicyFinding.from_dict(f) for f in data.get("policy", ())),
                overlaps=tuple(Overlap.from_dict(o) for o in data.get("overlaps", ())),
                series=tuple(_series_from_dict(s) for s in data["series"]),
                orphans=tuple(
                    Orphan(o["key"], _integer(o["id"]), o.get("description", ""))
                    for o in data.get("orphans", ())
                ),
                moves=tuple(
                    Move(
                        m["from_key"],
                        m["to_key"],
                        _integer(m["id"]),
                        m.get("reason", ""),
                        str(m.get("command", "")),
                    )
                    for m in data.get("moves", ())
                ),
                blocked=tuple(
                    Blocked(b["key"], b.get("file", ""), b["reason"])
                    for b in data.get("blocked", ())
                ),
                warnings=tuple(
                    PlanWarning(w["message"], w.get("key", ""), w.get("file", ""), w.get("line", 0))
                    for w in data.get("warnings", ())
                ),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise PlanError(f"{_DAMAGED}{error!r}") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Plan:
        """Read a saved plan; anything that is not a plan this tool wrote is a ``PlanError``
        (never a ``KeyError`` or a ``RecursionError`` later, in the apply)."""
        try:
            data = json.loads(text)
        except ValueError as error:
            raise PlanError(f"the plan file is not JSON: {error}") from None
        except RecursionError:
            raise PlanError(_DAMAGED + f"it nests more than {MAX_PLAN_DEPTH} levels") from None
        if not isinstance(data, Mapping):
            raise PlanError("the plan file is not a JSON object")
        if _depth_exceeds(data, MAX_PLAN_DEPTH):
            raise PlanError(_DAMAGED + f"it nests more than {MAX_PLAN_DEPTH} levels")
        try:
            plan = cls.from_dict(data)
        except (OverflowError, AttributeError) as error:
            raise PlanError(f"{_DAMAGED}{error!r}") from None
        _check_plan_fields(plan)
        return plan


# Deeper than any plan this tool writes (a value of a series sits about 8 levels down), far
# below the interpreter's recursion limit that the renderers and digests would reach.
MAX_PLAN_DEPTH = 64
_DAMAGED = "the plan file is damaged (make the plan again): "


def _depth_exceeds(data: Any, limit: int) -> bool:
    """Whether ``data`` nests deeper than ``limit``; iterative, so any depth is safe."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, Mapping):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return False


def _check_plan_fields(plan: Plan) -> None:
    """Every series names its key as text, an integer id, and only fields of the catalogue:
    the apply looks each field up to build its requests."""
    for s in plan.series:
        if not isinstance(s.key, str) or not isinstance(s.file, str):
            raise PlanError(f"{_DAMAGED}a series key or file is not text")
        if s.series_id is not None and not isinstance(s.series_id, int):
            raise PlanError(f"{_DAMAGED}{s.key!r} has an id that is not an integer")
        names = {*s.desired, *(c.field for c in s.changes)}
        unknown = sorted(n for n in names if not isinstance(n, str) or n not in BY_NAME)
        if unknown:
            raise PlanError(
                f"{_DAMAGED}{s.key!r} names {', '.join(map(repr, unknown[:5]))}, "
                "not a field of a coupon series"
            )


def _series_to_dict(s: SeriesPlan) -> dict[str, Any]:
    return {
        "key": s.key,
        "file": s.file,
        "action": s.action.value,
        "id": s.series_id,
        "live_digest": s.live_digest,
        "live_issued": s.live_issued,
        "retire": s.retire,
        "changes": [
            {
                "field": c.field,
                "before": c.before,
                "after": c.after,
                "nested": [
                    {"path": n.path, "before": n.before, "after": n.after} for n in c.nested
                ],
                "note": c.note,
            }
            for c in s.changes
        ],
        "desired": dict(s.desired),
        "ignored": [
            {"field": i.field, "reason": i.reason, "source": i.source, "differs": i.differs}
            for i in s.ignored
        ],
        "notes": list(s.notes),
        "business": None if s.business is None else s.business.to_dict(),
    }


def _integer(value: Any) -> int:
    # 900002.7, "12", true and Infinity are not ids: int() would truncate or overflow.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"id {value!r} is not an integer")
    return value


def _series_from_dict(d: Mapping[str, Any]) -> SeriesPlan:
    return SeriesPlan(
        key=d["key"],
        file=d.get("file", ""),
        action=Action(d["action"]),
        series_id=None if d.get("id") is None else _integer(d["id"]),
        live_digest=d.get("live_digest"),
        live_issued=d.get("live_issued"),
        retire=bool(d.get("retire", False)),
        changes=tuple(
            FieldChange(
                field=c["field"],
                before=c["before"],
                after=c["after"],
                nested=tuple(
                    NestedChange(n["path"], n["before"], n["after"]) for n in c.get("nested", ())
                ),
                note=str(c.get("note") or ""),
            )
            for c in d.get("changes", ())
        ),
        desired=dict(d.get("desired", {})),
        ignored=tuple(
            IgnoredField(i["field"], i["reason"], i["source"], bool(i["differs"]))
            for i in d.get("ignored", ())
        ),
        notes=tuple(d.get("notes", ())),
        business=Business.from_dict(d.get("business")),
    )


# --- safety rails ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rails:
    """Thresholds of the safety rails; ``series/reconciler.yaml`` sets them per environment."""

    max_update_share: float = 0.3
    share_min_series: int = 10


def safety_violations(plan: Plan, *, rails: Rails, now: datetime) -> tuple[str, ...]:
    """Why an apply of ``plan`` should be refused (empty: it may go on). Pure."""
    reasons: list[str] = []
    existing = len(plan.of(Action.UPDATE)) + len(plan.of(Action.UNCHANGED))
    updates = len(plan.of(Action.UPDATE))
    if (
        existing >= rails.share_min_series
        and existing
        and updates / existing > rails.max_update_share
    ):
        reasons.append(
            f"{updates} of {existing} existing series would be updated "
            f"({updates / existing:.0%}, more than the {rails.max_update_share:.0%} allowed)"
        )
    today = now.astimezone(UTC)
    for s in plan.of(Action.UPDATE):
        till = s.change("validTillDate")
        if till is not None and not s.retire and isinstance(till.after, str):
            after = parse_datetime(till.after, lenient=True)
            before = (
                parse_datetime(till.before, lenient=True) if isinstance(till.before, str) else None
            )
            if after is not None and after < today and (before is None or before > after):
                reasons.append(
                    f"{s.key}: validTillDate moves to {till.after}, before now: this ends a live "
                    "series early (use `retire: true` under `reconciler:` to do it on purpose)"
                )
        cap = s.change("maxCreate")
        issued = s.live_issued
        if (
            cap is not None
            and isinstance(cap.after, int)
            and issued is not None
            and -1 != cap.after < issued
        ):
            reasons.append(
                f"{s.key}: maxCreate {cap.after} is below the {issued} coupons already "
                "issued (the API refuses it)"
            )
    return tuple(reasons)


def with_rails(plan: Plan, *, rails: Rails, now: datetime) -> Plan:
    """``plan`` carrying the safety rails it trips with the thresholds ``rails``. Pure.

    The apply checks the rails again itself (``safety_violations``); this copy is what a
    reviewer reads in the plan, and what a JSON consumer gets under ``"rails"``.
    """
    return replace(plan, rails=safety_violations(plan, rails=rails, now=now))
