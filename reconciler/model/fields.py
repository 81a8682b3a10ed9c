"""The writable fields of a coupon series (CouponSeriesV2): what a file may declare.

Each entry records what the vendor's pages say (type, required marks, enums, the OpenAPI's
number formats) and what the request/response pairs show the server doing with it (how it
changes what it is sent); ``evidence`` says where a behaviour comes from. What the server
stores for a field left out is not here but in ``reconciler.model.defaults``, each value with
the answer that shows it; the catalogue joins the two.
"""

from __future__ import annotations

from typing import Final

from reconciler.model.fieldtypes import Field, Format, Kind, Storage, SubField

PAIR_UPDATE: Final = "update page request/response pair (seeds/000)"
PAIR_CREATE: Final = (
    "create page request/response pair 'With redemptionPerCouponMaxLimit' (seeds/003)"
)
GETS: Final = "both GET answers (seeds/002)"

_AFFIX = r"^[A-Za-z0-9_-]{0,10}$"  # create page: letters, digits, - and _, at most 10
_OPENAPI = "the vendor's OpenAPI"

WRITABLE: Final[tuple[Field, ...]] = (
    # --- required core -------------------------------------------------------------------
    Field(
        "description",
        Kind.STRING,
        "Brief description of the coupon series.",
        required_on_create=True,
        required_on_update=True,
    ),
    Field(
        "discountCode",
        Kind.STRING,
        "The code given for the coupon as the POS identifier.",
        required_on_create=True,
        required_on_update=True,
        identity=True,
    ),
    Field(
        "discountType",
        Kind.ENUM,
        "ABS: a fixed amount off; PERC: a percentage off.",
        required_on_create=True,
        required_on_update=True,
        enum=("ABS", "PERC"),
    ),
    Field(
        "discountValue",
        Kind.NUMBER,
        "Discount value of the coupon.",
        required_on_create=True,
        required_on_update=True,
        storage=Storage.FLOAT32,
        minimum=0,
        evidence=f"{PAIR_UPDATE}: sent 150000000000000, answered 150000004759552, the "
        "nearest single-precision float",
    ),
    Field(
        "anyUser",
        Kind.BOOLEAN,
        "True if any customer can redeem the coupon, false if only "
        "the customer it was issued to can.",
        required_on_create=True,
        required_on_update=True,
    ),
    Field(
        "smsTemplate",
        Kind.STRING,
        "Template of the SMS sent to users.",
        required_on_create=True,
        required_on_update=True,
    ),
    Field(
        "clientHandlingType",
        Kind.ENUM,
        "How coupon codes are made: DISC_CODE (generated), "
        "GENERIC (one common code), DISC_CODE_PIN (uploaded codes).",
        required_on_create=True,
        required_on_update=True,
        enum=("DISC_CODE", "GENERIC", "DISC_CODE_PIN"),
    ),
    Field(
        "expiryStrategyType",
        Kind.ENUM,
        "How coupons expire: SERIES_EXPIRY (with the series), "
        "DAYS (N days after issue), MONTHS_END (N months after issue).",
        required_on_create=True,
        required_on_update=True,
        enum=("SERIES_EXPIRY", "DAYS", "MONTHS_END"),
    ),
    Field(
        "validTillDate",
        Kind.DATETIME,
        "End of the series' validity, ISO 8601 with a UTC offset.",
        required_on_create=True,
        storage=Storage.UTC_DAY,
        evidence=f"{PAIR_CREATE}: sent 2030-09-30T00:00:00+05:30, answered "
        f"2030-09-29T00:00:00Z; {PAIR_UPDATE}: 2025-04-25T23:50:79+05:30 became "
        "2025-04-25T00:00:00Z",
    ),
    Field(
        "seriesCode",
        Kind.STRING,
        "Code of the coupon series (unique in the org).",
        required_on_update=True,
        set_on_update_only=True,
        identity=True,
        evidence=f"{PAIR_CREATE}: sent seriesCode001, answered fEDH0qD8rr (the server makes "
        f"its own on create); {PAIR_UPDATE}: sent and answered 'string' (kept on update)",
    ),
    # --- limits and behaviour ----------------------------------------------------------------
    Field(
        "expiryStrategyValue",
        Kind.INTEGER,
        "1 for SERIES_EXPIRY; N days for DAYS; N months for MONTHS_END.",
        format=Format.INT32,
        evidence=f"{_OPENAPI}: int32; the pages: 'always 1' for SERIES_EXPIRY, yet the server "
        "stores -1 when it is left out (reconciler.model.defaults)",
    ),
    Field(
        "maxCreate",
        Kind.INTEGER,
        "Maximum number of coupons that can be created (-1: no limit).",
        storage=Storage.INT32,
        format=Format.INT32,
        evidence=f"{PAIR_UPDATE}: sent 10000000297830, answered 1316432742 (the value modulo "
        "2**32)",
    ),
    Field(
        "maxRedeem",
        Kind.INTEGER,
        "Maximum number of coupons that can be redeemed (-1: no limit).",
        storage=Storage.INT32,
        format=Format.INT32,
        evidence=f"{PAIR_UPDATE}: sent 10000000728300, answered 1316863212 (modulo 2**32)",
    ),
    Field(
        "redemptionPerCouponMaxLimit",
        Kind.INTEGER,
        "How many times one coupon code can be "
        "redeemed across all users (-1 or null: no limit). Only with anyUser true, only for "
        "DISC_CODE and DISC_CODE_PIN.",
        unset=(-1, None),
        format=Format.INT32,
        evidence=f"{PAIR_UPDATE}: left out, answered -1; GET 520591 (seeds/002) leaves the key out",
    ),
    Field(
        "sameUserMultipleRedeem",
        Kind.BOOLEAN,
        "The same user can redeem more than once.",
    ),
    Field(
        "isReferralExistingUsersAllowed",
        Kind.BOOLEAN,
        "Referral allowed for existing users.",
        deprecated=True,
    ),
    Field(
        "isMultipleUseAllowed",
        Kind.BOOLEAN,
        "A coupon can be used more than once.",
    ),
    Field(
        "isValidWithDiscountedItem",
        Kind.BOOLEAN,
        "Valid with discounted items.",
        deprecated=True,
    ),
    Field("isSMSDisabled", Kind.BOOLEAN, "Do not send coupon SMS."),
    Field("info", Kind.STRING, "Additional information about the coupon."),
    Field(
        "isMultipleVouchersPerUserAllowed",
        Kind.BOOLEAN,
        "A user can hold more than one coupon of the series.",
    ),
    Field(
        "doNotResendExistingVoucher",
        Kind.BOOLEAN,
        "Do not resend a coupon the user already holds.",
    ),
    Field(
        "mutualExclusiveSeriesIds",
        Kind.ID_LIST,
        "Series ids whose holders cannot get a coupon of this series (a JSON array in a string).",
        series_ids=True,
        evidence=f'{PAIR_UPDATE}: left out, answered "[-1]"; {PAIR_CREATE}: "[]" kept',
    ),
    Field(
        "maxVouchersPerUser",
        Kind.INTEGER,
        "Maximum coupons one user can hold (-1: no limit).",
        format=Format.INT32,
    ),
    Field(
        "minDaysBetweenVouchers",
        Kind.INTEGER,
        "Minimum days between two issues to one user (-1: none).",
        format=Format.INT32,
    ),
    Field(
        "redemptionRange",
        Kind.REDEMPTION_RANGE,
        "Days of the month (dom 1-31), weekdays "
        "(dow 1-7, 1 is Monday) and hours (0-23) when coupons can be redeemed; -1 means all.",
        evidence=f'{PAIR_CREATE}: the string is kept as sent, ["-1"] included',
    ),
    Field(
        "minBillAmount",
        Kind.NUMBER,
        "Minimum bill amount for redemption (-1: none).",
        format=Format.DOUBLE,
        evidence=f"{_OPENAPI}: double (fractions of a currency unit are amounts)",
    ),
    Field(
        "maxBillAmount",
        Kind.NUMBER,
        "Maximum bill amount for redemption (-1: none).",
        format=Format.DOUBLE,
        evidence=f"{_OPENAPI}: double; {PAIR_CREATE}: 9007199254740991 (2**53 - 1, the largest "
        "whole number a double holds exactly) kept exactly",
    ),
    Field(
        "maxRedemptionsInSeriesPerUser",
        Kind.INTEGER,
        "Maximum redemptions in the series per user (-1: no limit).",
        format=Format.INT32,
    ),
    Field(
        "minDaysBetweenRedemption",
        Kind.INTEGER,
        "Minimum days between two redemptions (-1: none).",
        format=Format.INT32,
    ),
    Field(
        "redemptionValidFrom",
        Kind.DATETIME,
        "Start of redemption, ISO 8601 with a UTC offset.",
        storage=Storage.UTC_DAY,
        evidence=f"{PAIR_UPDATE}: sent 2025-04-24T00:00:00+05:30, answered "
        f"2025-04-23T00:00:00Z; {PAIR_CREATE}: 1970-01-01T05:30:00+05:30 became "
        "1970-01-01T00:00:00Z",
    ),
    Field(
        "redemptionValidAfterDays",
        Kind.INTEGER,
        "Days after issue before a coupon can be redeemed.",
        minimum=0,
        format=Format.INT32,
    ),
    Field(
        "productInfo",
        Kind.OBJECT_LIST,
        "Products the coupon applies to.",
        unset=([],),
        answered=False,
        evidence="the Create and Update pages document it in requests; no answer on any page "
        "carries it",
        subfields=(
            SubField(
                "productType",
                Kind.ENUM,
                "Type of the product ids.",
                enum=("SKU", "CATEGORY", "BRAND", "ATTRIBUTE"),
                required=True,
            ),
            SubField(
                "productIds",
                Kind.ID_LIST,
                "Ids of the products (at most 1,000 for CATEGORY).",
                required=True,
            ),
        ),
    ),
    Field(
        "redemptionOrgEntityDetails",
        Kind.OBJECT_LIST,
        "Org entities where coupons can be redeemed.",
        unset=([],),
        answered=False,
        evidence="the Create and Update pages document it in requests; no answer on any page "
        "carries it",
        subfields=(
            SubField(
                "redemptionOrgEntityType",
                Kind.ENUM,
                "Type of the org entity.",
                enum=("CONCEPT", "TILL", "ZONE", "STORE"),
                required=True,
            ),
            SubField("orgEntityId", Kind.INTEGER, "Id of the org entity.", required=True),
        ),
    ),
    Field(
        "targetUserDetails",
        Kind.OBJECT,
        "Criteria a customer must meet to redeem.",
        unset=({},),
        subfields=(
            SubField(
                "validMaxUserTransactionLimit",
                Kind.INTEGER,
                "Transactions the customer needs to redeem.",
            ),
            SubField(
                "validUserRegistrationStartTime",
                Kind.INTEGER,
                "Customers registered after this can redeem.",
            ),
            SubField(
                "validUserRegistrationEndTime",
                Kind.INTEGER,
                "Customers registered before this can redeem.",
            ),
        ),
    ),
    Field(
        "customPropertyMap",
        Kind.STRING_MAP,
        "Custom fields of the series (for example standard_terms_and_conditions), each a string.",
        unset=({},),
        evidence=f"{GETS}: the key is left out when nothing is set",
    ),
    Field("alphaNumeric", Kind.BOOLEAN, "Generated codes are alphanumeric."),
    Field(
        "randomCodeLength",
        Kind.INTEGER,
        "Length of generated codes.",
        minimum=0,
        format=Format.INT32,
    ),
    Field(
        "resendMessageEnabled",
        Kind.BOOLEAN,
        "Resending the coupon message is enabled.",
    ),
    Field(
        "genericCode",
        Kind.STRING,
        "The common code; required when clientHandlingType is GENERIC.",
        unset=("", None),
        identity=True,
    ),
    # --- the newer prefix and suffix fields -----------------------------------------------
    Field(
        "couponPrefix",
        Kind.STRING,
        "Prefix of generated codes (letters, digits, - and _; at most 10; DISC_CODE only).",
        unset=("", None),
        max_length=10,
        pattern=_AFFIX,
    ),
    Field(
        "couponSuffix",
        Kind.STRING,
        "Suffix of generated codes (letters, digits, - and _; at most 10; DISC_CODE only).",
        unset=("", None),
        max_length=10,
        pattern=_AFFIX,
    ),
    Field("isPrefixEnabled", Kind.BOOLEAN, "Generated codes carry couponPrefix."),
    Field("orgPrefixOverride", Kind.BOOLEAN, "couponPrefix overrides the org's prefix."),
    Field("isSuffixEnabled", Kind.BOOLEAN, "Generated codes carry couponSuffix."),
    Field("orgSuffixOverride", Kind.BOOLEAN, "couponSuffix overrides the org's suffix."),
    # --- answered fields that the pairs show kept as sent ----------------------------------
    Field("isTransferrable", Kind.BOOLEAN, "The recipient can transfer the coupon."),
    Field(
        "isValidationRequired",
        Kind.BOOLEAN,
        "Validation is required for the coupon.",
        deprecated=True,
    ),
    Field(
        "storeIdsJson",
        Kind.ID_LIST,
        "Stores where the coupon is valid (a JSON array in a string; -1: all).",
    ),
    Field("isDvsEnabled", Kind.BOOLEAN, "DVS (dynamic voucher system) is enabled."),
    Field("priority", Kind.INTEGER, "Priority of the offer."),
    Field(
        "shortSMSTemplate",
        Kind.STRING,
        "Short SMS template.",
        evidence=f"{GETS} carry this text",
    ),
    Field(
        "maxReferralsPerReferee",
        Kind.INTEGER,
        "Maximum referrals per referee (-1: no limit).",
        deprecated=True,
        storage=Storage.NON_POSITIVE_IS_UNLIMITED,
        evidence=f"{PAIR_UPDATE}: sent 0, answered -1",
    ),
    Field(
        "discountUpto",
        Kind.NUMBER,
        "Maximum discount value (0: no cap).",
        storage=Storage.FLOAT32,
        format=Format.FLOAT,
        evidence=f"{_OPENAPI}: float (single precision, modelled as the {PAIR_UPDATE} shows "
        "for discountValue)",
    ),
    Field(
        "dvsItems",
        Kind.STRING,
        "Items for DVS.",
        evidence=f"{GETS} carry 'items'",
    ),
    Field(
        "redeemAtStore",
        Kind.ID_LIST,
        "Stores where redemption is allowed (a JSON array in a string; -1: all).",
    ),
    Field("campaignId", Kind.INTEGER, "Campaign of the series (-1: none)."),
    Field("tag", Kind.STRING, "Tag or label of the series."),
    Field("sourceOrgId", Kind.INTEGER, "Source organisation (-1: this org)."),
    Field("issueToLoyalty", Kind.BOOLEAN, "Coupons are issued to loyalty members."),
    Field(
        "redeemStoreType",
        Kind.ENUM,
        "Type of store where coupons are redeemed.",
        enum=("redeemable_stores",),
        storage=Storage.CONSTANT,
        evidence=f"{PAIR_UPDATE}: sent 'string', answered 'redeemable_stores'",
    ),
    Field("offlineRedeemType", Kind.BOOLEAN, "Offline redemption is enabled."),
    Field("isOldFlowEnabled", Kind.BOOLEAN, "The old redemption flow is enabled."),
    Field("isPreRedeemEventRequired", Kind.BOOLEAN, "A pre-redeem event is required."),
    Field("termsAndConditions", Kind.STRING, "Terms and conditions of the offer."),
    Field("signalRedemptionEvent", Kind.BOOLEAN, "A redemption event is signalled."),
    Field("syncToClient", Kind.BOOLEAN, "Series data is synchronised to the client."),
    Field("showPinCode", Kind.BOOLEAN, "A PIN code is shown."),
    Field("ownedBy", Kind.ENUM, "Owner of the offer.", enum=("NONE", "LOYALTY")),
    Field("ownerValidity", Kind.INTEGER, "Validity of the owner's rights."),
    Field("shortCodeLength", Kind.INTEGER, "Length of the short code.", minimum=0),
    Field(
        "seriesType",
        Kind.ENUM,
        "Type of the series.",
        enum=("UNDEFINED", "LOYALTY", "CAMPAIGN"),
    ),
    Field(
        "discountOn",
        Kind.ENUM,
        "What the discount applies to.",
        enum=("BILL", "ITEM"),
    ),
    Field("externalIssual", Kind.BOOLEAN, "External issue is allowed."),
    Field("updateProductData", Kind.BOOLEAN, "Product data can be updated."),
)


__all__ = ["GETS", "PAIR_CREATE", "PAIR_UPDATE", "WRITABLE"]
