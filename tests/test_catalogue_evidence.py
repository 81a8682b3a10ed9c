"""The catalogue against the vendor's own examples (``tests/evidence.py``, verbatim data).

The defaults are what the documented answers to minimal creates carry, each with its
evidence; the types are those of the OpenAPI; a removed line is never planned to a value no
page shows.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.engine.ownership import field_resets, server_default
from reconciler.model import catalogue
from reconciler.model.canonical import canonical
from reconciler.model.catalogue import ABSENT, BY_NAME, Format, Kind
from reconciler.model.defaults import DERIVED, DOCUMENTED
from tests.evidence import ANSWERS, CREATED_698948, GOLD_877510, REQUIRED_ON_CREATE

WRITABLE = [f.name for f in catalogue.writable_fields()]
DEFAULTED = [f.name for f in catalogue.writable_fields() if f.has_default]


def test_the_documented_values_are_those_the_issue_lists() -> None:
    expected = {
        "expiryStrategyValue": -1,
        "minBillAmount": -1,
        "maxBillAmount": -1,
        "alphaNumeric": False,
        "randomCodeLength": 0,
        "resendMessageEnabled": True,
        "termsAndConditions": "T&C",
    }
    assert {name: BY_NAME[name].default for name in expected} == expected
    assert {name: BY_NAME[name].derived for name in ("info", "tag", "redemptionValidFrom")} == {
        "info": "the description",
        "tag": "the description",
        "redemptionValidFrom": "the day the series was made",
    }


@pytest.mark.parametrize("name", DEFAULTED)
def test_every_default_is_what_the_minimal_create_answered(name: str) -> None:
    # 877510 sent only the required fields: every other field of its answer is a default.
    assert name not in REQUIRED_ON_CREATE
    assert name in GOLD_877510, f"{name}: no documented answer shows its default"
    assert BY_NAME[name].default == GOLD_877510[name]
    assert "877510" in BY_NAME[name].default_evidence


def test_every_field_the_minimal_create_answered_has_its_default_or_is_derived() -> None:
    answered = {
        name
        for name in GOLD_877510
        if name in BY_NAME and BY_NAME[name].writable and name not in REQUIRED_ON_CREATE
    }
    # seriesCode: the server makes its own on create (a marker, never a default).
    assert answered - {"seriesCode"} == set(DOCUMENTED) | set(DERIVED)


def test_the_derived_values_are_what_877510_shows() -> None:
    assert GOLD_877510["info"] == GOLD_877510["tag"] == GOLD_877510["description"]
    assert GOLD_877510["redemptionValidFrom"][:10] == GOLD_877510["createdOn"][:10]
    for name in DERIVED:
        assert not BY_NAME[name].has_default and server_default(name) is ABSENT


def test_no_default_without_evidence() -> None:
    for spec in catalogue.writable_fields():
        assert spec.has_default == (spec.name in DOCUMENTED), spec.name
        if spec.has_default or spec.derived:
            assert spec.default_evidence, spec.name
        assert "assumed" not in spec.evidence + spec.default_evidence, spec.name


def test_fields_no_answer_carries_are_marked_unanswered() -> None:
    answers = [*ANSWERS.values(), CREATED_698948]
    never = {name for name in WRITABLE if all(name not in answer for answer in answers)}
    assert {"productInfo", "redemptionOrgEntityDetails"} <= never
    assert set(catalogue.unanswered_fields()) == {"productInfo", "redemptionOrgEntityDetails"}


def test_the_openapi_types() -> None:
    int32 = {f.name for f in catalogue.FIELDS if f.format is Format.INT32}
    assert int32 == {
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
    }
    for name in int32:
        assert BY_NAME[name].kind is Kind.INTEGER
    for name, form in (
        ("minBillAmount", Format.DOUBLE),
        ("maxBillAmount", Format.DOUBLE),
        ("discountUpto", Format.FLOAT),
    ):
        assert (BY_NAME[name].kind, BY_NAME[name].format) == (Kind.NUMBER, form)


# --- a removed line is never planned to a value no page shows -------------------------------


def _documented_values(name: str) -> list[Any]:
    """Every value a documented answer carries for ``name``, canonical."""
    answers = [*ANSWERS.values(), CREATED_698948]
    return [canonical(name, a[name]) for a in answers if name in a]


def _other_value(name: str) -> Any:
    """A live value a person may have set, different from any default."""
    spec = BY_NAME[name]
    if spec.kind is Kind.BOOLEAN:
        return not spec.default if spec.has_default else True
    if spec.kind is Kind.ENUM:
        return next((v for v in spec.enum if v != spec.default), spec.enum[0])
    samples: dict[Kind, Any] = {
        Kind.STRING: "set in the CRM",
        Kind.INTEGER: 7,
        Kind.NUMBER: 7.5,
        Kind.DATETIME: "2031-01-01T00:00:00Z",
        Kind.ID_LIST: "[101, 102]",
        Kind.REDEMPTION_RANGE: '{"dom": [1], "dow": [-1], "hours": [-1]}',
        Kind.STRING_MAP: {"k": "v"},
        Kind.OBJECT: {"validMaxUserTransactionLimit": 3},
        Kind.OBJECT_LIST: [{"productType": "SKU", "productIds": [1]}],
    }
    return samples[spec.kind]


# A valid series the removal happens in: 877510 as answered (SERIES_EXPIRY, DISC_CODE).
_LIVE = {k: v for k, v in GOLD_877510.items() if k in BY_NAME and BY_NAME[k].writable}


@pytest.mark.parametrize("name", [n for n in WRITABLE if n not in REQUIRED_ON_CREATE])
def test_a_removed_line_goes_only_to_a_value_a_page_shows(name: str) -> None:
    live = {**_LIVE, name: _other_value(name)}
    desired = {k: v for k, v in _LIVE.items() if k != name}
    result = field_resets(
        desired=desired, declared=set(desired), last_declared=set(desired) | {name}, live=live
    )
    planned = {r.field: canonical(r.field, r.value) for r in result.resets}
    for field, value in planned.items():
        assert value in _documented_values(field), (field, value)
    if BY_NAME[name].has_default:
        if canonical(name, live[name]) == canonical(name, GOLD_877510[name]):
            assert name not in planned  # one value only (redeemStoreType): nothing to reset
        else:
            assert planned.get(name) == canonical(name, GOLD_877510[name])
    else:
        # Released: left as it is, and the plan says so.
        assert name not in planned
        assert any(note.startswith(f"{name} ") for note in result.notes), result.notes
