"""The JSON Schema of a series file, generated from the catalogue."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli import main
from reconciler.files.schema import series_schema
from reconciler.model import catalogue

REPO = Path(__file__).resolve().parents[1]


def test_every_writable_field_and_only_those() -> None:
    schema = series_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    names = set(schema["properties"])
    assert names == {f.name for f in catalogue.writable_fields()} | {"reconciler"}
    assert "id" not in names and "numIssued" not in names


def test_types_enums_deprecation_and_friendly_forms() -> None:
    props = series_schema()["properties"]
    assert props["discountType"]["enum"] == ["ABS", "PERC"]
    assert props["maxCreate"]["type"] == "integer"
    assert props["anyUser"]["type"] == "boolean"
    assert props["maxReferralsPerReferee"]["deprecated"] is True
    range_forms = {f.get("type") for f in props["redemptionRange"]["anyOf"]}
    assert range_forms == {"object", "string"}
    assert {f.get("type") for f in props["storeIdsJson"]["anyOf"]} == {"array", "string"}
    assert props["productInfo"]["items"]["additionalProperties"] is False
    options = props["reconciler"]
    assert set(options["properties"]) == {
        "ignore",
        "retire",
        "only",
        "environments",
        "distinct_from",
        "owns",
    }
    assert options["properties"]["owns"]["enum"] == ["all", "written"]
    assert all(p.get("description") for p in props.values())


def test_numbers_as_the_openapi_types_them() -> None:
    props = series_schema()["properties"]
    for name in ("minBillAmount", "maxBillAmount", "discountUpto", "discountValue"):
        assert props[name]["type"] == "number", name  # fractions accepted
    assert props["maxBillAmount"]["format"] == "double"
    assert props["discountUpto"]["format"] == "float"
    int32 = [n for n, p in props.items() if p.get("format") == "int32"]
    assert sorted(int32) == sorted(
        [
            "maxCreate",
            "maxRedeem",
            "maxVouchersPerUser",
            "minDaysBetweenVouchers",
            "maxRedemptionsInSeriesPerUser",
            "minDaysBetweenRedemption",
            "redemptionValidAfterDays",
            "randomCodeLength",
            "expiryStrategyValue",
        ]
    )  # redemptionPerCouponMaxLimit too, under its anyOf with null
    assert props["maxVouchersPerUser"]["maximum"] == 2**31 - 1
    assert props["maxVouchersPerUser"]["minimum"] == -(2**31)
    assert props["randomCodeLength"]["minimum"] == 0
    limit = props["redemptionPerCouponMaxLimit"]["anyOf"][0]
    assert limit["format"] == "int32" and limit["maximum"] == 2**31 - 1


def test_the_schema_command_prints_it() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == series_schema()


def test_the_example_series_match_the_schema() -> None:
    jsonschema = __import__("importlib").util.find_spec("jsonschema")
    if jsonschema is None:
        return  # the validator library is optional; the schema's shape is tested above
    import jsonschema as js  # type: ignore[import-untyped]
    import yaml

    validator = js.Draft202012Validator(series_schema())
    for path in sorted((REPO / "series").rglob("*.yaml")):
        if path.name == "reconciler.yaml":
            continue
        data = yaml.safe_load(path.read_text())
        data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}
        errors = list(validator.iter_errors(data))
        assert errors == [], (path, errors[0].message)


def test_the_rules_json_schema_can_say_are_in_the_schema() -> None:
    rules = series_schema()["allOf"]
    # Only rules validate refuses: the warnings (SERIES_EXPIRY's value, an affix on a series
    # that is not DISC_CODE, a count below 1) are values the CRM holds and import writes.
    assert len(rules) == sum(1 for r in catalogue.RULES if r.schema is not None) >= 5
    assert all(r.severity.value == "error" for r in catalogue.RULES if r.schema is not None)
    counted = next(r for r in rules if r.get("then", {}).get("required"))
    assert counted["then"]["required"] == ["expiryStrategyValue"]
    generic = next(
        r
        for r in rules
        if r.get("if", {}).get("properties", {}).get("clientHandlingType", {}).get("const")
        == "GENERIC"
    )
    assert generic["then"]["properties"]["genericCode"]["minLength"] == 1
