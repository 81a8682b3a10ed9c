"""``identity.strays``: a series beside a key's own, with its discountCode, that no key manages."""

from __future__ import annotations

from typing import Any

from reconciler.engine.identity import OrgIndex, derived_marker, strays
from reconciler.engine.state import State
from tests.listing import listing


def listed(sid: int, code: str, series_code: str) -> dict[str, Any]:
    return {"id": sid, "discountCode": code, "seriesCode": series_code}


def org_of(series: list[dict[str, Any]]) -> OrgIndex:
    return OrgIndex.of(listing(series))


DESIRED = {"a": {"discountCode": "A"}, "b": {"discountCode": "B"}}


def test_a_late_create_beside_the_keys_own_series_is_named() -> None:
    org = org_of(
        [
            listed(1, "A", "lateRandom1"),  # the first POST, acted on after the settle time
            listed(2, "A", derived_marker("a")),  # the create sent again, marked
            listed(3, "B", derived_marker("b")),
        ]
    )
    assert strays(desired=DESIRED, state=State(environment="e"), org=org) == {"a": (1,)}


def test_nothing_is_named_when_each_series_is_a_keys_own() -> None:
    org = org_of([listed(1, "A", "x1"), listed(3, "B", derived_marker("b"))])
    state = State(environment="e", ids={"a": 1})
    assert strays(desired=DESIRED, state=state, org=org) == {}


def test_a_lookalike_of_a_key_without_its_series_is_blocked_not_a_stray() -> None:
    org = org_of([listed(1, "A", "x1")])
    assert strays(desired={"a": {"discountCode": "A"}}, state=State(environment="e"), org=org) == {}
