"""Business facts of a changed series (``reconciler.engine.impact``), read from the vendor's own
GET answers (tests/data/evidence/gets.json, copied verbatim from the docs' examples).

The statements about coupons already issued must rest on the docs: the evidence checks below
read the vendor's pairs themselves, not the tool's code, so a statement whose ground moved
fails here."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.engine.diff import FieldChange
from reconciler.engine.facts import Status, Window
from reconciler.engine.identity import OrgIndex
from reconciler.engine.impact import business_of, find_overlaps, with_business
from reconciler.engine.plan import Action, SeriesPlan
from reconciler.model.ports import ListedSeries, Listing
from tests.render.factory import create, plan, update

EVIDENCE = Path(__file__).parent / "data" / "evidence"


def answers() -> dict[int, dict[str, Any]]:
    data = json.loads((EVIDENCE / "gets.json").read_text(encoding="utf-8"))
    return {s["id"]: s for answer in data for s in answer["entity"]}


ONAM = 520591  # SERIES_EXPIRY, 3 issued, 2024-05-01 to 2026-05-09
LIKE = 698948  # DAYS 30, 0 issued, 1970-01-01 to 2030-09-29


def day(text: str) -> date:
    return date.fromisoformat(text)


# --- the evidence the statements rest on ------------------------------------------------------


def test_the_docs_answers_carry_the_counts_and_dates_the_facts_are_read_from() -> None:
    onam = answers()[ONAM]
    assert (onam["numIssued"], onam["numRedeemed"]) == (3, 0)
    assert onam["expiryStrategyType"] == "SERIES_EXPIRY"
    # "Fixed expiry date of the coupon" is the series' end in every documented answer...
    for series in answers().values():
        end = datetime.fromtimestamp(series["fixedExpiryDate"] / 1000, UTC)
        assert end.strftime("%Y-%m-%dT%H:%M:%SZ") == series["validTillDate"]
    # ...and follows a validTillDate set by a PUT (the Update page's pair).
    pair = json.loads((EVIDENCE / "update_pair.json").read_text(encoding="utf-8"))
    answer = pair["ans"]
    end = datetime.fromtimestamp(answer["fixedExpiryDate"] / 1000, UTC)
    assert answer["expiryStrategyType"] == "SERIES_EXPIRY"
    assert end.strftime("%Y-%m-%dT%H:%M:%SZ") == answer["validTillDate"]


def test_the_quoted_words_are_the_docs_words() -> None:
    from reconciler.engine.impact import EXCLUSION_QUOTE, SERIES_EXPIRY_QUOTE

    pages = Path(__file__).parent / "data" / "evidence"
    update_page = (pages / "update_page.txt").read_text(encoding="utf-8")
    assert SERIES_EXPIRY_QUOTE in update_page
    assert EXCLUSION_QUOTE in update_page


# --- status --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "status", "left", "text"),
    [
        ("2024-04-01", Status.NOT_STARTED, None, "not yet started (starts 2024-05-01)"),
        ("2025-01-01", Status.ACTIVE, 493, "active"),
        ("2026-04-20", Status.ENDING, 19, "active, ending in 19 days"),
        ("2026-05-09", Status.ENDING, 0, "active, ends today"),
        ("2026-05-10", Status.EXPIRED, None, "expired (ended 2026-05-09)"),
    ],
)
def test_status_on_the_plans_day(today: str, status: Status, left: int | None, text: str) -> None:
    planned = update("docs/onam", ONAM, FieldChange("description", "a", "b"))
    facts = business_of(planned, live=answers()[ONAM], today=day(today))
    assert (facts.status, facts.days_left, facts.status_text()) == (status, left, text)
    assert (facts.issued, facts.redeemed) == (3, 0)
    assert facts.before == Window("2024-05-01", "2026-05-09")
    assert facts.coupons_text() == "3 issued, 0 redeemed"


def test_a_create_is_new_with_its_window_from_the_day_the_server_would_make_it() -> None:
    planned = create(
        "new",
        {
            "discountCode": "NEW1",
            "validTillDate": "2027-01-31T00:00:00Z",
            "discountType": "PERC",
            "discountValue": 15,
        },
    )
    facts = business_of(planned, live=None, today=day("2026-11-23"))
    assert facts.status is Status.NEW and facts.before is None
    assert facts.after == Window("2026-11-23", "2027-01-31")
    assert (facts.discount_code, facts.discount_type, facts.discount_value) == ("NEW1", "PERC", 15)


# --- what the change does to issued coupons ---------------------------------------------------


def test_series_expiry_coupons_already_issued_move_with_the_end_of_the_series() -> None:
    planned = update(
        "docs/onam",
        ONAM,
        FieldChange("validTillDate", "2026-05-09T00:00:00Z", "2026-12-31T00:00:00Z"),
    )
    facts = business_of(planned, live=answers()[ONAM], today=day("2026-04-01"))
    assert facts.after == Window("2024-05-01", "2026-12-31")
    assert facts.impacts == (
        "3 coupons already issued expire with the series (expiryStrategyType SERIES_EXPIRY: "
        "'the coupon expires based on the rules defined for its series'), which now ends on "
        "2026-12-31 instead of 2026-05-09",
    )


def test_days_coupons_say_only_what_the_docs_say() -> None:
    planned = update("docs/like", LIKE, FieldChange("expiryStrategyValue", 30, 45))
    live = {**answers()[LIKE], "numIssued": 7}
    facts = business_of(planned, live=live, today=day("2026-04-01"))
    assert facts.impacts == (
        "coupons issued after the apply are valid 45 days from their issue (expiryStrategyType "
        "DAYS); the docs do not say whether coupons already issued change",
        "7 coupons already issued from this series",
    )


def test_a_validity_change_of_a_days_series_claims_nothing_about_issued_coupons() -> None:
    planned = update(
        "docs/like",
        LIKE,
        FieldChange("validTillDate", "2030-09-29T00:00:00Z", "2031-01-31T00:00:00Z"),
    )
    live = {**answers()[LIKE], "numIssued": 4}
    facts = business_of(planned, live=live, today=day("2026-04-01"))
    assert facts.impacts == ("4 coupons already issued from this series",)


def test_exclusions_say_who_can_no_longer_get_a_coupon() -> None:
    planned = update("docs/onam", ONAM, FieldChange("mutualExclusiveSeriesIds", [-1], [-1, LIKE]))
    facts = business_of(planned, live=answers()[ONAM], today=day("2026-04-01"))
    assert facts.impacts == (
        f"customers who already hold a coupon of series {LIKE} can no longer get one of this "
        "series ('If a customer already has a coupon from any of the offer IDs in this list, "
        "they will not be eligible to receive a coupon from the current series')",
    )
    back = update("docs/onam", ONAM, FieldChange("mutualExclusiveSeriesIds", [LIKE], [-1]))
    (said,) = business_of(back, live=answers()[ONAM], today=day("2026-04-01")).impacts
    assert said.startswith(f"customers holding a coupon of series {LIKE} may get one")


def test_a_discount_change_says_how_many_coupons_were_issued_and_no_more() -> None:
    planned = update(
        "docs/onam", ONAM, FieldChange("discountValue", 500, 600), FieldChange("maxCreate", -1, 5)
    )
    facts = business_of(planned, live=answers()[ONAM], today=day("2026-04-01"))
    assert facts.impacts == (
        "3 of at most 5 coupons issued: 2 more can be issued",
        "3 coupons already issued from this series",
    )
    # No coupons issued, nothing to say; a field of no concern, nothing either.
    quiet = update("docs/like", LIKE, FieldChange("discountValue", 1, 2))
    assert business_of(quiet, live=answers()[LIKE], today=day("2026-04-01")).impacts == ()
    sms = update("docs/onam", ONAM, FieldChange("smsTemplate", "a", "b"))
    assert business_of(sms, live=answers()[ONAM], today=day("2026-04-01")).impacts == ()


# --- overlaps -------------------------------------------------------------------------------


def org(*series: ListedSeries) -> OrgIndex:
    return OrgIndex.of(Listing(series=series))


def test_overlaps_of_series_sharing_a_discount_code() -> None:
    p = plan(
        created_at="2026-11-23T10:00:00Z",
        series=[
            create(
                "festive/diwali", {"discountCode": "GOLD", "validTillDate": "2026-12-31T00:00:00Z"}
            ),
            update("docs/onam", ONAM, FieldChange("description", "a", "b")),
        ],
    )
    listing = org(
        # The docs show two series of one org sharing a discountCode (gold1234).
        ListedSeries(
            900001, discount_code="GOLD", created="2026-11-01 08:00:00", valid_till="2026-11-30"
        ),
        ListedSeries(
            900002, discount_code="GOLD", created="2025-01-01 08:00:00", valid_till="2025-12-31"
        ),
        ListedSeries(
            ONAM, discount_code="Xjj123", created="2024-05-02 06:02:28", valid_till="2026-05-09"
        ),
    )
    filled = with_business(
        p, live={"docs/onam": answers()[ONAM]}, org=listing, today=day("2026-11-23")
    )
    assert [(o.key, o.other, o.start, o.end) for o in filled.overlaps] == [
        ("festive/diwali", "id 900001", "2026-11-23", "2026-11-30")
    ]
    assert find_overlaps(filled, org=org()) == ()


def test_only_changed_series_get_business_facts() -> None:
    p = plan(series=[update("docs/onam", ONAM, FieldChange("description", "a", "b"))])
    unchanged = SeriesPlan(
        key="same", file="series/same.yaml", action=Action.UNCHANGED, series_id=LIKE
    )
    p = plan(series=[*p.series, unchanged])
    filled = with_business(
        p,
        live={"docs/onam": answers()[ONAM], "same": answers()[LIKE]},
        org=org(),
        today=day("2026-04-01"),
    )
    by_key = {s.key: s.business for s in filled.series}
    assert by_key["same"] is None and by_key["docs/onam"] is not None
