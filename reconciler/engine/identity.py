"""Which live series is which key's: identity read from the CRM, the state being only a cache.

The API reads series by id, and ids were once known only from the state file. A lost, late or
never-committed state file then read as "nothing exists" and every file became a second
series. Identity now comes from the org itself, listed in one call (v1.1):

1. **The state's id** (a cache: cheap, and the only way to know a series whose marker a person
   changed);
2. **the marker**: a managed series carries its key's ``seriesCode`` (the file's declared one,
   else one derived from the key and set by a PUT right after the POST);
3. **an earlier create's intent**: a key whose create did not finish owns the one series of its
   discountCode made after that create started;
4. **a look-alike**: a series with the key's discountCode (and genericCode for GENERIC) that
   no other key owns. It is never created again: the plan shows it *blocked* until a person
   adopts it (``reconciler import ID --key KEY``) or ``state rebuild`` does, when unambiguous.

Everything here is pure: the listed series and the state come in, a verdict per key comes out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import Enum
from typing import Any

from reconciler.engine.state import Intent, State
from reconciler.model.canonical import parse_datetime
from reconciler.model.desired import DesiredSeries
from reconciler.model.ports import ListedSeries, Listing

# The prefix of the seriesCode the tool gives a series it creates when the file declares none.
# seriesCode is "a unique alpha-numeric code" (the vendor's Create page); the docs' examples are
# 10 and 20 characters long ("fEDH0qD8rr", "3A8078C2BAB94235A46D"): 2 + 18 keeps to 20.
MARKER_PREFIX = "RC"
_MARKER_HASH_CHARS = 18

# How far before an intent's start a series may claim to have been created and still count as
# the one that intent made (clock skew between this machine and the CRM).
CLOCK_SKEW = timedelta(minutes=10)


def derived_marker(key: str) -> str:
    """The seriesCode the tool gives the series of ``key`` when its file declares none."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:_MARKER_HASH_CHARS]
    return MARKER_PREFIX + digest.upper()


def marker_of(key: str, fields: Mapping[str, Any]) -> str:
    """The seriesCode that says a live series is ``key``'s: declared, or derived."""
    declared = fields.get("seriesCode")
    if isinstance(declared, str) and declared.strip():
        return declared.strip()
    return derived_marker(key)


def with_marker(series: DesiredSeries) -> DesiredSeries:
    """``series`` declaring its marker: what a create sends (seriesCode by a PUT after it)."""
    if "seriesCode" in series.declared:
        return series
    fields = dict(series.fields)
    fields["seriesCode"] = derived_marker(series.key)
    return replace(series, fields=fields, declared=series.declared | {"seriesCode"})


def looks_tool_made(series_code: str) -> bool:
    """True for a seriesCode of the derived form (a key's, though maybe not a current one's)."""
    tail = series_code[len(MARKER_PREFIX) :]
    return (
        series_code.startswith(MARKER_PREFIX)
        and len(tail) == _MARKER_HASH_CHARS
        and all(c in "0123456789ABCDEF" for c in tail)
    )


class How(str, Enum):
    """How a key's live series was found."""

    STATE = "state"
    MARKER = "marker"
    INTENT = "intent"


@dataclass(frozen=True)
class Known:
    series_id: int
    how: How


@dataclass(frozen=True)
class Lookalike:
    """Series that look like the key's (same discountCode) but that nothing proves are."""

    series_ids: tuple[int, ...]
    reason: str


@dataclass(frozen=True)
class Absent:
    """No series of this key in the org: a create (with the intent, if one did not finish)."""

    intent: Intent | None = None


Verdict = Known | Lookalike | Absent


@dataclass(frozen=True)
class OrgIndex:
    """The org's series, indexed the ways identity looks them up."""

    series: tuple[ListedSeries, ...]
    by_id: Mapping[int, ListedSeries]
    by_code: Mapping[str, ListedSeries]
    by_discount: Mapping[str, tuple[ListedSeries, ...]]

    @classmethod
    def of(cls, listing: Listing) -> OrgIndex:
        series = listing.series
        by_discount: dict[str, list[ListedSeries]] = {}
        for s in series:
            if s.discount_code:
                by_discount.setdefault(s.discount_code, []).append(s)
        return cls(
            series=series,
            by_id={s.series_id: s for s in series},
            by_code={s.series_code: s for s in series if s.series_code},
            by_discount={k: tuple(v) for k, v in by_discount.items()},
        )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


Desired = Mapping[str, Mapping[str, Any]]
"""What identity reads of the desired series: their fields (API form), by key."""


def _made_after(candidate: ListedSeries, intent: Intent) -> bool:
    started = parse_datetime(intent.started_at, lenient=True)
    created = parse_datetime(candidate.created, lenient=True) if candidate.created else None
    if started is None or created is None:
        return True  # unknown times prove nothing either way: do not rule it out
    return created >= started - CLOCK_SKEW


