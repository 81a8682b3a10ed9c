"""The business side of a plan: what the live CRM says of each changed series. Pure.

For each series a plan creates or updates: the coupons issued and redeemed (the GET answer's
``numIssued`` / ``numRedeemed``), where it stands on the plan's day (active, not yet
started, expired, ending in N days), its validity window before and after, and what the
change does to coupons already issued. That last part says only what the vendor's pages
support (each statement names its source; docs/assumptions.md quotes them). Where they are
silent the plan says no more than "N coupons already issued from this series".

Then the overlaps: another series of the org with the same discountCode (the POS
identifier; the docs show two series of one org sharing one) whose window meets a changed
series' window after the apply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from reconciler.engine.facts import (
    ENDING_SOON_DAYS,
    Business,
    Overlap,
    Status,
    Window,
    as_count,
    as_number,
)
from reconciler.engine.identity import OrgIndex
from reconciler.engine.plan import Action, Plan, SeriesPlan
from reconciler.model.canonical import canonical
from reconciler.model.catalogue import ABSENT, CONCERNS

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")

# The words of the vendor's pages each statement rests on (docs/assumptions.md, "Impact").
SERIES_EXPIRY_QUOTE = "the coupon expires based on the rules defined for its series"
EXCLUSION_QUOTE = (
    "If a customer already has a coupon from any of the offer IDs in this list, they will "
    "not be eligible to receive a coupon from the current series"
)


def with_business(
    plan: Plan, *, live: Mapping[str, Mapping[str, Any]], org: OrgIndex, today: date
) -> Plan:
    """``plan`` with the business facts of each changed series and the overlaps filled in.

    ``live`` holds the live series the plan read, by key; ``org`` the org's list.
    """
    series = tuple(
        s
        if s.action is Action.UNCHANGED
        else replace(s, business=business_of(s, live=live.get(s.key), today=today))
        for s in plan.series
    )
    changed = replace(plan, series=series)
    return replace(changed, overlaps=find_overlaps(changed, org=org))


def business_of(planned: SeriesPlan, *, live: Mapping[str, Any] | None, today: date) -> Business:
    """The business facts of one changed series (``live`` None: a create)."""
    after = _after_window(planned, live=live, today=today)
    if live is None:
        code = canonical("discountCode", planned.desired.get("discountCode", ABSENT))
        kind = canonical("discountType", planned.desired.get("discountType", ABSENT))
        value = canonical("discountValue", planned.desired.get("discountValue", ABSENT))
        return Business(
            status=Status.NEW,
            issued=0,
            redeemed=0,
            discount_code=code if isinstance(code, str) else "",
            after=after,
            discount_type=kind if isinstance(kind, str) else "",
            discount_value=as_number(value),
        )
    before = Window(
        start=_day(_live(live, "redemptionValidFrom")) or _day(live.get("createdOn")),
        end=_day(_live(live, "validTillDate")),
    )
    status, days_left = _status(before, today=today)
    issued = as_count(live.get("numIssued"))
    return Business(
        status=status,
        issued=issued,
        redeemed=as_count(live.get("numRedeemed")),
        days_left=days_left,
        discount_code=str(_after(planned, live, "discountCode") or ""),
        before=before,
        after=after,
        impacts=impacts(planned, live=live, issued=issued, before=before, after=after),
        discount_type=str(_after(planned, live, "discountType") or ""),
        discount_value=as_number(_after(planned, live, "discountValue")),
    )


def impacts(
    planned: SeriesPlan,
    *,
    live: Mapping[str, Any],
    issued: int | None,
    before: Window,
    after: Window,
) -> tuple[str, ...]:
    """What the change does to coupons already issued (and to their holders), only where
    the vendor's pages say so; else, when coupons were issued, how many."""
    out: list[str] = []
    explained: set[str] = set()
    expiry = _after(planned, live, "expiryStrategyType")
    till = planned.change("validTillDate")
    if till is not None and expiry == "SERIES_EXPIRY" and issued and before.end != after.end:
        out.append(
            f"{issued:,} coupons already issued expire with the series (expiryStrategyType "
            f"SERIES_EXPIRY: '{SERIES_EXPIRY_QUOTE}'), which now ends on "
            f"{after.end or 'no end date'} instead of {before.end or 'no end date'}"
        )
        explained.add("validTillDate")
    strategy = {planned.change("expiryStrategyType"), planned.change("expiryStrategyValue")}
    if strategy != {None} and expiry in ("DAYS", "MONTHS_END"):
        value = _after(planned, live, "expiryStrategyValue")
        unit = "days" if expiry == "DAYS" else "months"
        out.append(
            f"coupons issued after the apply are valid {value} {unit} from their issue "
            f"(expiryStrategyType {expiry}); the docs do not say whether coupons already "
            "issued change"
        )
    exclusive = planned.change("mutualExclusiveSeriesIds")
    if exclusive is not None:
        was, now = set(_ids(exclusive.before)), set(_ids(exclusive.after))
        if now - was:
            out.append(
                "customers who already hold a coupon of series "
                f"{_listed(now - was)} can no longer get one of this series ('{EXCLUSION_QUOTE}')"
            )
        if was - now:
            out.append(
                f"customers holding a coupon of series {_listed(was - now)} may get one of "
                "this series again"
            )
        explained.add("mutualExclusiveSeriesIds")
    cap = planned.change("maxCreate")
    if cap is not None and isinstance(cap.after, int) and issued is not None:
        if cap.after == -1:
            out.append(f"no limit on coupons any more ({issued:,} issued so far)")
        elif cap.after >= issued:
            out.append(
                f"{issued:,} of at most {cap.after:,} coupons issued: "
                f"{cap.after - issued:,} more can be issued"
            )
        explained.add("maxCreate")
    weighty = {c.field for c in planned.changes if c.field in CONCERNS} - explained
    if issued and weighty:
        out.append(f"{issued:,} coupons already issued from this series")
    return tuple(out)


