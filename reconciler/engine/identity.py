"""Which live series is which key's: identity read from the CRM, the state being only a cache.

The API reads series by id, and ids were once known only from the state file. A lost, late or
never-committed state file then read as "nothing exists" and every file became a second
series; an edited one pointed a key at someone else's series. Identity now comes from the org
itself, listed completely (the client raises rather than return a partial list), and every
claim is checked against that list:

1. **The state's id**, *verified*: the listed series at that id must be this key's: it carries
   this key's marker, or (a series adopted without one) the file's discountCode and no marker
   of another key, while no other series carries this key's marker. Otherwise the key is
   ``Disowned`` (blocked with the fix); an id the list does not show is ``Unlisted`` (the
   planner tells a list that is not complete from a series that is gone; never a create);
2. **the marker**: a managed series carries its key's ``seriesCode`` (the file's declared one,
   else one derived from the key and set by a PUT right after the POST);
3. **an earlier create's intent**: a key whose create did not finish owns the one series of its
   discountCode that *positively* appeared after that create started: absent from the
   complete list read right before it (recorded in the intent), or listed with a creation
   time that is after the start whatever the server's zone (``made_since``). A series that may
   be older is not adopted: the key is blocked;
4. **a look-alike**: a series with the key's discountCode that no other key owns. It is never
   created again: the plan shows it *blocked* until a person adopts it (``reconciler import
   ID --key KEY``), or says it is another series (``reconciler: distinct_from: [ID]`` in the
   file: a discountCode is not unique in an org, and then identity rests on the marker).

A create is planned only with positive evidence of absence: a complete list in which no series
carries the key's marker and every series of its discountCode is one the file set apart.

Everything here is pure: the listed series and the state come in, a verdict per key comes out.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from reconciler.engine.state import Intent, State
from reconciler.model.desired import DesiredSeries
from reconciler.model.ports import ListedSeries, Listing

# The prefix of the seriesCode the tool gives a series it creates when the file declares none.
# seriesCode is "a unique alpha-numeric code" (the vendor's Create page); the docs' examples are
# 10 and 20 characters long ("fEDH0qD8rr", "3A8078C2BAB94235A46D"): 2 + 18 keeps to 20.
MARKER_PREFIX = "RC"
_MARKER_HASH_CHARS = 18

# Clock skew between this machine and the CRM's, on top of the zone below.
CLOCK_SKEW = timedelta(minutes=10)
# The v1.1 list gives ``created`` as "2016-12-09 08:35:15": the server's local time, zone not
# said. Zones run from UTC-12 to UTC+14, so such a time names an instant within 14 hours of the
# same wall-clock reading in UTC.
ZONE_UNKNOWN = timedelta(hours=14)

_CREATED = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


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


# ---------------------------------------------------------------------------- creation times


def creation_window(text: str) -> tuple[datetime, datetime] | None:
    """The instants a listed ``created`` time may name, earliest and latest; None: unreadable.

    With an offset the time is taken as it says (within the clock skew); without one (the
    v1.1 list's form) its zone is unknown: ±14 hours. A bare date spans its whole day too.
    """
    match = _CREATED.match(text or "")
    if not match:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    try:
        wall = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    span = timedelta(days=1) if hour is None else timedelta(0)
    if offset is None:
        return wall - ZONE_UNKNOWN - CLOCK_SKEW, wall + span + ZONE_UNKNOWN + CLOCK_SKEW
    if offset not in ("Z", "z"):
        digits = offset[1:].replace(":", "")
        shift = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        wall = wall - shift if offset[0] == "+" else wall + shift
    return wall - CLOCK_SKEW, wall + span + CLOCK_SKEW


def _instant(text: str) -> datetime | None:
    window = creation_window(text)
    if window is None or window[1] - window[0] > 2 * CLOCK_SKEW + timedelta(days=1):
        return None
    return window[0] + CLOCK_SKEW  # our own timestamps carry an offset


class Made(str, Enum):
    """When a listed series was made, compared with the start of an unfinished create."""

    SINCE = "since"  # positively after the create started: it may be that create's series
    BEFORE = "before"  # positively before: it is not
    UNSURE = "unsure"  # the evidence allows both


def made_since(candidate: ListedSeries, intent: Intent) -> Made:
    """Whether ``candidate`` appeared after ``intent``'s create started.

    Positive evidence only: absent from the complete list read right before the POST (the
    intent records which series of its discountCode that list showed), or a creation time
    whose earliest reading is after the start. Unknown or unreadable times prove nothing.
    """
    started = _instant(intent.started_at)
    window = creation_window(candidate.created)
    if started is not None and window is not None and window[1] < started:
        return Made.BEFORE
    if intent.known_before is not None:
        return Made.BEFORE if candidate.series_id in intent.known_before else Made.SINCE
    if started is not None and window is not None and window[0] >= started:
        return Made.SINCE
    return Made.UNSURE


# ---------------------------------------------------------------------------- verdicts


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


@dataclass(frozen=True)
class Disowned:
    """The state's id names a listed series that is not this key's (``reason``).

    ``marked`` is the series carrying this key's marker, when one does: the key's own.
    """

    series_id: int
    reason: str
    marked: int | None = None


@dataclass(frozen=True)
class Unlisted:
    """The state's id is not in the org's list: the list is not complete, or it is gone."""

    series_id: int


Verdict = Known | Lookalike | Absent | Disowned | Unlisted
Blocking = Lookalike | Disowned | Unlisted


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

    def discount_ids(self, code: str) -> tuple[int, ...]:
        """The ids of the listed series with discountCode ``code`` (what an intent records)."""
        return tuple(sorted(s.series_id for s in self.by_discount.get(code.strip(), ())))


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


Desired = Mapping[str, Mapping[str, Any]]
"""What identity reads of the desired series: their fields (API form), by key."""

Distinct = Mapping[str, Collection[int]]
"""Per key, the ids its file says are other series (``reconciler: distinct_from:``)."""


def identify(
    *,
    desired: Desired,
    state: State,
    org: OrgIndex,
    distinct: Distinct | None = None,
    others: Mapping[str, str] | None = None,
) -> dict[str, Verdict]:
    """A verdict for each desired key: known (and how), blocked (and why), or absent.

    ``others``: the markers of the folder's keys outside ``desired`` (a plan of some keys
    only), so that a series carrying one is still another key's, as in a whole plan.
    """
    apart = distinct or {}
    markers = {key: marker_of(key, fields) for key, fields in desired.items()}
    marker_keys: dict[str, str] = {}
    for key, marker in markers.items():
        marker_keys.setdefault(marker, key)
    for key, marker in (others or {}).items():
        marker_keys.setdefault(marker, key)
    # Series no desired key may claim: those of the state's other keys (vanished files: a
    # rename shows as a move) until a desired key proves one its own.
    owners: dict[int, str] = {sid: key for key, sid in state.ids.items() if key not in desired}
    verdicts: dict[str, Verdict] = {}
    # The state's ids first, each checked against the list; then markers. Both prove
    # ownership, so they claim ids before look-alikes.
    for key in desired:
        sid = state.ids.get(key)
        if sid is None:
            continue
        listed = org.by_id.get(sid)
        if listed is None:
            verdicts[key] = Unlisted(sid)
            continue
        why = _not_this_keys(key, desired[key], listed, markers=markers, marker_keys=marker_keys)
        if why:
            verdicts[key] = Disowned(sid, why)
            continue
        verdicts[key] = Known(sid, How.STATE)
        owners[sid] = key
    for key in desired:
        if key in verdicts and not isinstance(verdicts[key], Disowned):
            continue
        found = org.by_code.get(markers[key])
        previous = verdicts.get(key)
        if isinstance(previous, Disowned):
            if found is not None and found.series_id != previous.series_id:
                verdicts[key] = replace(previous, marked=found.series_id)
            continue
        if found is None or owners.get(found.series_id, key) != key:
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
    # A series some desired key's state wrongly names is still up for its rightful owner.
    taken_markers = set(marker_keys)
    for key, fields in desired.items():
        if key in verdicts:
            continue
        set_apart = set(apart.get(key, ()))
        candidates = [
            c
            for c in org.by_discount.get(_text(fields.get("discountCode")), ())
            if c.series_id not in owners
            and c.series_code not in taken_markers  # another key's, by its marker
            and c.series_id not in set_apart
        ]
        verdict = _verdict(candidates, state.intents.get(key))
        verdicts[key] = verdict
        if isinstance(verdict, Known):
            owners[verdict.series_id] = key
    return verdicts


def _not_this_keys(
    key: str,
    fields: Mapping[str, Any],
    listed: ListedSeries,
    *,
    markers: Mapping[str, str],
    marker_keys: Mapping[str, str],
) -> str:
    """Why the listed series the state names for ``key`` is not ``key``'s ("" when it is)."""
    marker = markers[key]
    if listed.series_code == marker:
        return ""
    other = marker_keys.get(listed.series_code)
    if other is not None and other != key:
        return f"its seriesCode {listed.series_code!r} is the marker of key {other!r}"
    code = _text(fields.get("discountCode"))
    if not code or listed.discount_code != code:
        return (
            f"it carries neither this key's marker ({marker!r}; it has "
            f"{listed.series_code or 'none'!r}) nor the file's discountCode ({code!r}; it has "
            f"{listed.discount_code or 'none'!r})"
        )
    return ""


