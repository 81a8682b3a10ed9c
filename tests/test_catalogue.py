"""Every field name the vendor's pages mention is known to the catalogue.

The vendor's reference pages name fields in three ways: JSON bodies (requests and
answers), parameter tables and the short list of the create page. The names were read from
the pages once and are kept in ``tests/data/vendor_field_names.json``, so this test needs
nothing outside the repository.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.model import catalogue
from reconciler.model.canonical import RANGE_KEYS

NAMES = Path(__file__).resolve().parent / "data" / "vendor_field_names.json"

# Misspellings in the pages themselves, and the field they mean.
TYPOS = {"Warninigs": "warnings"}
SUBFIELDS = {s.name for f in catalogue.FIELDS for s in f.subfields}


def _known(name: str) -> bool:
    name = TYPOS.get(name, name)
    if "." in name:  # "productInfo.productType", "customPropertyMap.key1"
        parent, _, child = name.partition(".")
        return _known(parent) and (_known(child) or parent == "customPropertyMap")
    return (
        name in catalogue.BY_NAME
        or name in catalogue.NOT_FIELDS
        or name in catalogue.KNOWN_CUSTOM_PROPERTIES
        or name in SUBFIELDS
        or name in RANGE_KEYS  # the keys inside redemptionRange's JSON text
    )


def _names() -> dict[str, list[str]]:
    data = json.loads(NAMES.read_text(encoding="utf-8"))
    return {page: entry["names"] for page, entry in data["pages"].items()}


def test_the_recorded_names_cover_the_catalogue() -> None:
    found = {n for names in _names().values() for n in names}
    # The pages name most of the catalogue; far fewer would mean the record is not theirs.
    assert len(found & set(catalogue.BY_NAME)) > 60


@pytest.mark.parametrize("page", ["000", "001", "002", "003"])
def test_every_name_in_a_page_is_known(page: str) -> None:
    unknown = sorted(n for n in _names()[page] if not _known(n))
    assert unknown == []


def test_required_marks_match_the_readme() -> None:
    assert set(catalogue.required_on_create()) == {
        "description",
        "discountCode",
        "validTillDate",
        "anyUser",
        "smsTemplate",
        "discountValue",
        "clientHandlingType",
        "expiryStrategyType",
        "discountType",
    }
    assert "seriesCode" not in catalogue.required_on_create()
    assert "seriesCode" in catalogue.required_on_update()


def test_server_owned_fields_carry_a_reason_or_are_counters() -> None:
    for spec in catalogue.FIELDS:
        if spec.server_owned and not spec.evidence:
            assert spec.name.startswith(("num", "latest", "id", "warnings"))


def test_identity_fields_are_flagged() -> None:
    from reconciler.model.catalogue import identity_fields

    assert identity_fields() == ("discountCode", "seriesCode", "genericCode")


def test_every_rule_names_known_fields_and_its_evidence() -> None:
    from reconciler.model.catalogue import BY_NAME, RULES

    assert len({r.name for r in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.field in BY_NAME and all(n in BY_NAME for n in rule.reads), rule.name
        assert rule.evidence and rule.message, rule.name
        assert not rule.server_checks or (rule.code is not None and rule.answer), rule.name


def test_the_rules_the_sandbox_applies_are_the_tables() -> None:
    from reconciler.model.catalogue import broken_rules, rules_for_server
    from reconciler.sandbox.rules import ApiFailure, build_created

    body = {
        "description": "d",
        "discountCode": "C",
        "validTillDate": "2031-01-01T00:00:00+00:00",
        "anyUser": False,
        "smsTemplate": "s",
        "discountValue": 1,
        "discountType": "ABS",
        "clientHandlingType": "GENERIC",
        "expiryStrategyType": "SERIES_EXPIRY",
        "redemptionPerCouponMaxLimit": 3,
    }
    broken = broken_rules(body, rules=rules_for_server())
    assert [r.name for r in broken] == [
        "generic-needs-code",
        "limit-needs-any-user",
        "limit-generated-or-uploaded-codes",
    ]
    try:
        build_created(
            body,
            new_id=1,
            now=__import__("datetime").datetime(2030, 1, 1),
            series_code="X",
            exists=lambda _i: False,
        )
    except ApiFailure as failure:
        # One answer per chain: the limit rules are one check on the server.
        assert failure.errors == (
            (754, "Generic code cannot be empty for GENERIC"),
            (744, "redemptionPerCouponMaxLimit applies only when anyUser is true"),
        )
    else:
        raise AssertionError("the sandbox took a body that breaks the table's rules")


def test_every_dependency_follows_from_rules_of_the_table() -> None:
    from reconciler.model.catalogue import BY_NAME, DEPENDENCIES, RULES

    by_rule = {r.name: r for r in RULES}
    assert len({d.field for d in DEPENDENCIES}) == len(DEPENDENCIES)
    for dep in DEPENDENCIES:
        assert BY_NAME[dep.field].writable and all(BY_NAME[n].writable for n in dep.on)
        assert dep.rules and dep.why, dep.field
        for name in dep.rules:
            assert by_rule[name].field == dep.field, (dep.field, name)


def _combinations(names: tuple[str, ...]) -> list[dict[str, Any]]:
    from itertools import product

    from reconciler.model.catalogue import BY_NAME, Kind

    def values(name: str) -> tuple[Any, ...]:
        spec = BY_NAME[name]
        if spec.kind is Kind.BOOLEAN:
            return (True, False, None)
        return (*spec.enum, None)

    return [dict(zip(names, combo, strict=True)) for combo in product(*map(values, names))]


# A value of each dependent field that is not its "nothing" value: what a person may have set.
_SET_BY_A_PERSON = {
    "expiryStrategyValue": 14,
    "redemptionPerCouponMaxLimit": 3,
    "couponPrefix": "SUM",
    "couponSuffix": "X",
}


def test_a_dependency_pins_exactly_the_combinations_its_rules_forbid_values_in() -> None:
    """For every combination of the controlling fields: where the rules would refuse a value a
    person set, the dependency names the one value left, and that value breaks no rule; where
    they would not, the field is left free."""
    from reconciler.model.catalogue import ABSENT, DEPENDENCIES, RULES, broken_rules

    for dep in DEPENDENCIES:
        rules = tuple(r for r in RULES if r.name in dep.rules)
        for combo in _combinations(dep.on):
            person = {**combo, dep.field: _SET_BY_A_PERSON[dep.field]}
            forbidden = bool(broken_rules(person, rules=rules))
            only = dep.only(combo)
            assert (only is not ABSENT) == forbidden, (dep.field, combo)
            if only is not ABSENT:
                assert not broken_rules({**combo, dep.field: only}, rules=rules), (dep.field, combo)
