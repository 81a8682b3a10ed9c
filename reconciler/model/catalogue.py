"""The field catalogue: every CouponSeriesV2 field the API documents, in one place.

The models, the validator, the JSON Schema, the diff, the importer and the sandbox all read
this table; nothing else lists fields. Each entry records what the vendor's pages say (type,
required marks, enums) and what the request/response pairs of the vendor's pages show the
real server doing with it (who owns it, what it stores when the field is left out, how it
changes what it is sent). ``evidence`` says where a behaviour comes from; "assumed" marks the
defaults no answer in the docs shows, chosen from the values the real answers carry.

How values are compared and stored lives in ``reconciler.model.canonical``, driven by ``kind`` and
``storage`` here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from reconciler.problems import Severity


class Kind(str, Enum):
    """The shape of a field's value, as the API carries it."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ENUM = "enum"
    DATETIME = "datetime"  # "YYYY-MM-DDTHH:MM:SS±hh:mm"; the server keeps the UTC day
    ID_LIST = "id_list"  # a JSON array of ids carried in a string: "[1, 2]"
    REDEMPTION_RANGE = "redemption_range"  # a JSON object carried in a string
    STRING_MAP = "string_map"  # a JSON object of string values
    OBJECT = "object"  # a JSON object with the documented ``subfields``
    OBJECT_LIST = "object_list"  # a JSON array of objects with the documented ``subfields``


class Access(str, Enum):
    """Who decides a field's value."""

    WRITABLE = "writable"  # the client sets it; a file may declare it
    SERVER = "server"  # the server sets it; values sent are ignored
    IGNORED = "ignored"  # accepted in a request, never stored nor returned


class Storage(str, Enum):
    """How the server stores a value, when that loses something the client sent."""

    EXACT = "exact"
    INT32 = "int32"  # wraps modulo 2**32 into a signed 32-bit integer
    FLOAT32 = "float32"  # rounded to single precision
    UTC_DAY = "utc_day"  # converted to UTC, then cut to the start of that day
    NON_POSITIVE_IS_UNLIMITED = "non_positive_is_unlimited"  # 0 and below are stored as -1
    CONSTANT = "constant"  # whatever is sent, the one enum value is stored


