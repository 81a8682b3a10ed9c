"""The v1.1 list (``GET /v1.1/coupon/series``), in the shape of the vendor's own example.

The v1.1 "Get Coupon series details" page's example (``v1_1_list_example.json`` in the tests'
evidence) is the model: every value a string, booleans ``"0"``/``"1"`` (two of them
``"true"``/``"false"``), keys renamed rather than snake_cased, ``created`` as
``YYYY-MM-DD HH:MM:SS`` in the server's own zone without an offset, dates without a time, the
counts under ``coupons``, an ``item_status`` per series, no generic code, and a single series
as an object rather than a list of one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from reconciler.sandbox import values as V

# v2 field → v1.1 key, in the example's order; where the example renames, the rename is its.
KEYS: Final[tuple[tuple[str, str], ...]] = (
    ("id", "id"),
    ("description", "description"),
    ("seriesType", "series_type"),
    ("clientHandlingType", "client_handling_type"),
    ("discountCode", "discount_code"),
    ("validTillDate", "valid_till_date"),
    ("validDaysFromCreation", "valid_days_from_create"),
    ("expiryStrategyType", "expiry_strategy_type"),
    ("expiryStrategyValue", "expiry_strategy_value"),
    ("maxCreate", "max_create"),
    ("maxRedeem", "max_redeem"),
    ("isTransferrable", "transferrable"),
    ("anyUser", "any_user"),
    ("sameUserMultipleRedeem", "same_user_multiple_redeem"),
    ("isReferralExistingUsersAllowed", "allow_referral_existing_users"),
    ("isMultipleUseAllowed", "multiple_use"),
    ("isValidationRequired", "is_validation_required"),
    ("isValidWithDiscountedItem", "valid_with_discounted_item"),
    ("createdBy", "created_by"),
    ("createdOn", "created"),
    ("lastUsed", "last_used"),
    ("seriesCode", "series_code"),
    ("isSMSDisabled", "disable_sms"),
    ("info", "info"),
    ("isMultipleVouchersPerUserAllowed", "allow_multiple_vouchers_per_user"),
    ("doNotResendExistingVoucher", "do_not_resend_existing_voucher"),
    ("mutualExclusiveSeriesIds", "mutual_exclusive_series_ids"),
    ("storeIdsJson", "store_ids_json"),
    ("isDvsEnabled", "dvs_enabled"),
    ("dvsExpiryDate", "dvs_expiry_date"),
    ("priority", "priority"),
    ("shortSMSTemplate", "short_sms_template"),
    ("maxVouchersPerUser", "max_vouchers_per_user"),
    ("minDaysBetweenVouchers", "min_days_between_vouchers"),
    ("maxReferralsPerReferee", "max_referrals_per_referee"),
    ("discountOn", "discount_on"),
    ("discountType", "discount_type"),
    ("discountValue", "discount_value"),
    ("redemptionRange", "redemption_range"),
    ("minBillAmount", "min_bill_amount"),
    ("maxBillAmount", "max_bill_amount"),
    ("redeemAtStore", "redeem_at_store"),
    ("campaignId", "campaign_id"),
    ("maxRedemptionsInSeriesPerUser", "max_redemptions_in_series_per_user"),
    ("minDaysBetweenRedemption", "min_days_between_redemption"),
    ("redemptionValidFrom", "redemption_valid_from"),
    ("sourceOrgId", "source_org_id"),
    ("issueToLoyalty", "issue_to_loyalty"),
    ("redeemStoreType", "redeem_store_type"),
    ("isOldFlowEnabled", "old_flow_enabled"),
    ("isPreRedeemEventRequired", "pre_redeem_event_required"),
)
# Booleans the example writes "true"/"false" rather than "1"/"0".
WORD_BOOLEANS: Final = frozenset({"valid_with_discounted_item", "offline_redemption_enabled"})
# Times written with a time of day, in the server's zone; dates written as a day.
TIMES: Final = frozenset({"created", "last_used"})
DAYS: Final = frozenset({"valid_till_date", "dvs_expiry_date", "redemption_valid_from"})
_ENTITY_KEYS: Final = {"CONCEPT": "concepts", "ZONE": "zones", "STORE": "stores", "TILL": "tills"}

OK_STATUS: Final = {"success": "true", "code": "200", "message": "Success"}
ITEM_OK: Final = {"success": "true", "code": "700", "message": "Coupon series fetched successfully"}
# Sandbox choices: the pages show no failed list, nor a failed item.
FAILED_STATUS: Final = {
    "success": "false",
    "code": "500",
    "message": "Unable to fetch coupon series, please try again later",
}
ITEM_FAILED: Final = {
    "success": "false",
    "code": "701",
    "message": "Unable to fetch the coupon series",
}


def expired(doc: Mapping[str, Any], *, today: date) -> bool:
    """A series whose validTillDate (a stored UTC day) is before ``today``: its last day is
    still valid (sandbox choice: the pages do not say where ``expired`` draws the line)."""
    till = doc.get("validTillDate")
    moment = V.parse_moment(till) if isinstance(till, str) else None
    return moment is not None and moment.date() < today


def item(doc: Mapping[str, Any], *, offset_minutes: int, failed: bool = False) -> dict[str, Any]:
    """One stored series as a v1.1 list item."""
    out: dict[str, Any] = {}
    for name, key in KEYS:
        if name in doc:
            out[key] = _text(key, doc[name], offset_minutes=offset_minutes)
    out["coupons"] = {
        "issued": _text("issued", doc.get("numIssued", 0), offset_minutes=offset_minutes),
        "redeemed": _text("redeemed", doc.get("numRedeemed", 0), offset_minutes=offset_minutes),
    }
    offline = doc.get("offlineRedeemType", False)
    out["offline_redemption_enabled"] = _text(
        "offline_redemption_enabled", offline, offset_minutes=offset_minutes
    )
    out["item_status"] = dict(ITEM_FAILED if failed else ITEM_OK)
    out["valid_redemption_org_entities"] = _org_entities(doc.get("redemptionOrgEntityDetails"))
    out["products"] = ""
    out["brands"] = ""
    out["categories"] = ""
    return out


def answer(items: Iterable[dict[str, Any]], *, failed: bool = False) -> dict[str, Any]:
    """The whole answer: one series as an object, several as a list, none as an empty list
    (sandbox choice: the pages show only the one-series form). ``failed``: the answer a
    server gives when it could not list (a 200 with ``success: "false"``, no series)."""
    if failed:
        return {"response": {"status": dict(FAILED_STATUS), "series": {"items": ""}}}
    listed = list(items)
    one: Any = listed[0] if len(listed) == 1 else listed
    return {"response": {"status": dict(OK_STATUS), "series": {"items": {"item": one}}}}


def _text(key: str, value: Any, *, offset_minutes: int) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        if key in WORD_BOOLEANS:
            return "true" if value else "false"
        return "1" if value else "0"
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    if isinstance(value, str) and key in TIMES:
        return _local_time(value, offset_minutes=offset_minutes)
    if isinstance(value, str) and key in DAYS:
        return value[:10]
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _local_time(stamp: str, *, offset_minutes: int) -> str:
    moment = V.parse_moment(stamp)
    if moment is None:
        return stamp
    local: datetime = moment.astimezone(UTC) + timedelta(minutes=offset_minutes)
    return local.strftime("%Y-%m-%d %H:%M:%S")


def _org_entities(details: Any) -> dict[str, str | None]:
    grouped: dict[str, list[Any]] = {}
    for entry in details if isinstance(details, list) else ():
        if isinstance(entry, dict) and entry.get("redemptionOrgEntityType") in _ENTITY_KEYS:
            grouped.setdefault(_ENTITY_KEYS[entry["redemptionOrgEntityType"]], []).append(
                entry.get("orgEntityId")
            )
    return {
        key: json.dumps(grouped[key], separators=(",", ":")) if key in grouped else None
        for key in ("concepts", "zones", "stores", "tills")
    }


__all__ = ["KEYS", "answer", "expired", "item"]
