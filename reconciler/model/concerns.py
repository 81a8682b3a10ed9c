"""What a change to a field puts at stake for the business: the concern of each field a
reviewer must weigh (the plan shows such a change first, with its badge)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Final


class Concern(str, Enum):
    """What a change to a field puts at stake for the business: the plan shows such a change
    first, with its badge (``reconciler.render``); a field with no concern is noise."""

    DISCOUNT = "discount"  # what a customer gets off
    VALIDITY = "validity"  # when coupons can be issued and redeemed
    LIMITS = "limits"  # how many coupons, how often, for which bills
    AUDIENCE = "audience"  # who and where: users, stores, products, exclusions


CONCERNS: Final[Mapping[str, Concern]] = {
    **dict.fromkeys(
        ("discountType", "discountValue", "discountUpto", "discountOn"), Concern.DISCOUNT
    ),
    **dict.fromkeys(
        (
            "validTillDate",
            "redemptionValidFrom",
            "redemptionValidAfterDays",
            "expiryStrategyType",
            "expiryStrategyValue",
            "redemptionRange",
        ),
        Concern.VALIDITY,
    ),
    **dict.fromkeys(
        (
            "maxCreate",
            "maxRedeem",
            "redemptionPerCouponMaxLimit",
            "maxVouchersPerUser",
            "minDaysBetweenVouchers",
            "maxRedemptionsInSeriesPerUser",
            "minDaysBetweenRedemption",
            "minBillAmount",
            "maxBillAmount",
            "sameUserMultipleRedeem",
            "isMultipleUseAllowed",
            "isMultipleVouchersPerUserAllowed",
        ),
        Concern.LIMITS,
    ),
    **dict.fromkeys(
        (
            "anyUser",
            "targetUserDetails",
            "productInfo",
            "storeIdsJson",
            "redeemAtStore",
            "redemptionOrgEntityDetails",
            "mutualExclusiveSeriesIds",
            "isTransferrable",
        ),
        Concern.AUDIENCE,
    ),
}


__all__ = ["CONCERNS", "Concern"]
