"""The sandbox's own table of the CouponSeriesV2 fields: what the server stores for each.

Written from the vendor's evidence alone (``docs/sandbox.md`` cites each row), and on purpose
not from the tool's catalogue: the catalogue is the tool's reading of the same pages, with
guesses where the pages are silent, and a stand-in that took its defaults from it would agree
with every wrong guess. Where the two disagree, the sandbox's row has the evidence.

- ``DEFAULTS``: the value a create stores for a field left out. Every one is the value of the
  newer Update page's answer for a series made with only the required fields
  (``gold_877510``; the Create page's "Test 1" series 927443 agrees), or a value *derived* at
  creation (``FromDescription``, ``CreationDay``).
- ``STORAGE``: how a sent value is stored, when that changes it (the pairs' normalisations).
- ``KINDS``: the shape a value must have, or the server refuses it (400, 744).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

# --- who decides a field -----------------------------------------------------------------------

REQUIRED_ON_CREATE: Final = (
    "description",
    "discountCode",
    "validTillDate",
    "anyUser",
    "smsTemplate",
    "discountValue",
    "clientHandlingType",
    "expiryStrategyType",
    "discountType",
)  # the Create page's required marks
REQUIRED_ON_UPDATE: Final = (
    "description",
    "discountCode",
    "discountType",
    "discountValue",
    "anyUser",
    "smsTemplate",
    "clientHandlingType",
    "seriesCode",
    "expiryStrategyType",
)  # the Update page's required marks

# Set by the server: a value sent is ignored (the pairs send orgId 0, createdBy 70, numTotal
# 10, fixedExpiryDate 1916937000000... and are answered the server's own).
SERVER_OWNED: Final = frozenset(
    {
        "id",
        "orgId",
        "createdBy",
        "createdOn",
        "lastUsed",
        "dvsExpiryDate",
        "validDaysFromCreation",
        "ownerId",
        "numIssued",
        "numRedeemed",
        "numTotal",
        "numUploadedNonIssued",
        "numUploadedTotal",
        "latestIssualTime",
        "latestRedemptionTime",
        "fixedExpiryDate",
        "validTillDateTime",
        "warnings",
    }
)
# Set once, on create, and kept by every PUT.
KEPT_ON_UPDATE: Final = (
    "id",
    "orgId",
    "createdBy",
    "createdOn",
    "validDaysFromCreation",
    "ownerId",
    "numIssued",
    "numRedeemed",
    "numTotal",
    "numUploadedNonIssued",
    "numUploadedTotal",
    "latestIssualTime",
    "latestRedemptionTime",
)
# Taken in a request, never stored nor answered (the Update pair sends campaignName).
DROPPED: Final = frozenset({"campaignName"})


# --- defaults ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FromDescription:
    """The default is the series' description (gold_877510: info and tag)."""


@dataclass(frozen=True)
class CreationDay:
    """The default is the UTC day the series was made (gold_877510: redemptionValidFrom
    2025-10-09T00:00:00Z for createdOn 2025-10-09T06:45:15Z)."""


DEFAULTS: Final[Mapping[str, Any]] = {
    "expiryStrategyValue": -1,
    "maxCreate": -1,
    "maxRedeem": -1,
    "isTransferrable": False,
    "sameUserMultipleRedeem": False,
    "isReferralExistingUsersAllowed": False,
    "isMultipleUseAllowed": False,
    "isValidationRequired": False,
    "isValidWithDiscountedItem": False,
    "isSMSDisabled": False,
    "info": FromDescription(),
    "isMultipleVouchersPerUserAllowed": False,
    "doNotResendExistingVoucher": False,
    "mutualExclusiveSeriesIds": "[-1]",
    "storeIdsJson": "[-1]",
    "isDvsEnabled": False,
    "priority": 0,
    "shortSMSTemplate": "Hello {{cust_name}}, your voucher code is {{voucher_code}}",
    "maxVouchersPerUser": -1,
    "minDaysBetweenVouchers": -1,
    "maxReferralsPerReferee": -1,
    "discountUpto": 0,
    "dvsItems": "items",
    "redemptionRange": '{"dom" : [-1], "dow": [-1], "hours": [-1]}',
    "minBillAmount": -1,
    "maxBillAmount": -1,
    "redeemAtStore": "[-1]",
    "campaignId": -1,
    "tag": FromDescription(),
    "maxRedemptionsInSeriesPerUser": -1,
    "minDaysBetweenRedemption": -1,
    "redemptionValidFrom": CreationDay(),
    "sourceOrgId": -1,
    "issueToLoyalty": False,
    "redeemStoreType": "redeemable_stores",
    "offlineRedeemType": False,
    "isOldFlowEnabled": False,
    "isPreRedeemEventRequired": False,
    "termsAndConditions": "T&C",
    "signalRedemptionEvent": False,
    "syncToClient": False,
    "showPinCode": False,
    "redemptionValidAfterDays": 0,
    "ownedBy": "NONE",
    "ownerValidity": 0,
    "alphaNumeric": False,
    "shortCodeLength": 0,
    "randomCodeLength": 0,
    "resendMessageEnabled": True,
    "redemptionPerCouponMaxLimit": -1,
    "seriesType": "UNDEFINED",
    "discountOn": "BILL",
    "updateProductData": False,
    "externalIssual": False,
}