class _Absent:
    """The server leaves the key out of its answers when nothing was set."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Final = _Absent()

INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1


@dataclass(frozen=True)
class SubField:
    """A documented key inside an OBJECT or OBJECT_LIST field."""

    name: str
    kind: Kind
    doc: str
    enum: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Field:
    """One CouponSeriesV2 field."""

    name: str
    kind: Kind
    doc: str
    access: Access = Access.WRITABLE
    required_on_create: bool = False
    required_on_update: bool = False
    enum: tuple[str, ...] = ()
    default: Any = ABSENT
    storage: Storage = Storage.EXACT
    # Values that mean "no value" and compare equal to the key being left out.
    unset: tuple[Any, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    deprecated: bool = False
    # The server ignores the value on create and makes its own; a PUT can set it.
    set_on_update_only: bool = False
    subfields: tuple[SubField, ...] = ()
    # Identifies a series to people and to the server: unique in the org (seriesCode, the
    # POS discountCode) or the one code of a GENERIC series. Never matched loosely.
    identity: bool = False
    # Server-owned and recomputed on every write (not set once, on create).
    recomputed_on_write: bool = False
    # A regular expression the whole value must match (text fields).
    pattern: str | None = None
    # An ID_LIST of other series of the org: a file may name them by key (``{series: KEY}``),
    # resolved per environment from the ids the plan knows (``reconciler.model.references``).
    series_ids: bool = False
    evidence: str = ""

    @property
    def server_owned(self) -> bool:
        return self.access is not Access.WRITABLE

    @property
    def writable(self) -> bool:
        return self.access is Access.WRITABLE

    def subfield(self, name: str) -> SubField | None:
        for sub in self.subfields:
            if sub.name == name:
                return sub
        return None


_PAIR_UPDATE = "update page request/response pair (seeds/000)"
_PAIR_CREATE = "create page request/response pair 'With redemptionPerCouponMaxLimit' (seeds/003)"
_GETS = "both GET answers (seeds/002)"

_AFFIX = r"^[A-Za-z0-9_-]{0,10}$"  # create page: letters, digits, - and _, at most 10
_DEFAULT_RANGE = '{"dom" : [-1], "dow": [-1], "hours": [-1]}'
_DEFAULT_SHORT_SMS = "Hello {{cust_name}}, your voucher code is {{voucher_code}}"

FIELDS: Final[tuple[Field, ...]] = (
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
        evidence=f"{_PAIR_UPDATE}: sent 150000000000000, answered 150000004759552, the "
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
        evidence=f"{_PAIR_CREATE}: sent 2030-09-30T00:00:00+05:30, answered "
        f"2030-09-29T00:00:00Z; {_PAIR_UPDATE}: 2025-04-25T23:50:79+05:30 became "
        "2025-04-25T00:00:00Z",
    ),
    Field(
        "seriesCode",
        Kind.STRING,
        "Code of the coupon series (unique in the org).",
        required_on_update=True,
        set_on_update_only=True,
        identity=True,
        evidence=f"{_PAIR_CREATE}: sent seriesCode001, answered fEDH0qD8rr (the server makes "
        f"its own on create); {_PAIR_UPDATE}: sent and answered 'string' (kept on update)",
    ),
    # --- limits and behaviour ----------------------------------------------------------------
    Field(
        "expiryStrategyValue",
        Kind.INTEGER,
        "1 for SERIES_EXPIRY; N days for DAYS; N months for MONTHS_END.",
        default=1,
        minimum=1,
        evidence="default assumed",
    ),
    Field(
        "maxCreate",
        Kind.INTEGER,
        "Maximum number of coupons that can be created (-1: no limit).",
        default=-1,
        storage=Storage.INT32,
        evidence=f"{_PAIR_UPDATE}: sent 10000000297830, answered 1316432742 (the value modulo "
        f"2**32); default -1 from {_GETS}",
    ),
    Field(
        "maxRedeem",
        Kind.INTEGER,
        "Maximum number of coupons that can be redeemed (-1: no limit).",
        default=-1,
        storage=Storage.INT32,
        evidence=f"{_PAIR_UPDATE}: sent 10000000728300, answered 1316863212 (modulo 2**32)",
    ),
    Field(
        "redemptionPerCouponMaxLimit",
        Kind.INTEGER,
        "How many times one coupon code can be "
        "redeemed across all users (-1 or null: no limit). Only with anyUser true, only for "
        "DISC_CODE and DISC_CODE_PIN.",
        default=-1,
        unset=(-1, None),
        evidence=f"{_PAIR_UPDATE}: left out, answered -1; GET 520591 (seeds/002) leaves "
        "the key out",
    ),
    Field(
        "sameUserMultipleRedeem",
        Kind.BOOLEAN,
        "The same user can redeem more than once.",
        default=False,
        evidence="default assumed",
    ),
    Field(
        "isReferralExistingUsersAllowed",
        Kind.BOOLEAN,
        "Referral allowed for existing users.",
        default=False,
        deprecated=True,
    ),
    Field(
        "isMultipleUseAllowed",
        Kind.BOOLEAN,
        "A coupon can be used more than once.",
        default=False,
        evidence="default assumed",
    ),
    Field(
        "isValidWithDiscountedItem",
        Kind.BOOLEAN,
        "Valid with discounted items.",
        default=False,
        deprecated=True,
    ),
    Field("isSMSDisabled", Kind.BOOLEAN, "Do not send coupon SMS.", default=False),
    Field("info", Kind.STRING, "Additional information about the coupon.", default=""),
    Field(
        "isMultipleVouchersPerUserAllowed",
        Kind.BOOLEAN,
        "A user can hold more than one coupon of the series.",
        default=False,
    ),
    Field(
        "doNotResendExistingVoucher",
        Kind.BOOLEAN,
        "Do not resend a coupon the user already holds.",
        default=False,
    ),
    Field(
        "mutualExclusiveSeriesIds",
        Kind.ID_LIST,
        "Series ids whose holders cannot get a coupon of this series (a JSON array in a string).",
        default="[-1]",
        series_ids=True,
        evidence=f'{_PAIR_UPDATE}: left out, answered "[-1]"; {_PAIR_CREATE}: "[]" kept',
    ),
    Field(
        "maxVouchersPerUser",
        Kind.INTEGER,
        "Maximum coupons one user can hold (-1: no limit).",
        default=-1,
    ),
    Field(
        "minDaysBetweenVouchers",
        Kind.INTEGER,
        "Minimum days between two issues to one user (-1: none).",
        default=-1,
    ),
    Field(
        "redemptionRange",
        Kind.REDEMPTION_RANGE,
        "Days of the month (dom 1-31), weekdays "
        "(dow 1-7, 1 is Monday) and hours (0-23) when coupons can be redeemed; -1 means all.",
        default=_DEFAULT_RANGE,
        evidence=f"{_PAIR_UPDATE}: left out, answered {_DEFAULT_RANGE}; {_PAIR_CREATE}: the "
        'string is kept as sent, ["-1"] included',
    ),
    Field("minBillAmount", Kind.INTEGER, "Minimum bill amount for redemption.", default=0),
    Field(
        "maxBillAmount",
        Kind.INTEGER,
        "Maximum bill amount for redemption.",
        default=9007199254740991,
        evidence=f"{_PAIR_CREATE}: 9007199254740991 kept exactly (64-bit storage)",
    ),
    Field(
        "maxRedemptionsInSeriesPerUser",
        Kind.INTEGER,
        "Maximum redemptions in the series per user (-1: no limit).",
        default=-1,
    ),
    Field(
        "minDaysBetweenRedemption",
        Kind.INTEGER,
        "Minimum days between two redemptions (-1: none).",
        default=-1,
    ),
    Field(
        "redemptionValidFrom",
        Kind.DATETIME,
        "Start of redemption, ISO 8601 with a UTC offset.",
        default="1970-01-01T00:00:00Z",
        storage=Storage.UTC_DAY,
        evidence=f"{_PAIR_UPDATE}: sent 2025-04-24T00:00:00+05:30, answered "
        f"2025-04-23T00:00:00Z; {_PAIR_CREATE}: 1970-01-01T05:30:00+05:30 became "
        "1970-01-01T00:00:00Z",
    ),
    Field(
        "redemptionValidAfterDays",
        Kind.INTEGER,
        "Days after issue before a coupon can be redeemed.",
        default=0,
        minimum=0,
    ),
    Field(
        "productInfo",
        Kind.OBJECT_LIST,
        "Products the coupon applies to.",
        unset=([],),
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
        evidence=f"{_GETS}: the key is left out when nothing is set",
    ),
    Field("alphaNumeric", Kind.BOOLEAN, "Generated codes are alphanumeric.", default=True),
    Field(
        "randomCodeLength",
        Kind.INTEGER,
        "Length of generated codes.",
        default=8,
        minimum=0,
        evidence="default assumed",
    ),
    Field(
        "resendMessageEnabled",
        Kind.BOOLEAN,
        "Resending the coupon message is enabled.",
        default=False,
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
    Field("isPrefixEnabled", Kind.BOOLEAN, "Generated codes carry couponPrefix.", default=False),
    Field(
        "orgPrefixOverride", Kind.BOOLEAN, "couponPrefix overrides the org's prefix.", default=False
    ),
    Field("isSuffixEnabled", Kind.BOOLEAN, "Generated codes carry couponSuffix.", default=False),
    Field(
        "orgSuffixOverride", Kind.BOOLEAN, "couponSuffix overrides the org's suffix.", default=False
    ),
    # --- answered fields that the pairs show kept as sent ----------------------------------
    Field("isTransferrable", Kind.BOOLEAN, "The recipient can transfer the coupon.", default=False),
    Field(
        "isValidationRequired",
        Kind.BOOLEAN,
        "Validation is required for the coupon.",
        default=False,
        deprecated=True,
    ),
    Field(
        "storeIdsJson",
        Kind.ID_LIST,
        "Stores where the coupon is valid (a JSON array in a string; -1: all).",
        default="[-1]",
    ),
    Field("isDvsEnabled", Kind.BOOLEAN, "DVS (dynamic voucher system) is enabled.", default=False),
    Field("priority", Kind.INTEGER, "Priority of the offer.", default=0),
    Field(
        "shortSMSTemplate",
        Kind.STRING,
        "Short SMS template.",
        default=_DEFAULT_SHORT_SMS,
        evidence=f"{_GETS} carry this text; default assumed",
    ),
    Field(
        "maxReferralsPerReferee",
        Kind.INTEGER,
        "Maximum referrals per referee (-1: no limit).",
        default=-1,
        deprecated=True,
        storage=Storage.NON_POSITIVE_IS_UNLIMITED,
        evidence=f"{_PAIR_UPDATE}: sent 0, answered -1",
    ),
    Field(
        "discountUpto",
        Kind.INTEGER,
        "Maximum discount value (0: no cap).",
        default=0,
        evidence=f"{_PAIR_UPDATE}: left out, answered 0",
    ),
    Field(
        "dvsItems",
        Kind.STRING,
        "Items for DVS.",
        default="items",
        evidence=f"{_GETS} carry 'items'; default assumed",
    ),
    Field(
        "redeemAtStore",
        Kind.ID_LIST,
        "Stores where redemption is allowed (a JSON array in a string; -1: all).",
        default="[-1]",
    ),
    Field("campaignId", Kind.INTEGER, "Campaign of the series (-1: none).", default=-1),
    Field("tag", Kind.STRING, "Tag or label of the series.", default=""),
    Field("sourceOrgId", Kind.INTEGER, "Source organisation (-1: this org).", default=-1),
    Field("issueToLoyalty", Kind.BOOLEAN, "Coupons are issued to loyalty members.", default=False),
    Field(
        "redeemStoreType",
        Kind.ENUM,
        "Type of store where coupons are redeemed.",
        enum=("redeemable_stores",),
        default="redeemable_stores",
        storage=Storage.CONSTANT,
        evidence=f"{_PAIR_UPDATE}: sent 'string', answered 'redeemable_stores'",
    ),
    Field("offlineRedeemType", Kind.BOOLEAN, "Offline redemption is enabled.", default=False),
    Field("isOldFlowEnabled", Kind.BOOLEAN, "The old redemption flow is enabled.", default=False),
    Field(
        "isPreRedeemEventRequired", Kind.BOOLEAN, "A pre-redeem event is required.", default=False
    ),
    Field("termsAndConditions", Kind.STRING, "Terms and conditions of the offer.", default=""),
    Field("signalRedemptionEvent", Kind.BOOLEAN, "A redemption event is signalled.", default=False),
    Field(
        "syncToClient", Kind.BOOLEAN, "Series data is synchronised to the client.", default=False
    ),
    Field("showPinCode", Kind.BOOLEAN, "A PIN code is shown.", default=False),
    Field("ownedBy", Kind.ENUM, "Owner of the offer.", enum=("NONE", "LOYALTY"), default="NONE"),
    Field("ownerValidity", Kind.INTEGER, "Validity of the owner's rights.", default=0),
    Field("shortCodeLength", Kind.INTEGER, "Length of the short code.", default=0, minimum=0),
    Field(
        "seriesType",
        Kind.ENUM,
        "Type of the series.",
        enum=("UNDEFINED", "LOYALTY", "CAMPAIGN"),
        default="UNDEFINED",
    ),
    Field(
        "discountOn",
        Kind.ENUM,
        "What the discount applies to.",
        enum=("BILL", "ITEM"),
        default="BILL",
    ),
    Field("externalIssual", Kind.BOOLEAN, "External issue is allowed.", default=False),
    Field("updateProductData", Kind.BOOLEAN, "Product data can be updated.", default=False),
    # --- owned by the server ---------------------------------------------------------------
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
        evidence=f"{_PAIR_UPDATE}: sent 0, answered 100737",
    ),
    Field(
        "createdBy",
        Kind.INTEGER,
        "User who created the series.",
        access=Access.SERVER,
        evidence=f"{_PAIR_CREATE}: sent 70, answered 75154383",
    ),
    Field(
        "createdOn",
        Kind.STRING,
        "When the series was created.",
        access=Access.SERVER,
        evidence=f"{_PAIR_CREATE}: sent 2022-02-23, answered the day of the call",
    ),
    Field(
        "lastUsed",
        Kind.STRING,
        "When the series was last written.",
        access=Access.SERVER,
        recomputed_on_write=True,
        evidence=f"{_PAIR_UPDATE}: answered the time of the call",
    ),
    Field(
        "dvsExpiryDate",
        Kind.STRING,
        "Expiry date for DVS.",
        access=Access.SERVER,
        recomputed_on_write=True,
        evidence=f"{_PAIR_UPDATE} and {_PAIR_CREATE}: answered the UTC day of the call, "
        "whatever was sent",
    ),
    Field(
        "validDaysFromCreation",
        Kind.INTEGER,
        "Days the coupon is valid from creation.",
        access=Access.SERVER,
        evidence=f"{_PAIR_UPDATE}: sent 0, answered 30; {_GETS}: 30",
    ),
    Field(
        "ownerId",
        Kind.INTEGER,
        "Owner of the coupon.",
        access=Access.SERVER,
        evidence=f"{_PAIR_UPDATE}: sent 0, answered -1",
    ),
    Field("numIssued", Kind.INTEGER, "Coupons issued.", access=Access.SERVER),
    Field("numRedeemed", Kind.INTEGER, "Coupons redeemed.", access=Access.SERVER),
    Field(
        "numTotal",
        Kind.INTEGER,
        "Total coupons.",
        access=Access.SERVER,
        evidence=f"{_PAIR_UPDATE}: sent 10, answered 0",
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
        evidence=f"{_PAIR_CREATE}: sent 1916937000000, answered "
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
        evidence=f"{_PAIR_UPDATE}: sent, and absent from the answer",
    ),
)

BY_NAME: Final[Mapping[str, Field]] = {f.name: f for f in FIELDS}

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

# productInfo with productType CATEGORY: at most this many productIds (the Create page).
MAX_CATEGORY_IDS: Final = 1000


# --- rules between the fields of one series ----------------------------------------------------

Fields = Mapping[str, Any]


@dataclass(frozen=True)
class Rule:
    """One rule between the fields of a series, in API form (defaults merged).

    ``when`` says whether the rule applies, ``holds`` whether it is met; ``field`` is where a
    broken rule is reported and ``message`` says what to write instead (``str.format`` over
    the fields). ``code`` is the error the server answers (``None``: no refusal is
    documented, the rule is the tool's own). ``server_checks``: the sandbox refuses a body
    that breaks it, answering ``code`` with ``answer``; rules of one ``group`` are one chain
    on the server (the first broken one is answered). ``schema`` is the rule as JSON Schema
    (``if``/``then`` over one file's own keys), where JSON Schema can say it.
    """

    name: str
    field: str
    when: Callable[[Fields], bool]
    holds: Callable[[Fields], bool]
    message: str
    evidence: str
    code: int | None = None
    severity: Severity = Severity.ERROR
    server_checks: bool = False
    answer: str = ""
    group: str = ""
    schema: Mapping[str, Any] | None = None
    # Other fields the rule reads: when one of them has an error, the rule is not reported.
    reads: tuple[str, ...] = ()


def is_int(value: Any) -> bool:
    """An integer, and not a bool (which Python counts as one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _limited(f: Fields) -> bool:
    limit = f.get("redemptionPerCouponMaxLimit")
    return is_int(limit) and limit != -1


def _generated_codes(name: str) -> Callable[[Fields], bool]:
    def when(f: Fields) -> bool:
        affix = f.get(name)
        return isinstance(affix, str) and bool(affix) and f.get("clientHandlingType") is not None

    return when


_CODE_FIELDS = 744  # "couldn't save series fields"
_LIMIT_PAGES = "the Create and Update pages' notes on redemptionPerCouponMaxLimit"
_SET_LIMIT = {
    "required": ["redemptionPerCouponMaxLimit"],
    "properties": {"redemptionPerCouponMaxLimit": {"type": "integer", "not": {"const": -1}}},
}

RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "generic-needs-code",
        "clientHandlingType",
        when=lambda f: f.get("clientHandlingType") == "GENERIC",
        holds=lambda f: isinstance(f.get("genericCode"), str) and bool(f["genericCode"].strip()),
        message="clientHandlingType GENERIC needs genericCode, the one code every customer "
        "uses (the API refuses it otherwise: error 754)",
        code=754,
        server_checks=True,
        answer="Generic code cannot be empty for GENERIC",
        reads=("genericCode",),
        evidence="the Update page: genericCode 'Only required if the clientHandlingType is "
        "set to GENERIC'; error 754 'generic code cannot be empty for GENERIC'",
        schema={
            "if": {
                "required": ["clientHandlingType"],
                "properties": {"clientHandlingType": {"const": "GENERIC"}},
            },
            "then": {"properties": {"genericCode": {"type": "string", "minLength": 1}}},
        },
    ),
    Rule(
        "limit-above-zero",
        "redemptionPerCouponMaxLimit",
        when=_limited,
        holds=lambda f: f["redemptionPerCouponMaxLimit"] > 0,
        message="redemptionPerCouponMaxLimit {redemptionPerCouponMaxLimit} must be above 0, "
        "or -1 (or null) for no limit",
        code=_CODE_FIELDS,
        server_checks=True,
        group="redemptionPerCouponMaxLimit",
        answer="redemptionPerCouponMaxLimit must be greater than 0, or -1 / null for no limit",
        evidence=f"{_LIMIT_PAGES}: 'The value must be greater than 0'",
        schema={
            "properties": {
                "redemptionPerCouponMaxLimit": {
                    "anyOf": [{"const": -1}, {"type": "null"}, {"minimum": 1}]
                }
            }
        },
    ),
    Rule(
        "limit-needs-any-user",
        "redemptionPerCouponMaxLimit",
        when=_limited,
        holds=lambda f: f.get("anyUser") is True,
        message="redemptionPerCouponMaxLimit only applies when anyUser is true: set anyUser: "
        "true, or remove the limit",
        code=_CODE_FIELDS,
        server_checks=True,
        group="redemptionPerCouponMaxLimit",
        answer="redemptionPerCouponMaxLimit applies only when anyUser is true",
        evidence=f"{_LIMIT_PAGES}: 'Applicable only when the anyUser parameter is set to true'",
        schema={"if": _SET_LIMIT, "then": {"properties": {"anyUser": {"const": True}}}},
    ),
    Rule(
        "limit-generated-or-uploaded-codes",
        "redemptionPerCouponMaxLimit",
        when=lambda f: _limited(f) and f.get("clientHandlingType") is not None,
        holds=lambda f: f.get("clientHandlingType") in ("DISC_CODE", "DISC_CODE_PIN"),
        message="redemptionPerCouponMaxLimit only applies to DISC_CODE and DISC_CODE_PIN "
        "series, not {clientHandlingType}",
        code=_CODE_FIELDS,
        server_checks=True,
        group="redemptionPerCouponMaxLimit",
        answer="redemptionPerCouponMaxLimit applies only to DISC_CODE and DISC_CODE_PIN",
        evidence=f"{_LIMIT_PAGES}: 'applies only to autogenerated coupon codes (DISC_CODE) "
        "and uploaded coupon codes (DISC_CODE_PIN)'",
        schema={
            "if": _SET_LIMIT,
            "then": {
                "properties": {"clientHandlingType": {"enum": ["DISC_CODE", "DISC_CODE_PIN"]}}
            },
        },
    ),
    Rule(
        "series-expiry-value-one",
        "expiryStrategyValue",
        when=lambda f: (
            f.get("expiryStrategyType") == "SERIES_EXPIRY" and is_int(f.get("expiryStrategyValue"))
        ),
        holds=lambda f: f["expiryStrategyValue"] == 1,
        message="expiryStrategyValue must be 1 when expiryStrategyType is SERIES_EXPIRY "
        "(coupons end with the series), not {expiryStrategyValue}",
        evidence='the Update page: \'For expiryStrategyType: "SERIES_EXPIRY", '
        "expiryStrategyValue is always 1' (no error code documented)",
        schema={
            "if": {
                "required": ["expiryStrategyType"],
                "properties": {"expiryStrategyType": {"const": "SERIES_EXPIRY"}},
            },
            "then": {"properties": {"expiryStrategyValue": {"const": 1}}},
        },
    ),
    *(
        Rule(
            f"{name}-disc-code-only",
            name,
            when=_generated_codes(name),
            holds=lambda f: f.get("clientHandlingType") == "DISC_CODE",
            message=f"{name} is only used for DISC_CODE series (generated codes), not "
            "{clientHandlingType}",
            evidence="the Create page: couponPrefix / couponSuffix are 'used only for "
            "DISC_CODE' (no error code documented)",
            schema={
                "if": {
                    "required": [name, "clientHandlingType"],
                    "properties": {name: {"minLength": 1}},
                },
                "then": {"properties": {"clientHandlingType": {"const": "DISC_CODE"}}},
            },
        )
        for name in ("couponPrefix", "couponSuffix")
    ),
    Rule(
        "bill-range",
        "minBillAmount",
        # -1, as everywhere in this API, means no maximum.
        when=lambda f: (
            is_int(f.get("minBillAmount"))
            and is_int(f.get("maxBillAmount"))
            and f["maxBillAmount"] != -1
        ),
        holds=lambda f: f["minBillAmount"] <= f["maxBillAmount"],
        message="minBillAmount {minBillAmount} is above maxBillAmount {maxBillAmount}: no bill "
        "could qualify",
        severity=Severity.WARNING,
        evidence="the tool's own advice: no page documents a refusal, so the CRM can hold it "
        "(and an import writes it)",
    ),
    Rule(
        "percent-at-most-100",
        "discountValue",
        when=lambda f: f.get("discountType") == "PERC" and _is_number(f.get("discountValue")),
        holds=lambda f: f["discountValue"] <= 100,
        message="discountValue {discountValue} is more than 100% off (discountType is PERC)",
        severity=Severity.WARNING,
        evidence="the tool's own advice: the Update page describes PERC as 'a percentage of "
        "the total amount'",
    ),
)


# --- fields whose value depends on others ----------------------------------------------------


@dataclass(frozen=True)
class Dependency:
    """A field whose allowed values depend on the values of other fields.

    ``only`` gets the values a write will carry for ``on`` (API form, ``None`` when unset)
    and returns the one value ``field`` may then hold (API form), or ``ABSENT`` when the
    combination leaves it free. ``rules`` name the rules of ``RULES`` the dependency follows
    from, so the two tables cannot drift apart unnoticed (tests/test_catalogue.py). The
    planner resets a dependent field with its controlling fields (``reconciler.engine.ownership``):
    a PUT replaces the whole series, and must not carry a stale value the new combination
    forbids.
    """

    field: str
    on: tuple[str, ...]
    only: Callable[[Fields], Any]
    why: str
    rules: tuple[str, ...] = ()


def _expiry_value(f: Fields) -> Any:
    return 1 if f.get("expiryStrategyType") == "SERIES_EXPIRY" else ABSENT


def _per_coupon_limit(f: Fields) -> Any:
    # No clientHandlingType (never in a valid write: it is required) restricts nothing, as in
    # the rule "limit-generated-or-uploaded-codes".
    applies = f.get("anyUser") is True and f.get("clientHandlingType") in (
        "DISC_CODE",
        "DISC_CODE_PIN",
        None,
    )
    return ABSENT if applies else -1


def _affix(f: Fields) -> Any:
    return ABSENT if f.get("clientHandlingType") in ("DISC_CODE", None) else ""


DEPENDENCIES: Final[tuple[Dependency, ...]] = (
    Dependency(
        "expiryStrategyValue",
        ("expiryStrategyType",),
        _expiry_value,
        "coupons end with the series: 1 is the only value allowed",
        rules=("series-expiry-value-one",),
    ),
    Dependency(
        "redemptionPerCouponMaxLimit",
        ("anyUser", "clientHandlingType"),
        _per_coupon_limit,
        "the limit applies only with anyUser true to DISC_CODE and DISC_CODE_PIN series",
        rules=("limit-needs-any-user", "limit-generated-or-uploaded-codes"),
    ),
    Dependency(
        "couponPrefix",
        ("clientHandlingType",),
        _affix,
        "a prefix is for DISC_CODE only",
        rules=("couponPrefix-disc-code-only",),
    ),
    Dependency(
        "couponSuffix",
        ("clientHandlingType",),
        _affix,
        "a suffix is for DISC_CODE only",
        rules=("couponSuffix-disc-code-only",),
    ),
)


def rules_for_server() -> tuple[Rule, ...]:
    """The rules the server enforces on a POST or PUT body (the sandbox applies these)."""
    return tuple(r for r in RULES if r.server_checks)


def broken_rules(fields: Fields, *, rules: tuple[Rule, ...] = RULES) -> list[Rule]:
    """The rules ``fields`` breaks, in table order."""
    return [r for r in rules if r.when(fields) and not r.holds(fields)]


# Keys of customPropertyMap that the docs name (the map is open: any string key is allowed).
KNOWN_CUSTOM_PROPERTIES: Final = ("standard_terms_and_conditions",)

# Names in the docs that are not series fields: the request wrapper, the answer envelope of
# GET, and the envelope of one sample on the create page whose body is not valid JSON and
# matches no real answer ("couponSeriesId": "CS-789012").
NOT_FIELDS: Final = frozenset(
    {"CouponSeriesV2", "entity", "status", "message", "data", "couponSeriesId", "key1", "key2"}
)


def field(name: str) -> Field:
    """The catalogue entry of ``name``; ``KeyError`` when the API has no such field."""
    return BY_NAME[name]


def writable_fields() -> Iterator[Field]:
    return (f for f in FIELDS if f.writable)


def required_on_create() -> tuple[str, ...]:
    return tuple(f.name for f in FIELDS if f.required_on_create)


def required_on_update() -> tuple[str, ...]:
    return tuple(f.name for f in FIELDS if f.required_on_update)


def identity_fields() -> tuple[str, ...]:
    return tuple(f.name for f in FIELDS if f.identity)


def series_id_fields() -> tuple[str, ...]:
    """The fields that hold ids of other series (a file may name those series by key)."""
    return tuple(f.name for f in FIELDS if f.series_ids)


def kept_on_update() -> tuple[str, ...]:
    """Server-owned fields set once, on create, and kept by every PUT."""
    return tuple(f.name for f in FIELDS if f.access is Access.SERVER and not f.recomputed_on_write)


def server_defaults() -> dict[str, Any]:
    """What the server stores for each writable field left out of a create or a PUT."""
    return {f.name: f.default for f in FIELDS if f.writable and f.default is not ABSENT}


# --- what a reviewer must weigh -----------------------------------------------------------------


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


__all__ = [
    "ABSENT",
    "ANSWER_ORDER",
    "BY_NAME",
    "CONCERNS",
    "DEPENDENCIES",
    "FIELDS",
    "INT32_MAX",
    "INT32_MIN",
    "INT64_MAX",
    "INT64_MIN",
    "KNOWN_CUSTOM_PROPERTIES",
    "MAX_CATEGORY_IDS",
    "NOT_FIELDS",
    "RULES",
    "Access",
    "Concern",
    "Dependency",
    "Field",
    "Kind",
    "Rule",
    "Storage",
    "SubField",
    "broken_rules",
    "field",
    "identity_fields",
    "kept_on_update",
    "required_on_create",
    "required_on_update",
    "rules_for_server",
    "series_id_fields",
    "server_defaults",
    "writable_fields",
]
