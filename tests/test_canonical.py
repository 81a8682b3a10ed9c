"""The canonical forms: the server's normalisations as the docs' pairs show them."""

from __future__ import annotations

import pytest

from reconciler.canonical import (
    canonical,
    float32,
    int32,
    parse_datetime,
    stored_value,
    to_api,
    to_friendly,
)
from reconciler.catalogue import ABSENT, field


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        # seeds/003, create pair: an Indian midnight is the previous UTC day.
        ("2030-09-30T00:00:00+05:30", "2030-09-29T00:00:00Z"),
        # seeds/000, update pair: 79 seconds roll over, then the UTC day is kept.
        ("2025-04-25T23:50:79+05:30", "2025-04-25T00:00:00Z"),
        ("1970-01-01T05:30:00+05:30", "1970-01-01T00:00:00Z"),
        ("2025-04-24T00:00:00+05:30", "2025-04-23T00:00:00Z"),
        ("2026-01-01T23:30:00-02:00", "2026-01-02T00:00:00Z"),
        ("2026-01-01", "2026-01-01T00:00:00Z"),
        ("2026-05-09T00:00:00Z", "2026-05-09T00:00:00Z"),
    ],
)
def test_dates_are_kept_as_the_utc_day(sent: str, stored: str) -> None:
    assert stored_value(field("validTillDate"), sent) == stored
    assert canonical("redemptionValidFrom", sent) == stored


def test_numbers_as_the_server_stores_them() -> None:
    # seeds/000: single precision for discountValue, 32-bit wrap for maxCreate / maxRedeem.
    assert float32(150000000000000) == 150000004759552
    assert canonical("discountValue", 150000000000000) == 150000004759552
    assert int32(10000000297830) == 1316432742
    assert canonical("maxRedeem", 10000000728300) == 1316863212
    assert canonical("discountValue", 500) == canonical("discountValue", 500.0) == 500
    assert canonical("maxBillAmount", 9007199254740991) == 9007199254740991
    assert canonical("maxReferralsPerReferee", 0) == -1
    assert canonical("redeemStoreType", "string") == "redeemable_stores"


def test_json_in_strings_compares_as_json_and_sets() -> None:
    assert canonical("redemptionRange", '{"dom":["-1"],"dow":["-1"],"hours":["-1"]}') == canonical(
        "redemptionRange", '{"dom" : [-1], "dow": [-1], "hours": [-1]}'
    )
    friendly = to_api("redemptionRange", {"dom": [15, 1], "dow": [1], "hours": [-1]})
    assert canonical("redemptionRange", friendly) == {"dom": [1, 15], "dow": [1], "hours": [-1]}
    assert canonical("mutualExclusiveSeriesIds", "[3, 2, 3]") == canonical(
        "mutualExclusiveSeriesIds", to_api("mutualExclusiveSeriesIds", [2, "3"])
    )
    assert canonical("storeIdsJson", "[]") != canonical("storeIdsJson", "[-1]")


def test_unset_values_equal_a_missing_key() -> None:
    assert canonical("redemptionPerCouponMaxLimit", -1) is None
    assert canonical("redemptionPerCouponMaxLimit", ABSENT) is None
    assert canonical("customPropertyMap", {}) is None
    assert canonical("productInfo", []) is None
    assert canonical("genericCode", "") is None


def test_lists_of_objects_compare_as_sets() -> None:
    a = [
        {"productType": "SKU", "productIds": [40, 30]},
        {"productType": "BRAND", "productIds": [1]},
    ]
    b = [
        {"productType": "BRAND", "productIds": ["1"]},
        {"productType": "SKU", "productIds": [30, 40]},
    ]
    assert canonical("productInfo", a) == canonical("productInfo", b)


def test_friendly_forms_round_trip() -> None:
    api = to_api("storeIdsJson", [1, 2])
    assert to_friendly("storeIdsJson", api) == [1, 2]
    rng = '{"dom" : [1], "dow": [1], "hours": [1]}'
    assert to_friendly("redemptionRange", rng) == {"dom": [1], "dow": [1], "hours": [1]}


def test_strict_parse_refuses_what_the_lenient_one_rolls_over() -> None:
    assert parse_datetime("2025-04-25T23:50:79+05:30") is None
    assert parse_datetime("2025-04-25T23:50:79+05:30", lenient=True) is not None
    assert parse_datetime("2025-04-25T10:00:00") is None  # no offset
    assert parse_datetime("not a date") is None
