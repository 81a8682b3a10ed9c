"""Three-way field ownership: declared now, declared at the last apply, live."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.engine.diff import FieldChange
from reconciler.engine.ownership import (
    RESET_NOTE,
    field_resets,
    fields_to_record,
    resets_for,
    server_default,
)
from reconciler.model.catalogue import ABSENT, BY_NAME, DEPENDENCIES, FIELDS
from reconciler.model.desired import DesiredSeries, IgnoreRule, SeriesOptions

CORE: dict[str, Any] = {
    "description": "Summer weekends",
    "discountCode": "SUMMER15",
    "discountType": "PERC",
    "discountValue": 15,
    "anyUser": False,
    "smsTemplate": "Hi {{voucher}}",
    "clientHandlingType": "DISC_CODE",
    "expiryStrategyType": "DAYS",
    "validTillDate": "2027-08-31T00:00:00Z",
}


def live_of(**extra: Any) -> dict[str, Any]:
    """A live series as the server answers it: every default filled in."""
    live: dict[str, Any] = {f.name: f.default for f in FIELDS if f.writable}
    live = {k: v for k, v in live.items() if v is not ABSENT}
    live.update(CORE, id=1, numIssued=0, expiryStrategyValue=14)
    live.update(extra)
    return live


def resets(
    *,
    desired: dict[str, Any] | None = None,
    last: set[str] | None,
    live: dict[str, Any],
    ignored: tuple[str, ...] = (),
) -> Any:
    fields = dict(CORE) if desired is None else desired
    return field_resets(
        desired=fields, declared=set(fields), last_declared=last, live=live, ignored=ignored
    )


def test_a_removed_line_resets_its_field_to_the_server_default() -> None:
    result = resets(last=set(CORE) | {"maxRedeem"}, live=live_of(maxRedeem=500))
    (reset,) = result.resets
    assert reset.field == "maxRedeem"
    assert reset.value == -1
    assert reset.change == FieldChange("maxRedeem", 500, -1, note=RESET_NOTE)
    assert reset.note == RESET_NOTE == "no longer in the file: server default"
    assert result.body == {"maxRedeem": -1}
    assert result.changes == (FieldChange("maxRedeem", 500, -1, note=RESET_NOTE),)
    assert result.change_notes == {"maxRedeem": RESET_NOTE}
    assert result.notes == ()


def test_a_removed_line_whose_live_value_is_already_the_default_changes_nothing() -> None:
    result = resets(last=set(CORE) | {"maxRedeem"}, live=live_of(maxRedeem=-1))
    assert result.resets == ()


def test_a_field_never_declared_is_never_touched() -> None:
    # maxRedeem was set by a person in the CRM; the tool never declared it.
    result = resets(last=set(CORE), live=live_of(maxRedeem=500, info="ops note"))
    assert result.resets == ()


def test_no_record_of_the_last_apply_resets_nothing() -> None:
    # A state written before ownership was recorded, or rebuilt: never guess.
    assert resets(last=None, live=live_of(maxRedeem=500)).resets == ()


def test_ignore_rules_win_over_a_removed_line() -> None:
    result = resets(
        last=set(CORE) | {"maxRedeem"}, live=live_of(maxRedeem=500), ignored=("maxRedeem",)
    )
    assert result.resets == ()


def test_a_field_still_declared_is_not_a_reset() -> None:
    desired = dict(CORE, maxRedeem=700)
    result = resets(desired=desired, last=set(desired), live=live_of(maxRedeem=500))
    assert result.resets == ()  # an ordinary change, the diff's job


def test_several_removed_lines_in_api_form() -> None:
    last = set(CORE) | {"storeIdsJson", "redemptionRange", "productInfo", "couponPrefix"}
    live = live_of(
        storeIdsJson="[101, 102]",
        redemptionRange='{"dom": [-1], "dow": [6, 7], "hours": [-1]}',
        productInfo=[{"productType": "SKU", "productIds": [1]}],
        couponPrefix="SUM",
    )
    result = resets(last=last, live=live)
    assert result.body == {
        "redemptionRange": BY_NAME["redemptionRange"].default,
        "storeIdsJson": "[-1]",
    }
    assert [r.field for r in result.resets] == sorted(result.body)  # sorted by name
    by_field = {r.field: r.change for r in result.resets}
    assert by_field["storeIdsJson"] == FieldChange(
        "storeIdsJson", [101, 102], [-1], note=RESET_NOTE
    )
    # No page shows what the server stores without a prefix or products: released, said.
    assert [n.split(" ")[0] for n in result.notes] == ["couponPrefix", "productInfo"]
    assert all("no page shows" in n and "left as it is in the CRM" in n for n in result.notes)


def test_a_field_with_no_server_default_is_left_alone_and_said() -> None:
    # seriesCode (the identity marker) and required fields have no default.
    desired = {k: v for k, v in CORE.items() if k != "description"}
    result = resets(
        desired=desired,
        last=set(CORE) | {"seriesCode"},
        live=live_of(seriesCode="summer-15"),
    )
    assert result.resets == ()
    assert len(result.notes) == 2
    assert all("no page shows" in note and "left as it is" in note for note in result.notes)


def test_server_owned_and_unknown_names_in_the_record_are_skipped() -> None:
    result = resets(last=set(CORE) | {"numIssued", "notAField"}, live=live_of(numIssued=5))
    assert result.resets == () and result.notes == ()


# --- dependent fields ---------------------------------------------------------------------


def test_switch_to_series_expiry_and_drop_the_value_sends_1() -> None:
    """The issue's case: DAYS/14 declared, then SERIES_EXPIRY with the value line deleted."""
    desired = dict(CORE, expiryStrategyType="SERIES_EXPIRY")
    result = resets(
        desired=desired,
        last=set(CORE) | {"expiryStrategyValue"},
        live=live_of(expiryStrategyType="DAYS", expiryStrategyValue=14),
    )
    assert result.body == {"expiryStrategyValue": -1}
    (reset,) = result.resets
    # The server's default (-1, the answers to minimal creates) is a value SERIES_EXPIRY
    # allows: one reset, told as the removal.
    assert reset.change == FieldChange("expiryStrategyValue", 14, -1, note=RESET_NOTE)


