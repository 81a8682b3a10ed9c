"""The canonical forms: the server's normalisations as the docs' pairs show them."""

from __future__ import annotations

import pytest

from reconciler.model.canonical import (
    API_DATETIME,
    api_datetime,
    canonical,
    float32,
    int32,
    json_too_deep,
    parse_datetime,
    request_body,
    stored_value,
    to_api,
    to_friendly,
)
from reconciler.model.catalogue import ABSENT, field


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


def test_doubles_and_floats_as_the_openapi_types_them() -> None:
    # minBillAmount / maxBillAmount are doubles: a whole amount is one value however spelled.
    for name in ("minBillAmount", "maxBillAmount"):
        assert canonical(name, 100.0) == canonical(name, 100) == 100
        assert type(canonical(name, 100.0)) is int
        assert canonical(name, 99.5) == 99.5
    # discountUpto is a float: single precision, as discountValue.
    assert canonical("discountUpto", 150000000000000) == 150000004759552
    assert canonical("discountUpto", 12.5) == 12.5


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


# Every date-time spelling a series file may use, and the one request form it is sent in
# (the docs' form YYYY-MM-DDTHH:MM:SS+hh:mm; the wall clock and the offset as written).
SPELLINGS = [
    ("2029-01-01T20:00:00-08:00", "2029-01-01T20:00:00-08:00"),  # already the API's form
    ("2029-01-01 20:00:00-08:00", "2029-01-01T20:00:00-08:00"),  # unquoted YAML timestamp
    ("2029-01-01T20:00:00Z", "2029-01-01T20:00:00+00:00"),
    ("2029-01-01T20:00:00z", "2029-01-01T20:00:00+00:00"),  # lowercase z
    ("2029-01-01T20:00-08:00", "2029-01-01T20:00:00-08:00"),  # no seconds
    ("2029-01-01T20:00:00-08", "2029-01-01T20:00:00-08:00"),  # hour-only offset
    ("2029-01-01T20:00:00-0800", "2029-01-01T20:00:00-08:00"),  # no colon in the offset
    ("2029-01-01T20:00:00.123456+05:30", "2029-01-01T20:00:00+05:30"),  # fraction dropped
    ("2029-01-01T23:59:59.999Z", "2029-01-01T23:59:59+00:00"),  # ...never across a day
    ("2029-01-01T20:00:00-00:00", "2029-01-01T20:00:00+00:00"),
    ("2029-01-01 20:00 +0545", "2029-01-01T20:00:00+05:45"),  # space before the offset
    ("  2029-01-01T20:00:00+14:00  ", "2029-01-01T20:00:00+14:00"),
    ("2029-01-01", "2029-01-01T00:00:00+00:00"),  # a bare date: the start of that UTC day
]


@pytest.mark.parametrize(("written", "sent"), SPELLINGS)
def test_every_accepted_spelling_has_one_request_form(written: str, sent: str) -> None:
    assert api_datetime(written) == sent
    assert to_api("validTillDate", written) == sent
    assert API_DATETIME.match(sent)
    # The request form means the same moment (to the second) as what was written.
    before, after = parse_datetime(written), parse_datetime(sent)
    assert before is not None and after is not None
    assert before.replace(microsecond=0) == after
    assert canonical("validTillDate", written) == canonical("validTillDate", sent)


@pytest.mark.parametrize(
    "text",
    [
        "2029-01-01T20:00:00",
        "2029-13-01",
        "2029-01-01T24:00:00Z",
        "tomorrow",
        "2025-04-25T23:50:79+05:30",
        "2029-01-01T20:00:00+19:00",
    ],
)
def test_what_validate_refuses_has_no_request_form(text: str) -> None:
    assert api_datetime(text) is None
    assert to_api("validTillDate", text) == text  # left for validate to report


def test_a_live_body_is_sent_with_its_dates_in_the_request_form() -> None:
    live = {
        "validTillDate": "2030-09-29T00:00:00Z",
        "redemptionValidFrom": "1970-01-01",
        "description": "2030-09-29T00:00:00Z",
        "maxCreate": 5,
    }
    assert request_body(live) == {
        "validTillDate": "2030-09-29T00:00:00+00:00",
        "redemptionValidFrom": "1970-01-01T00:00:00+00:00",
        "description": "2030-09-29T00:00:00Z",  # not a date field: untouched
        "maxCreate": 5,
    }


def test_dates_past_the_last_utc_day_are_no_dates() -> None:
    # Issue 11: 9999-12-31T23:59:59-14:00 is 10000-01-01 in UTC; this raised OverflowError.
    assert parse_datetime("9999-12-31T23:59:59-14:00") is None
    assert parse_datetime("9999-12-31T23:59:59-14:00", lenient=True) is None
    assert parse_datetime("0001-01-01T00:00:00+01:00") is None
    assert stored_value(field("validTillDate"), "9999-12-31T23:59:59-14:00") == (
        "9999-12-31T23:59:59-14:00"
    )
    assert parse_datetime("9999-12-31T23:59:59+14:00") is not None


def test_json_nested_too_deep_is_not_parsed() -> None:
    # Issue 11: 5,000 nested arrays made json.loads raise RecursionError.
    deep = "[" * 5000 + "]" * 5000
    assert json_too_deep(deep)
    assert canonical("storeIdsJson", deep) == deep  # kept as written, never parsed
    assert to_api("storeIdsJson", deep) == deep
    assert not json_too_deep('{"dom": [1, "[[[["], "dow": [-1]}')


def test_json_text_and_whole_numbers_are_sent_in_one_form() -> None:
    assert to_api("storeIdsJson", '[ "101",102 ]') == "[101, 102]"
    assert to_api("storeIdsJson", '["a"]') == '["a"]'  # not ids: left for validate
    assert to_api("redemptionRange", '{"dom":["-1"],"dow":["-1"],"hours":["-1"]}') == (
        '{"dom": [-1], "dow": [-1], "hours": [-1]}'
    )
    assert to_api("redemptionRange", {"dom": "-1", "hours": [9, "10"]}) == (
        '{"dom": [-1], "dow": [-1], "hours": [9, 10]}'
    )
    assert to_api("discountValue", 15.0) == 15 and type(to_api("discountValue", 15.0)) is int
    assert to_api("discountValue", 12.5) == 12.5


def test_a_remembered_canonical_form_is_never_shared_when_it_can_change() -> None:
    # Canonical forms of scalars are remembered; a form a caller could change (the list an
    # id string becomes) is made anew each time.
    first = canonical("storeIdsJson", "[3, 1]")
    assert first == [1, 3]
    first.append(99)
    assert canonical("storeIdsJson", "[3, 1]") == [1, 3]
    # Equal but differently typed values are told apart (1 == 1.0 == True).
    assert canonical("discountValue", 1) == 1 and type(canonical("discountValue", 1.5)) is float
    assert canonical("anyUser", True) is True and canonical("anyUser", 1) is not True