# What a new series gets of the fields the server owns (gold_877510, and both pairs' answers).
ON_CREATE: Final[Mapping[str, Any]] = {
    "validDaysFromCreation": 30,
    "ownerId": -1,
    "numIssued": 0,
    "numRedeemed": 0,
    "numTotal": 0,
    "numUploadedNonIssued": 0,
    "numUploadedTotal": 0,
    "latestIssualTime": 0,
    "latestRedemptionTime": 0,
}
ORG_ID: Final = 100737  # the org of the pairs' and gold_877510's answers
CREATED_BY: Final = 75155297  # the user of the Update pair's answer


# --- shapes and storage ------------------------------------------------------------------------

Kind = Literal[
    "text", "int", "number", "bool", "enum", "date", "ids", "range", "map", "object", "objects"
]
Storage = Literal["utc_day", "int32", "float32", "double", "non_positive_unlimited", "constant"]

_TEXT = (
    "description",
    "discountCode",
    "smsTemplate",
    "seriesCode",
    "info",
    "genericCode",
    "couponPrefix",
    "couponSuffix",
    "shortSMSTemplate",
    "dvsItems",
    "tag",
    "termsAndConditions",
)
# The OpenAPI's int32 fields, and the other integers the answers carry.
_INT32 = (
    "maxCreate",
    "maxRedeem",
    "maxVouchersPerUser",
    "minDaysBetweenVouchers",
    "maxRedemptionsInSeriesPerUser",
    "minDaysBetweenRedemption",
    "redemptionValidAfterDays",
    "randomCodeLength",
    "redemptionPerCouponMaxLimit",
    "expiryStrategyValue",
)
_INT = (*_INT32, "priority", "maxReferralsPerReferee", "campaignId", "sourceOrgId")
_INT_MORE = ("ownerValidity", "shortCodeLength")
_BOOL = (
    "anyUser",
    "isTransferrable",
    "sameUserMultipleRedeem",
    "isReferralExistingUsersAllowed",
    "isMultipleUseAllowed",
    "isValidationRequired",
    "isValidWithDiscountedItem",
    "isSMSDisabled",
    "isMultipleVouchersPerUserAllowed",
    "doNotResendExistingVoucher",
    "isDvsEnabled",
    "issueToLoyalty",
    "offlineRedeemType",
    "isOldFlowEnabled",
    "isPreRedeemEventRequired",
    "signalRedemptionEvent",
    "syncToClient",
    "showPinCode",
    "alphaNumeric",
    "resendMessageEnabled",
    "externalIssual",
    "updateProductData",
    "isPrefixEnabled",
    "orgPrefixOverride",
    "isSuffixEnabled",
    "orgSuffixOverride",
)

ENUMS: Final[Mapping[str, tuple[str, ...]]] = {
    "discountType": ("ABS", "PERC"),
    "clientHandlingType": ("DISC_CODE", "GENERIC", "DISC_CODE_PIN"),
    "expiryStrategyType": ("SERIES_EXPIRY", "DAYS", "MONTHS_END"),
    "seriesType": ("UNDEFINED", "LOYALTY", "CAMPAIGN"),
    "discountOn": ("BILL", "ITEM"),
    "ownedBy": ("NONE", "LOYALTY"),
    "redeemStoreType": ("redeemable_stores",),
}

KINDS: Final[Mapping[str, Kind]] = {
    **dict.fromkeys(_TEXT, "text"),
    **dict.fromkeys((*_INT, *_INT_MORE), "int"),
    **dict.fromkeys(("discountValue", "discountUpto", "minBillAmount", "maxBillAmount"), "number"),
    **dict.fromkeys(_BOOL, "bool"),
    **dict.fromkeys(ENUMS, "enum"),
    **dict.fromkeys(("validTillDate", "redemptionValidFrom"), "date"),
    **dict.fromkeys(("mutualExclusiveSeriesIds", "storeIdsJson", "redeemAtStore"), "ids"),
    "redemptionRange": "range",
    "customPropertyMap": "map",
    "targetUserDetails": "object",
    "productInfo": "objects",
    "redemptionOrgEntityDetails": "objects",
}
WRITABLE: Final = frozenset(KINDS)

