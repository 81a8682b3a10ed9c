"""The rules between the fields of one series, and the fields whose value depends on others.

``RULES`` is read by the validator (every rule, at the line of its field), the sandbox (the
rules the server enforces, answered with its codes) and the JSON Schema (where JSON Schema
can say the rule). ``DEPENDENCIES`` says which value a field must take when others change,
and is read by the planner's field ownership. Each rule names its evidence: a page's words
and error code, or "the tool's own advice" for a warning no page documents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from reconciler.model.fieldtypes import ABSENT, is_int, is_number
from reconciler.problems import Severity

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


def _limited(f: Fields) -> bool:
    limit = f.get("redemptionPerCouponMaxLimit")
    return is_int(limit) and limit != -1


def _generated_codes(name: str) -> Callable[[Fields], bool]:
    def when(f: Fields) -> bool:
        affix = f.get(name)
        return isinstance(affix, str) and bool(affix) and f.get("clientHandlingType") is not None

    return when


# expiryStrategyValue with SERIES_EXPIRY: 1 as the pages say, -1 as the server stores when it
# is left out (877510, 927443).
SERIES_EXPIRY_VALUES: Final = (1, -1)
# The expiry strategies whose expiryStrategyValue counts something (days, months).
COUNTED_EXPIRY: Final = ("DAYS", "MONTHS_END")


def _amount_other_than_none(name: str) -> Callable[[Fields], bool]:
    def when(f: Fields) -> bool:
        return is_number(f.get(name)) and f[name] != -1

    return when


def _not_negative(name: str) -> Callable[[Fields], bool]:
    def holds(f: Fields) -> bool:
        return bool(f[name] >= 0)

    return holds


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
        holds=lambda f: f["expiryStrategyValue"] in SERIES_EXPIRY_VALUES,
        message="expiryStrategyValue {expiryStrategyValue} means nothing with SERIES_EXPIRY "
        "(coupons end with the series): the pages say 1, and the server stores -1 when it is "
        "left out; write 1, or remove the line",
        severity=Severity.WARNING,
        evidence='the Update page: \'For expiryStrategyType: "SERIES_EXPIRY", '
        "expiryStrategyValue is always 1' (no error code documented); the answers to minimal "
        "creates (877510, 927443): -1 with SERIES_EXPIRY. A warning: the CRM holds what it "
        "was sent, and an import writes it",
    ),
    Rule(
        "expiry-count-needed",
        "expiryStrategyType",
        when=lambda f: f.get("expiryStrategyType") in COUNTED_EXPIRY,
        holds=lambda f: f.get("expiryStrategyValue") is not None,
        message="expiryStrategyType {expiryStrategyType} needs expiryStrategyValue: how many "
        "days (DAYS) or months (MONTHS_END) a coupon lasts; left out, the server stores -1",
        reads=("expiryStrategyValue",),
        evidence="the Update page: 'N days for DAYS; N months for MONTHS_END'; the server's "
        "default is -1 (877510), which counts nothing",
        schema={
            "if": {
                "required": ["expiryStrategyType"],
                "properties": {"expiryStrategyType": {"enum": list(COUNTED_EXPIRY)}},
            },
            "then": {"required": ["expiryStrategyValue"]},
        },
    ),
    Rule(
        "expiry-count-positive",
        "expiryStrategyValue",
        when=lambda f: (
            f.get("expiryStrategyType") in COUNTED_EXPIRY and is_int(f.get("expiryStrategyValue"))
        ),
        holds=lambda f: f["expiryStrategyValue"] >= 1,
        message="expiryStrategyValue {expiryStrategyValue} with {expiryStrategyType} counts "
        "nothing: it is the number of days or months a coupon lasts, at least 1",
        severity=Severity.WARNING,
        evidence="the Update page: 'N days for DAYS; N months for MONTHS_END' (no error code "
        "documented). A warning: the server stores -1 for a value left out, so the CRM can "
        "hold it, and an import writes it",
    ),
    *(
        Rule(
            f"{name}-disc-code-only",
            name,
            when=_generated_codes(name),
            holds=lambda f: f.get("clientHandlingType") == "DISC_CODE",
            message=f"{name} is ignored on a {{clientHandlingType}} series: the server adds it "
            "only to the codes of DISC_CODE series",
            severity=Severity.WARNING,
            evidence=f"the Create page: {name} 'is added to the coupon code only if ... "
            "clientHandlingType is set to DISC_CODE' (ignored otherwise, not refused)",
        )
        for name in ("couponPrefix", "couponSuffix")
    ),
    Rule(
        "bill-range",
        "minBillAmount",
        # -1, as everywhere in this API, means no maximum.
        when=lambda f: (
            is_number(f.get("minBillAmount"))
            and is_number(f.get("maxBillAmount"))
            and f["maxBillAmount"] != -1
        ),
        holds=lambda f: f["minBillAmount"] <= f["maxBillAmount"],
        message="minBillAmount {minBillAmount} is above maxBillAmount {maxBillAmount}: no bill "
        "could qualify",
        severity=Severity.WARNING,
        evidence="the tool's own advice: no page documents a refusal, so the CRM can hold it "
        "(and an import writes it)",
    ),
    *(
        Rule(
            f"{name}-negative",
            name,
            when=_amount_other_than_none(name),
            holds=_not_negative(name),
            message=f"{name} {{{name}}} is negative: -1 means no limit (what the server stores "
            "when it is left out); no page says what other negative amounts do",
            severity=Severity.WARNING,
            evidence="the answers to minimal creates (877510, 927443): -1; the tool's own "
            "advice for other negative amounts, which no page documents or refuses",
        )
        for name in ("minBillAmount", "maxBillAmount")
    ),
    Rule(
        "percent-at-most-100",
        "discountValue",
        when=lambda f: f.get("discountType") == "PERC" and is_number(f.get("discountValue")),
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
    and returns the value ``field`` is set to when the one it holds breaks ``rules`` (API
    form, a value some page shows), or ``ABSENT`` when the combination leaves it free.
    ``rules`` name the rules of ``RULES`` the dependency follows from, so the two tables
    cannot drift apart unnoticed (tests/test_catalogue.py). The planner resets a dependent
    field with its controlling fields (``reconciler.engine.ownership``): a PUT replaces the
    whole series, and must not carry a stale value the new combination forbids.
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


DEPENDENCIES: Final[tuple[Dependency, ...]] = (
    Dependency(
        "expiryStrategyValue",
        ("expiryStrategyType",),
        _expiry_value,
        "coupons end with the series: the pages say 1",
        rules=("series-expiry-value-one",),
    ),
    Dependency(
        "redemptionPerCouponMaxLimit",
        ("anyUser", "clientHandlingType"),
        _per_coupon_limit,
        "the limit applies only with anyUser true to DISC_CODE and DISC_CODE_PIN series",
        rules=("limit-needs-any-user", "limit-generated-or-uploaded-codes"),
    ),
)


def rules_for_server() -> tuple[Rule, ...]:
    """The rules the server enforces on a POST or PUT body (the sandbox applies these)."""
    return tuple(r for r in RULES if r.server_checks)


def broken_rules(fields: Fields, *, rules: tuple[Rule, ...] = RULES) -> list[Rule]:
    """The rules ``fields`` breaks, in table order."""
    return [r for r in rules if r.when(fields) and not r.holds(fields)]


__all__ = [
    "COUNTED_EXPIRY",
    "DEPENDENCIES",
    "RULES",
    "SERIES_EXPIRY_VALUES",
    "Dependency",
    "Fields",
    "Rule",
    "broken_rules",
    "rules_for_server",
]