def _verdict(candidates: Sequence[ListedSeries], intent: Intent | None) -> Verdict:
    if intent is not None and candidates:
        made = {c.series_id: made_since(c, intent) for c in candidates}
        mine = [c for c in candidates if made[c.series_id] is Made.SINCE]
        unsure = [c for c in candidates if made[c.series_id] is Made.UNSURE]
        if len(mine) == 1 and not unsure:
            return Known(mine[0].series_id, How.INTENT)
        if mine or unsure:
            return Lookalike(tuple(c.series_id for c in candidates), _intent_reason(made, intent))
    if candidates:
        return Lookalike(tuple(c.series_id for c in candidates), _lookalike_reason(candidates))
    return Absent(intent=intent)


def _intent_reason(made: Mapping[int, Made], intent: Intent) -> str:
    since = sorted(i for i, m in made.items() if m is Made.SINCE)
    unsure = sorted(i for i, m in made.items() if m is Made.UNSURE)
    before = sorted(i for i, m in made.items() if m is Made.BEFORE)
    parts = []
    if since:
        parts.append(f"made since: {', '.join(map(str, since))}")
    if unsure:
        parts.append(
            f"made around then, too close to tell (the list gives creation times without a "
            f"zone: ±14 h): {', '.join(map(str, unsure))}"
        )
    if before:
        parts.append(f"older: {', '.join(map(str, before))}")
    return (
        f"an earlier create of this key did not finish (started {intent.started_at}), and the "
        f"CRM has series with its discountCode that cannot be told apart from the one it may "
        f"have made ({'; '.join(parts)})"
    )


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