def test_switch_to_series_expiry_resets_a_value_the_tool_never_declared() -> None:
    # A person set DAYS/14 in the CRM; the file now declares SERIES_EXPIRY only. The stale 14
    # would ride along in every PUT: the combination allows only 1, so it is reset with it.
    desired = dict(CORE, expiryStrategyType="SERIES_EXPIRY")
    result = resets(desired=desired, last=set(CORE), live=live_of(expiryStrategyValue=14))
    (reset,) = result.resets
    assert reset.field == "expiryStrategyValue" and reset.value == 1
    assert reset.note == (
        "reset with expiryStrategyType SERIES_EXPIRY: coupons end with the series: the pages say 1"
    )


def test_switch_between_free_strategies_keeps_the_value_and_says_so() -> None:
    desired = dict(CORE, expiryStrategyType="MONTHS_END")
    result = resets(desired=desired, last=set(CORE), live=live_of(expiryStrategyValue=14))
    assert result.resets == ()
    (note,) = result.notes
    assert note == (
        "expiryStrategyValue keeps the CRM's 14 with expiryStrategyType MONTHS_END: declare it "
        "if that is not meant"
    )


@pytest.mark.parametrize("value", [1, -1])
def test_a_dependent_value_already_right_is_not_a_change(value: int) -> None:
    # 1 as the pages say, -1 as the server stores when the field is left out.
    desired = dict(CORE, expiryStrategyType="SERIES_EXPIRY")
    result = resets(desired=desired, last=set(CORE), live=live_of(expiryStrategyValue=value))
    assert result.resets == () and result.notes == ()


def test_an_unchanged_controller_leaves_an_undeclared_dependent_alone() -> None:
    # Live is already SERIES_EXPIRY with 14 (a person's doing): this plan does not move the
    # strategy, so the field it never declared is not its to fix.
    desired = dict(CORE, expiryStrategyType="SERIES_EXPIRY")
    live = live_of(expiryStrategyType="SERIES_EXPIRY", expiryStrategyValue=14)
    assert resets(desired=desired, last=set(CORE), live=live).resets == ()


def test_a_declared_dependent_is_the_files_to_set() -> None:
    desired = dict(CORE, expiryStrategyType="SERIES_EXPIRY", expiryStrategyValue=1)
    live = live_of(expiryStrategyValue=14)
    assert resets(desired=desired, last=set(desired), live=live).resets == ()


def test_ignore_rules_win_over_dependencies() -> None:
    desired = dict(CORE, expiryStrategyType="SERIES_EXPIRY")
    result = resets(
        desired=desired,
        last=set(CORE) | {"expiryStrategyValue"},
        live=live_of(expiryStrategyValue=14),
        ignored=("expiryStrategyValue",),
    )
    assert result.resets == () and result.notes == ()