def identify(*, desired: Desired, state: State, org: OrgIndex) -> dict[str, Verdict]:
    """A verdict for each desired key: known (and how), a look-alike, or absent."""
    owners: dict[int, str] = {sid: key for key, sid in state.ids.items()}
    markers = {key: marker_of(key, fields) for key, fields in desired.items()}
    verdicts: dict[str, Verdict] = {}
    # The cache first, then markers: both prove ownership, so they claim ids before look-alikes.
    for key in desired:
        sid = state.ids.get(key)
        if sid is not None:
            verdicts[key] = Known(sid, How.STATE)
            continue
        found = org.by_code.get(markers[key])
        if found is None or found.series_id in owners:
            continue
        code = _text(desired[key].get("discountCode"))
        if code and found.discount_code and code != found.discount_code:
            # This key's marker on a series of another discountCode: another folder managing
            # the org with the same key, or a discountCode changed while the state was lost.
            # Claiming it would rewrite someone else's series: a person decides.
            verdicts[key] = Lookalike(
                (found.series_id,),
                f"the CRM has a series with this key's seriesCode {found.series_code!r} but "
                f"discountCode {found.discount_code!r} (another folder managing this org with "
                "the same key, or the discountCode changed while the state was lost)",
            )
            owners[found.series_id] = key
            continue
        verdicts[key] = Known(found.series_id, How.MARKER)
        owners[found.series_id] = key
    taken_markers = set(markers.values())
    for key, fields in desired.items():
        if key in verdicts:
            continue
        candidates = [
            c
            for c in org.by_discount.get(_text(fields.get("discountCode")), ())
            if c.series_id not in owners
            and c.series_code not in taken_markers  # another key's, by its marker
            and _same_generic(fields, c)
        ]
        verdict = _verdict(candidates, state.intents.get(key))
        verdicts[key] = verdict
        if isinstance(verdict, Known):
            owners[verdict.series_id] = key
    return verdicts


def _verdict(candidates: Sequence[ListedSeries], intent: Intent | None) -> Verdict:
    if intent is not None:
        mine = [c for c in candidates if _made_after(c, intent)]
        if len(mine) == 1:
            return Known(mine[0].series_id, How.INTENT)
        if mine:
            return Lookalike(
                tuple(c.series_id for c in mine),
                f"an earlier create of this key did not finish, and {len(mine)} series with "
                "its discountCode were made since",
            )
    if candidates:
        return Lookalike(tuple(c.series_id for c in candidates), _lookalike_reason(candidates))
    return Absent(intent=intent)


def _same_generic(fields: Mapping[str, Any], candidate: ListedSeries) -> bool:
    # The v1.1 list carries no generic code: every candidate of the discountCode counts.
    del fields, candidate
    return True


def _lookalike_reason(candidates: Sequence[ListedSeries]) -> str:
    ids = ", ".join(str(c.series_id) for c in candidates)
    noun = "a series" if len(candidates) == 1 else f"{len(candidates)} series"
    tool = [c for c in candidates if looks_tool_made(c.series_code)]
    made = (
        " made by this tool for a key no file declares any more (a rename?)"
        if tool and len(tool) == len(candidates)
        else ""
    )
    return f"the CRM already has {noun} with this discountCode{made} (id {ids})"


def managing_keys(*, desired: Desired, state: State, org: OrgIndex) -> dict[int, str]:
    """Which key manages each listed series id (by the state or a marker)."""
    owners = {sid: key for key, sid in state.ids.items() if sid in org.by_id}
    for key, fields in desired.items():
        found = org.by_code.get(marker_of(key, fields))
        if found is not None and found.series_id not in owners:
            owners[found.series_id] = key
    return owners


def strays(*, desired: Desired, state: State, org: OrgIndex) -> dict[str, tuple[int, ...]]:
    """For each key that has its series, the other series of its discountCode no key manages.

    A create is sent again only after the settle time; a server slower than that still acts
    on the first POST later, and its series (without a marker: the killed apply never set
    it) then sits beside the key's own. Nothing claims it, so it would stay unnoticed: each
    plan names it instead. An older series a team made by hand shows the same way.
    """
    verdicts = identify(desired=desired, state=state, org=org)
    owned = set(managing_keys(desired=desired, state=state, org=org))
    owned |= {v.series_id for v in verdicts.values() if isinstance(v, Known)}
    found: dict[str, tuple[int, ...]] = {}
    for key, verdict in verdicts.items():
        if not isinstance(verdict, Known):
            continue
        fields = desired[key]
        others = tuple(
            s.series_id
            for s in org.by_discount.get(_text(fields.get("discountCode")), ())
            if s.series_id not in owned and _same_generic(fields, s)
        )
        if others:
            found[key] = others
    return found
