"""The fields of a coupon series the server owns, and the order its answers give keys in.

A file may not declare these: what is sent is ignored (``evidence`` says which answer shows
it), and most are recomputed or counted by the server.
"""

from __future__ import annotations

from typing import Final

from reconciler.model.fields import GETS, PAIR_CREATE, PAIR_UPDATE
from reconciler.model.fieldtypes import Access, Field, Kind

SERVER_OWNED: Final[tuple[Field, ...]] = (
    Field(
        "id",
        Kind.INTEGER,
        "Id of the series.",
        access=Access.SERVER,
        evidence="the server assigns it on create",
    ),
    Field(
        "orgId",
        Kind.INTEGER,
        "Org of the series.",
        access=Access.SERVER,
        evidence=f"{PAIR_UPDATE}: sent 0, answered 100737",
    ),
    Field(
        "createdBy",
        Kind.INTEGER,
        "User who created the series.",
        access=Access.SERVER,
        evidence=f"{PAIR_CREATE}: sent 70, answered 75154383",
    ),
    Field(
        "createdOn",
        Kind.STRING,
        "When the series was created.",
        access=Access.SERVER,
        evidence=f"{PAIR_CREATE}: sent 2022-02-23, answered the day of the call",
    ),
    Field(
        "lastUsed",
        Kind.STRING,
        "When the series was last written.",
        access=Access.SERVER,
        recomputed_on_write=True,
        evidence=f"{PAIR_UPDATE}: answered the time of the call",
    ),
    Field(
        "dvsExpiryDate",
        Kind.STRING,
        "Expiry date for DVS.",
        access=Access.SERVER,
        recomputed_on_write=True,
        evidence=f"{PAIR_UPDATE} and {PAIR_CREATE}: answered the UTC day of the call, "
        "whatever was sent",
    ),
    Field(
        "validDaysFromCreation",
        Kind.INTEGER,
        "Days the coupon is valid from creation.",
        access=Access.SERVER,
        evidence=f"{PAIR_UPDATE}: sent 0, answered 30; {GETS}: 30",
    ),
    Field(
        "ownerId",
        Kind.INTEGER,
        "Owner of the coupon.",
        access=Access.SERVER,
        evidence=f"{PAIR_UPDATE}: sent 0, answered -1",
    ),
    Field("numIssued", Kind.INTEGER, "Coupons issued.", access=Access.SERVER),
    Field("numRedeemed", Kind.INTEGER, "Coupons redeemed.", access=Access.SERVER),
    Field(
        "numTotal",
        Kind.INTEGER,
        "Total coupons.",
        access=Access.SERVER,
        evidence=f"{PAIR_UPDATE}: sent 10, answered 0",
    ),
    Field(
        "numUploadedNonIssued", Kind.INTEGER, "Uploaded coupons not issued.", access=Access.SERVER
    ),
    Field("numUploadedTotal", Kind.INTEGER, "Uploaded coupons.", access=Access.SERVER),
    Field(
        "latestIssualTime", Kind.INTEGER, "Last issue, epoch milliseconds.", access=Access.SERVER
    ),
    Field(
        "latestRedemptionTime",
        Kind.INTEGER,
        "Last redemption, epoch milliseconds.",
        access=Access.SERVER,
    ),
    Field(
        "fixedExpiryDate",
        Kind.INTEGER,
        "validTillDate in epoch milliseconds.",
        access=Access.SERVER,
        recomputed_on_write=True,
        evidence=f"{PAIR_CREATE}: sent 1916937000000, answered "
        "1916870400000, the stored validTillDate",
    ),
    Field(
        "warnings",
        Kind.OBJECT_LIST,
        "Warnings about the series.",
        access=Access.SERVER,
        recomputed_on_write=True,
    ),
    Field(
        "campaignName",
        Kind.STRING,
        "Name of the campaign.",
        access=Access.IGNORED,
        evidence=f"{PAIR_UPDATE}: sent, and absent from the answer",
    ),
)


# The order of keys in the server's answers (the vendor's Update page answer; customPropertyMap
# first as on the Get page). Keys the docs never show answered go last, in catalogue order.
ANSWER_ORDER: Final[tuple[str, ...]] = (
    "customPropertyMap",
    "id",
    "orgId",
    "description",
    "discountCode",
    "validTillDate",
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
    "externalIssual",
    "updateProductData",
)


__all__ = ["ANSWER_ORDER", "SERVER_OWNED"]