def find_overlaps(plan: Plan, *, org: OrgIndex) -> tuple[Overlap, ...]:
    """Changed series whose window after the apply meets the window of another series of
    the org with the same discountCode."""
    key_of = {s.series_id: s.key for s in plan.series if s.series_id is not None}
    after_of = {
        s.key: s.business.after
        for s in plan.series
        if s.business is not None and s.business.after is not None
    }
    found: list[Overlap] = []
    for s in plan.series:
        facts = s.business
        if facts is None or facts.after is None or not facts.discount_code:
            continue
        for other in org.by_discount.get(facts.discount_code, ()):
            if other.series_id == s.series_id:
                continue
            name = key_of.get(other.series_id, "")
            window = after_of.get(name) or Window(_day(other.created), _day(other.valid_till))
            meet = _meet(facts.after, window)
            if meet is not None:
                label = name or f"id {other.series_id}"
                found.append(Overlap(s.key, label, facts.discount_code, *meet))
    return tuple(sorted(found, key=lambda o: (o.key, o.other)))


# --- helpers ------------------------------------------------------------------------------


def _after_window(planned: SeriesPlan, *, live: Mapping[str, Any] | None, today: date) -> Window:
    if live is None:
        start = canonical("redemptionValidFrom", planned.desired.get("redemptionValidFrom", ABSENT))
        till = canonical("validTillDate", planned.desired.get("validTillDate", ABSENT))
        # The server sets redemptionValidFrom to the creation day when it is left out (the
        # Update page's answer for series 877510, made with the required fields only).
        return Window(_day(start) or today.isoformat(), _day(till))
    start = _day(_after(planned, live, "redemptionValidFrom")) or _day(live.get("createdOn"))
    return Window(start, _day(_after(planned, live, "validTillDate")))


def _after(planned: SeriesPlan, live: Mapping[str, Any], name: str) -> Any:
    """A field's canonical value once the plan is applied."""
    change = planned.change(name)
    return change.after if change is not None else _live(live, name)


def _live(live: Mapping[str, Any], name: str) -> Any:
    return canonical(name, live.get(name, ABSENT))


def _status(before: Window, *, today: date) -> tuple[Status, int | None]:
    start = _date(before.start)
    end = _date(before.end)
    if start is None and end is None:
        return Status.UNKNOWN, None
    if start is not None and start > today:
        return Status.NOT_STARTED, None
    if end is None:
        return Status.ACTIVE, None
    left = (end - today).days
    if left < 0:
        return Status.EXPIRED, None
    if left <= ENDING_SOON_DAYS:
        return Status.ENDING, left
    return Status.ACTIVE, left


def _meet(one: Window, other: Window) -> tuple[str, str] | None:
    """The days two windows share (an unknown start is open; no end is open)."""
    if other.start is None and other.end is None:
        return None
    start = max(one.start or "0000-01-01", other.start or "0000-01-01")
    end = min(one.end or "9999-12-31", other.end or "9999-12-31")
    return (start, end) if start <= end else None


def _day(value: Any) -> str | None:
    if isinstance(value, str) and _DAY.match(value):
        return value[:10]
    return None


def _date(day: str | None) -> date | None:
    try:
        return date.fromisoformat(day) if day else None
    except ValueError:
        return None


def _ids(value: Any) -> list[Any]:
    """The series a list of ids names (``-1``, as everywhere in this API, names none)."""
    items = value if isinstance(value, list) else []
    return [i for i in items if not (isinstance(i, int) and i <= 0)]


def _listed(ids: set[Any], *, shown: int = 5) -> str:
    items = sorted(ids, key=str)
    text = ", ".join(str(i) for i in items[:shown])
    return text + (f" and {len(items) - shown} more" if len(items) > shown else "")


__all__ = ["business_of", "find_overlaps", "impacts", "with_business"]