def test_per_coupon_limit_is_reset_when_any_user_goes_false() -> None:
    desired = dict(CORE, anyUser=False)
    live = live_of(anyUser=True, redemptionPerCouponMaxLimit=3)
    result = resets(desired=desired, last=set(CORE), live=live)
    assert result.body == {"redemptionPerCouponMaxLimit": -1}
    assert "anyUser false, clientHandlingType DISC_CODE" in result.resets[0].note


def test_a_prefix_is_left_when_codes_are_no_longer_generated() -> None:
    # The server ignores a prefix on a GENERIC series (the Create page): nothing to reset,
    # and no page shows that "" clears one.
    desired = dict(CORE, clientHandlingType="GENERIC", genericCode="SUMMER")
    live = live_of(couponPrefix="SUM", isPrefixEnabled=True)
    result = resets(desired=desired, last=set(desired), live=live)
    assert result.body == {} and result.notes == ()


def test_a_default_the_rules_refuse_is_never_sent() -> None:
    # DAYS/14, the line removed: the server's default -1 counts no days (a rule refuses it,
    # as validate refuses the file): left as it is, and said.
    result = resets(last=set(CORE) | {"expiryStrategyValue"}, live=live_of(expiryStrategyValue=14))
    assert result.resets == ()
    (note,) = result.notes
    assert note.startswith("expiryStrategyValue is no longer in the file, and the server's")
    assert "left as it is in the CRM (14)" in note


def test_every_dependency_names_catalogue_fields() -> None:
    for dep in DEPENDENCIES:
        assert BY_NAME[dep.field].writable
        assert all(BY_NAME[name].writable for name in dep.on)


# --- helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [("maxRedeem", -1), ("expiryStrategyValue", -1), ("storeIdsJson", "[-1]"),
     ("minBillAmount", -1), ("maxBillAmount", -1), ("termsAndConditions", "T&C"),
     ("genericCode", ABSENT), ("targetUserDetails", ABSENT), ("productInfo", ABSENT),
     ("info", ABSENT), ("tag", ABSENT), ("redemptionValidFrom", ABSENT),
     ("isPrefixEnabled", ABSENT),
     ("description", ABSENT), ("seriesCode", ABSENT), ("validTillDate", ABSENT)],
)  # fmt: skip
def test_server_default(name: str, value: Any) -> None:
    assert server_default(name) == value


def _series(fields: dict[str, Any], ignore: tuple[IgnoreRule, ...] = ()) -> DesiredSeries:
    return DesiredSeries(
        key="summer/weekend",
        file="series/summer/weekend.yaml",
        fields=fields,
        declared=frozenset(fields),
        options=SeriesOptions(ignore=ignore),
    )


def test_resets_for_a_loaded_series_and_its_rules() -> None:
    series = _series(dict(CORE))
    rule = IgnoreRule("maxRedeem", "ops own it", "series/summer/weekend.yaml")
    live = live_of(maxRedeem=500)
    last = set(CORE) | {"maxRedeem"}
    assert resets_for(series, last_declared=last, live=live, rules={}).body == {"maxRedeem": -1}
    assert resets_for(series, last_declared=last, live=live, rules={"maxRedeem": rule}).body == {}


def test_fields_to_record_is_what_the_series_declares() -> None:
    series = _series(dict(CORE, maxRedeem=500))
    assert fields_to_record(series) == frozenset(CORE) | {"maxRedeem"}


def test_after_the_resets_are_applied_the_next_plan_resets_nothing() -> None:
    desired = dict(CORE, expiryStrategyType="SERIES_EXPIRY")
    live = live_of(maxRedeem=500, expiryStrategyValue=14, info="set by a person")
    first = resets(desired=desired, last=set(CORE) | {"maxRedeem"}, live=live)
    assert first.body == {"maxRedeem": -1, "expiryStrategyValue": 1}
    applied = {**live, **desired, **first.body}  # PUT: live fields, the plan's values on top
    assert applied["info"] == "set by a person"  # never declared: carried as it was
    # With the new declared set recorded, or with the old one kept after a failed record.
    assert resets(desired=desired, last=set(desired), live=applied).resets == ()
    assert resets(desired=desired, last=set(CORE) | {"maxRedeem"}, live=applied).resets == ()