def managing_keys(
    *,
    desired: Desired,
    state: State,
    org: OrgIndex,
    distinct: Distinct | None = None,
    verdicts: Mapping[str, Verdict] | None = None,
) -> dict[int, str]:
    """Which key manages each listed series id: a verified state id or a marker (or, for a
    key no file declares any more, the state's id). ``verdicts``: ``identify``'s of these
    arguments, when the caller has them (10,000 keys take 0.1 s to identify)."""
    if verdicts is None:
        verdicts = identify(desired=desired, state=state, org=org, distinct=distinct)
    owners = {sid: key for key, sid in state.ids.items() if key not in desired and sid in org.by_id}
    for key, verdict in verdicts.items():
        if isinstance(verdict, Known) and verdict.how is not How.INTENT:
            owners[verdict.series_id] = key
    return owners


def strays(
    *,
    desired: Desired,
    state: State,
    org: OrgIndex,
    distinct: Distinct | None = None,
    verdicts: Mapping[str, Verdict] | None = None,
) -> dict[str, tuple[int, ...]]:
    """For each key that has its series, the other series of its discountCode no key manages
    (except those its file sets apart with ``distinct_from``).

    A create is sent again only after the settle time; a server slower than that still acts
    on the first POST later, and its series (without a marker: the killed apply never set
    it) then sits beside the key's own. Nothing claims it, so it would stay unnoticed: each
    plan names it instead. An older series a team made by hand shows the same way.
    """
    if verdicts is None:
        verdicts = identify(desired=desired, state=state, org=org, distinct=distinct)
    owned = set(
        managing_keys(desired=desired, state=state, org=org, distinct=distinct, verdicts=verdicts)
    )
    owned |= {v.series_id for v in verdicts.values() if isinstance(v, Known)}
    apart = distinct or {}
    found: dict[str, tuple[int, ...]] = {}
    for key, verdict in verdicts.items():
        if not isinstance(verdict, Known):
            continue
        fields = desired[key]
        others = tuple(
            s.series_id
            for s in org.by_discount.get(_text(fields.get("discountCode")), ())
            if s.series_id not in owned and s.series_id not in set(apart.get(key, ()))
        )
        if others:
            found[key] = others
    return found
