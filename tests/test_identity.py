"""``identity``: every claim on a live series checked against the org's list (pure).

The state's ids are verified (a marker, or the discountCode of a series adopted without
one); an unfinished create adopts only a series that positively appeared since it started
(absent from the list read before its POST, or made after it whatever the server's zone);
``distinct_from`` sets existing series of a discountCode apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from reconciler.engine.identity import (
    ZONE_UNKNOWN,
    Absent,
    Disowned,
    How,
    Known,
    Lookalike,
    Made,
    OrgIndex,
    Unlisted,
    creation_window,
    derived_marker,
    identify,
    made_since,
    managing_keys,
)
from reconciler.engine.state import Intent, IntentStatus, State
from reconciler.model.ports import ListedSeries, Listing

DESIRED = {"a": {"discountCode": "A"}, "b": {"discountCode": "B"}}


def org(*series: ListedSeries) -> OrgIndex:
    return OrgIndex.of(Listing(series=series))


def s(sid: int, code: str, series_code: str = "", created: str = "") -> ListedSeries:
    return ListedSeries(series_id=sid, discount_code=code, series_code=series_code, created=created)


MA, MB = derived_marker("a"), derived_marker("b")


# ---------------------------------------------------------------------------- the state's ids


def test_a_state_id_carrying_the_keys_marker_is_known() -> None:
    verdicts = identify(
        desired=DESIRED, state=State("e", ids={"a": 1}), org=org(s(1, "A", MA), s(2, "B", MB))
    )
    assert verdicts == {"a": Known(1, How.STATE), "b": Known(2, How.MARKER)}


def test_a_state_id_adopted_without_a_marker_is_known_by_its_discount_code() -> None:
    verdicts = identify(desired=DESIRED, state=State("e", ids={"a": 1}), org=org(s(1, "A", "X")))
    assert verdicts["a"] == Known(1, How.STATE)


def test_a_key_pointed_at_another_teams_series_is_disowned() -> None:
    verdicts = identify(
        desired=DESIRED, state=State("e", ids={"a": 7}), org=org(s(7, "THEIRS", "T7"))
    )
    assert isinstance(verdicts["a"], Disowned)
    assert "neither this key's marker" in verdicts["a"].reason


def test_two_keys_swapped_are_both_disowned_and_name_their_own_series() -> None:
    state = State("e", ids={"a": 2, "b": 1})
    verdicts = identify(desired=DESIRED, state=state, org=org(s(1, "A", MA), s(2, "B", MB)))
    assert verdicts == {
        "a": Disowned(2, f"its seriesCode {MB!r} is the marker of key 'b'", marked=1),
        "b": Disowned(1, f"its seriesCode {MA!r} is the marker of key 'a'", marked=2),
    }


def test_a_key_pointed_at_another_keys_series_of_the_same_discount_code_is_disowned() -> None:
    # discountCode is not unique: only the marker tells the two apart.
    desired = {"a": {"discountCode": "SAME"}, "b": {"discountCode": "SAME"}}
    state = State("e", ids={"a": 2})
    verdicts = identify(desired=desired, state=state, org=org(s(2, "SAME", MB)))
    assert isinstance(verdicts["a"], Disowned)
    assert verdicts["b"] == Known(2, How.MARKER)  # the series is still its owner's


def test_a_state_id_missing_from_the_list_is_unlisted_never_absent() -> None:
    verdicts = identify(desired=DESIRED, state=State("e", ids={"a": 99}), org=org())
    assert verdicts["a"] == Unlisted(99)


def test_managing_keys_trusts_only_verified_ids() -> None:
    state = State("e", ids={"a": 7, "gone": 8})
    owners = managing_keys(
        desired=DESIRED, state=state, org=org(s(7, "THEIRS"), s(8, "OLD"), s(9, "B", MB))
    )
    assert owners == {8: "gone", 9: "b"}


# ---------------------------------------------------------------------------- creation times


def test_a_created_time_without_a_zone_spans_every_zone() -> None:
    window = creation_window("2016-12-09 08:35:15")
    assert window is not None
    wall = datetime(2016, 12, 9, 8, 35, 15, tzinfo=UTC)
    assert window[0] < wall - ZONE_UNKNOWN and window[1] > wall + ZONE_UNKNOWN


def test_a_created_time_with_an_offset_is_taken_as_it_says() -> None:
    window = creation_window("2026-11-23T16:30:00+05:30")
    assert window is not None
    assert window[0] < datetime(2026, 11, 23, 11, 0, tzinfo=UTC) < window[1]
    assert window[1] - window[0] < ZONE_UNKNOWN


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-40 99:99:99"])
def test_an_unreadable_created_time_has_no_window(text: str) -> None:
    assert creation_window(text) is None


def intent(started: str = "2026-11-23T11:00:00Z", **extra: Any) -> Intent:
    return Intent("a", IntentStatus.AMBIGUOUS, started, "A", **extra)


@pytest.mark.parametrize(
    ("created", "made"),
    [
        ("2026-11-23 11:00:05", Made.UNSURE),  # seconds later, zone unknown: could be older
        ("2026-11-24 04:00:00", Made.SINCE),  # 17 h later: after the start in every zone
        ("2026-11-22 19:00:00", Made.BEFORE),  # 16 h earlier: before it in every zone
        ("2026-11-23T11:00:05Z", Made.UNSURE),  # within the clock skew
        ("2026-11-23T11:30:00Z", Made.SINCE),
        ("", Made.UNSURE),  # unknown proves nothing: never "always after"
        ("garbage", Made.UNSURE),
    ],
)
def test_made_since_by_the_creation_time(created: str, made: Made) -> None:
    assert made_since(s(5, "A", created=created), intent()) is made


def test_made_since_by_the_list_read_before_the_post() -> None:
    recorded = intent(known_before=(3,))
    assert made_since(s(5, "A", created="2026-11-23 11:00:05"), recorded) is Made.SINCE
    assert made_since(s(3, "A", created="2026-11-23 11:00:05"), recorded) is Made.BEFORE
    # Listed as made long before the create: not its series, whatever the list missed.
    assert made_since(s(6, "A", created="2020-01-01 00:00:00"), recorded) is Made.BEFORE


# ---------------------------------------------------------------------------- intents


def test_an_unfinished_create_adopts_the_one_series_that_appeared_since() -> None:
    state = State("e", intents={"a": intent(known_before=(3,))})
    found = org(s(3, "A", "OLD", "2020-01-01 00:00:00"), s(5, "A", "SRV", "2026-11-23 11:00:02"))
    verdict = identify(desired={"a": DESIRED["a"]}, state=state, org=found)["a"]
    assert verdict == Known(5, How.INTENT)


def test_an_unfinished_create_next_to_an_older_series_is_a_lookalike_not_adopted() -> None:
    state = State("e", intents={"a": intent()})
    found = org(s(3, "A", "OLD", "2020-01-01 00:00:00"))
    verdict = identify(desired={"a": DESIRED["a"]}, state=state, org=found)["a"]
    assert isinstance(verdict, Lookalike) and verdict.series_ids == (3,)


def test_a_series_made_too_close_to_the_intent_to_tell_is_blocked() -> None:
    state = State("e", intents={"a": intent()})  # an intent without the list it saw
    found = org(s(5, "A", "SRV", "2026-11-23 11:00:02"))
    verdict = identify(desired={"a": DESIRED["a"]}, state=state, org=found)["a"]
    assert isinstance(verdict, Lookalike) and "too close to tell" in verdict.reason


def test_two_series_made_since_are_a_persons_choice() -> None:
    state = State("e", intents={"a": intent(known_before=())})
    found = org(s(5, "A", "S5"), s(6, "A", "S6"))
    verdict = identify(desired={"a": DESIRED["a"]}, state=state, org=found)["a"]
    assert isinstance(verdict, Lookalike) and verdict.series_ids == (5, 6)


def test_an_unfinished_create_with_nothing_listed_waits() -> None:
    recorded = intent(known_before=())
    state = State("e", intents={"a": recorded})
    assert identify(desired={"a": DESIRED["a"]}, state=state, org=org())["a"] == Absent(recorded)


# ---------------------------------------------------------------------------- distinct_from


def test_a_series_set_apart_by_distinct_from_no_longer_blocks_the_create() -> None:
    found = org(s(877510, "gold1234", "X1"), s(927443, "gold1234", "X2"))
    desired = {"a": {"discountCode": "gold1234"}}
    blocked = identify(desired=desired, state=State("e"), org=found)["a"]
    assert isinstance(blocked, Lookalike) and blocked.series_ids == (877510, 927443)
    partly = identify(desired=desired, state=State("e"), org=found, distinct={"a": [877510]})
    assert isinstance(partly["a"], Lookalike) and partly["a"].series_ids == (927443,)
    apart = identify(desired=desired, state=State("e"), org=found, distinct={"a": [877510, 927443]})
    assert apart["a"] == Absent()


def test_once_created_a_series_set_apart_is_known_by_its_marker() -> None:
    found = org(s(877510, "gold1234", "X1"), s(5, "gold1234", MA))
    desired = {"a": {"discountCode": "gold1234"}}
    verdicts = identify(desired=desired, state=State("e"), org=found, distinct={"a": [877510]})
    assert verdicts["a"] == Known(5, How.MARKER)
