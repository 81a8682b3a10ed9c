"""What the server stores for a writable field a create leaves out, and the answers that show it.

Two documented answers are to creates that sent only the required fields: series 877510
(the newer Update page's "Result" answer, ``tests/data/evidence/gold_877510.json``) and
927443 (made by the Create page's "Test 1: P and S Enabled" request; the Update page's answer
for it agrees with 877510 on every default below). Every value in ``DOCUMENTED`` is what
those answers carry for a field the request did not send, so each is a value the server
really gives. Where other pages agree (the Update page's pair leaves some fields out and
shows what was stored), the evidence says so too.

``DERIVED`` holds the fields whose value the server makes from others when the series is
made: info and tag are the description, redemptionValidFrom the day of the create. They
have no fixed default, so a line removed from a file is *released* (left as it is in the
CRM, with a note in the plan), never reset to a guess.

A writable field in neither table has no default any page shows (genericCode, couponPrefix,
productInfo, customPropertyMap, ...): the tool never invents one. A removed line of such a
field is released too, and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True)
class Default:
    """The value (API form) the server stores for a field a create left out, and where a page
    shows it."""

    value: Any
    evidence: str


@dataclass(frozen=True)
class Derived:
    """A value the server makes from others when the series is made."""

    source: str
    evidence: str


MINIMAL_CREATES: Final = (
    "the answers to the two creates that sent only the required fields (877510, the newer "
    "Update page's Result; 927443, the Create page's 'Test 1: P and S Enabled')"
)
_UPDATE_PAIR_LEFT_OUT = "the Update page's pair leaves it out and is answered"
_RANGE_ANSWERED = '{"dom" : [-1], "dow": [-1], "hours": [-1]}'


def _seen(value: Any, also: str = "") -> Default:
    return Default(value, MINIMAL_CREATES + (f"; {also}" if also else ""))


DOCUMENTED: Final[Mapping[str, Default]] = {
    "expiryStrategyValue": _seen(-1, "for SERIES_EXPIRY, where the pages also say 'always 1'"),
    "maxCreate": _seen(-1),
    "maxRedeem": _seen(-1),
    "redemptionPerCouponMaxLimit": _seen(-1, f"{_UPDATE_PAIR_LEFT_OUT} -1"),
    "sameUserMultipleRedeem": _seen(False),
    "isReferralExistingUsersAllowed": _seen(False),
    "isMultipleUseAllowed": _seen(False),
    "isValidWithDiscountedItem": _seen(False),
    "isSMSDisabled": _seen(False),
    "isMultipleVouchersPerUserAllowed": _seen(False),
    "doNotResendExistingVoucher": _seen(False),
    "mutualExclusiveSeriesIds": _seen("[-1]", f'{_UPDATE_PAIR_LEFT_OUT} "[-1]"'),
    "maxVouchersPerUser": _seen(-1),
    "minDaysBetweenVouchers": _seen(-1),
    "redemptionRange": _seen(_RANGE_ANSWERED, f"{_UPDATE_PAIR_LEFT_OUT} the same text"),
    "minBillAmount": _seen(-1),
    "maxBillAmount": _seen(-1),
    "maxRedemptionsInSeriesPerUser": _seen(-1),
    "minDaysBetweenRedemption": _seen(-1),
    "redemptionValidAfterDays": _seen(0),
    "alphaNumeric": _seen(False),
    "randomCodeLength": _seen(0),
    "resendMessageEnabled": _seen(True),
    "isTransferrable": _seen(False),
    "isValidationRequired": _seen(False),
    "storeIdsJson": _seen("[-1]"),
    "isDvsEnabled": _seen(False),
    "priority": _seen(0),
    "shortSMSTemplate": _seen("Hello {{cust_name}}, your voucher code is {{voucher_code}}"),
    "maxReferralsPerReferee": _seen(-1),
    "discountUpto": _seen(0, f"{_UPDATE_PAIR_LEFT_OUT} 0"),
    "dvsItems": _seen("items"),
    "redeemAtStore": _seen("[-1]"),
    "campaignId": _seen(-1),
    "sourceOrgId": _seen(-1),
    "issueToLoyalty": _seen(False),
    "redeemStoreType": _seen("redeemable_stores"),
    "offlineRedeemType": _seen(False),
    "isOldFlowEnabled": _seen(False),
    "isPreRedeemEventRequired": _seen(False),
    "termsAndConditions": _seen("T&C"),
    "signalRedemptionEvent": _seen(False),
    "syncToClient": _seen(False),
    "showPinCode": _seen(False),
    "ownedBy": _seen("NONE"),
    "ownerValidity": _seen(0),
    "shortCodeLength": _seen(0),
    "seriesType": _seen("UNDEFINED"),
    "discountOn": _seen("BILL"),
    "externalIssual": _seen(False),
    "updateProductData": _seen(False),
}

DERIVED: Final[Mapping[str, Derived]] = {
    "info": Derived(
        "the description",
        f"{MINIMAL_CREATES}: info is the description ('Gold star coupons')",
    ),
    "tag": Derived(
        "the description",
        f"{MINIMAL_CREATES}: tag is the description ('Gold star coupons')",
    ),
    "redemptionValidFrom": Derived(
        "the day the series was made",
        f"{MINIMAL_CREATES}: 877510, created 2025-10-09T06:45:15Z, answered "
        "redemptionValidFrom 2025-10-09T00:00:00Z",
    ),
}


__all__ = ["DERIVED", "DOCUMENTED", "MINIMAL_CREATES", "Default", "Derived"]