STORAGE: Final[Mapping[str, Storage]] = {
    "validTillDate": "utc_day",  # the Create and Update pairs
    "redemptionValidFrom": "utc_day",  # the Create and Update pairs
    **dict.fromkeys(_INT32, "int32"),  # the Update pair wraps maxCreate and maxRedeem
    "discountValue": "float32",  # the Update pair: 150000000000000 → 150000004759552
    "discountUpto": "float32",  # the OpenAPI: float
    "minBillAmount": "double",  # the OpenAPI: double
    "maxBillAmount": "double",  # the Create pair keeps 9007199254740991
    "maxReferralsPerReferee": "non_positive_unlimited",  # the Update pair: 0 → -1
    "redeemStoreType": "constant",  # the Update pair: "string" → "redeemable_stores"
}

# Documented keys inside the object fields, and their enums (the Create page).
SUBFIELDS: Final[Mapping[str, Mapping[str, tuple[str, ...]]]] = {
    "productInfo": {"productType": ("SKU", "CATEGORY", "BRAND", "ATTRIBUTE"), "productIds": ()},
    "redemptionOrgEntityDetails": {
        "redemptionOrgEntityType": ("CONCEPT", "TILL", "ZONE", "STORE"),
        "orgEntityId": (),
    },
}
MAX_CATEGORY_IDS: Final = 1000  # the Create page: CATEGORY takes at most 1,000 product ids
AFFIX_PATTERN: Final = r"^[A-Za-z0-9_-]{0,10}$"  # couponPrefix / couponSuffix (the Create page)

# The key order of the answers: gold_877510's, with the keys only other answers carry placed
# where those answers place them (customPropertyMap first, targetUserDetails after
# showPinCode, genericCode before resendMessageEnabled: the Get page and the Update pair).
ANSWER_ORDER: Final = (
    "customPropertyMap",
    "id",
    "orgId",
    "description",
    "discountCode",
    "validTillDate",
    "validTillDateTime",
    "validDaysFromCreation",
    "expiryStrategyValue",
    "maxCreate",
    "maxRedeem",
    "isTransferrable",
    "anyUser",
    "sameUserMultipleRedeem",
    "isReferralExistingUsersAllowed",
    "isMultipleUseAllowed",
    "isValidationRequired",
    "isValidWithDiscountedItem",
    "createdBy",
    "numIssued",
    "numRedeemed",
    "createdOn",
    "lastUsed",
    "seriesCode",
    "smsTemplate",
    "isSMSDisabled",
    "info",
    "isMultipleVouchersPerUserAllowed",
    "doNotResendExistingVoucher",
    "mutualExclusiveSeriesIds",
    "storeIdsJson",
    "isDvsEnabled",
    "dvsExpiryDate",
    "priority",
    "shortSMSTemplate",
    "maxVouchersPerUser",
    "minDaysBetweenVouchers",
    "maxReferralsPerReferee",
    "discountUpto",
    "discountValue",
    "dvsItems",
    "redemptionRange",
    "minBillAmount",
    "maxBillAmount",
    "redeemAtStore",
    "campaignId",
    "tag",
    "maxRedemptionsInSeriesPerUser",
    "minDaysBetweenRedemption",
    "redemptionValidFrom",
    "sourceOrgId",
    "issueToLoyalty",
    "redeemStoreType",
    "offlineRedeemType",
    "isOldFlowEnabled",
    "isPreRedeemEventRequired",
    "termsAndConditions",
    "signalRedemptionEvent",
    "syncToClient",
    "showPinCode",
    "targetUserDetails",
    "numUploadedNonIssued",
    "numUploadedTotal",
    "redemptionValidAfterDays",
    "ownedBy",
    "ownerId",
    "ownerValidity",
    "alphaNumeric",
    "shortCodeLength",
    "randomCodeLength",
    "fixedExpiryDate",
    "numTotal",
    "latestIssualTime",
    "latestRedemptionTime",
    "genericCode",
    "resendMessageEnabled",
    "redemptionPerCouponMaxLimit",
    "seriesType",
    "clientHandlingType",
    "expiryStrategyType",
    "discountOn",
    "discountType",
    "updateProductData",
    "externalIssual",
)


def ordered(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` with its keys in the answers' order (unknown keys last, as they came)."""
    out = {k: doc[k] for k in ANSWER_ORDER if k in doc}
    out.update({k: v for k, v in doc.items() if k not in out})
    return out


__all__ = [
    "AFFIX_PATTERN",
    "ANSWER_ORDER",
    "CREATED_BY",
    "DEFAULTS",
    "DROPPED",
    "ENUMS",
    "KEPT_ON_UPDATE",
    "KINDS",
    "MAX_CATEGORY_IDS",
    "ON_CREATE",
    "ORG_ID",
    "REQUIRED_ON_CREATE",
    "REQUIRED_ON_UPDATE",
    "SERVER_OWNED",
    "STORAGE",
    "SUBFIELDS",
    "WRITABLE",
    "CreationDay",
    "FromDescription",
    "ordered",
]
