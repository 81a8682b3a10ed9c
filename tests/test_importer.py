"""The importer's pure functions: keys, the fields a file declares, the file text."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from reconciler.files.importer import (
    MAX_KEY_LENGTH,
    choose_key,
    declared_fields,
    file_fields,
    render_file,
    slug,
)
from reconciler.model.canonical import canonical
from reconciler.model.catalogue import FIELDS, required_on_create
from tests.evidence import ANSWERS, GOLD_877510
from tests.sandbox.docs_pairs import CREATE_RESPONSE, UPDATE_RESPONSE


def test_slug_is_readable_ascii() -> None:
    assert slug("Onam 10% OFF") == "onam-10-off"
    assert slug("  Été — ½ prix!! ") == "ete-12-prix"  # NFKD: ½ is 1⁄2
    assert slug("中文") == ""
    assert len(slug("x" * 200)) == MAX_KEY_LENGTH


def test_choose_key_falls_back_and_never_reuses() -> None:
    live = {"id": 7, "description": "Onam 10% OFF", "discountCode": "X"}
    assert choose_key(live=live, taken=set()) == "imported/onam-10-off"
    taken = {"imported/onam-10-off", "imported/onam-10-off-2"}
    assert choose_key(live=live, taken=taken) == "imported/onam-10-off-3"
    assert (
        choose_key(live={"id": 7, "description": "中文", "discountCode": "Ab 1"}, taken=set())
        == "imported/ab-1"
    )
    assert choose_key(live={"id": 7}, taken=set(), folder="") == "series-7"


def test_file_fields_keeps_required_and_non_default_values_in_friendly_form() -> None:
    fields = file_fields(live=CREATE_RESPONSE, defaults={})
    assert set(required_on_create()) <= set(fields)
    assert fields["expiryStrategyValue"] == 30 and fields["redemptionPerCouponMaxLimit"] == 3
    assert fields["mutualExclusiveSeriesIds"] == []  # "[]" differs from the default "[-1]"
    assert "maxCreate" not in fields and "storeIdsJson" not in fields  # server defaults
    assert all(not f.server_owned for f in FIELDS if f.name in fields)


def test_file_fields_all_fields_writes_every_writable_field_present() -> None:
    fields = file_fields(live=UPDATE_RESPONSE, defaults={}, all_fields=True)
    writable_present = [f.name for f in FIELDS if f.writable and f.name in UPDATE_RESPONSE]
    assert list(fields) == writable_present  # catalogue order
    assert fields["redemptionRange"] == {"dom": [-1], "dow": [-1], "hours": [-1]}
    assert fields["storeIdsJson"] == [-1]


def test_file_fields_states_values_a_settings_default_would_change() -> None:
    live = dict(CREATE_RESPONSE)  # isSMSDisabled false, the server's default
    fields = file_fields(live=live, defaults={"isSMSDisabled": True})
    assert fields["isSMSDisabled"] is False
    same = file_fields(live=live, defaults={"isSMSDisabled": False})
    assert "isSMSDisabled" not in same


def test_file_fields_states_no_value_where_a_default_would_set_one() -> None:
    # The answer has no customPropertyMap; a default would give it one unless the file says {}.
    live: dict[str, Any] = dict(CREATE_RESPONSE)
    assert "customPropertyMap" not in live
    defaults = {
        "customPropertyMap": {"standard_terms_and_conditions": "T&C"},
        "genericCode": "SAVE",
        "productInfo": [{"productType": "SKU", "productIds": [1]}],
    }
    fields = file_fields(live=live, defaults=defaults)
    assert fields["customPropertyMap"] == {}
    assert fields["genericCode"] == ""
    assert fields["productInfo"] == []
    for name in defaults:
        assert canonical(name, fields[name]) == canonical(name, live.get(name)) is None
    # A default that is itself "no value" needs nothing in the file.
    assert "customPropertyMap" not in file_fields(live=live, defaults={"customPropertyMap": {}})


def test_render_file_round_trips_through_yaml() -> None:
    fields = file_fields(live=UPDATE_RESPONSE, defaults={}, all_fields=True)
    fields["description"] = "Ünïcode — 中文\nsecond line"
    text = render_file(fields=fields, header="Imported from x\nsecond line")
    assert text.startswith("# Imported from x\n# second line\n")
    assert yaml.safe_load(text) == {**fields, "reconciler": {"owns": "all"}}
    assert yaml.safe_load(render_file(fields=fields, header="x", owns_all=False)) == fields


def test_the_gold_series_writes_what_differs_and_what_the_server_derived() -> None:
    fields = file_fields(live=GOLD_877510, defaults={})
    # Every value 877510 has at its documented default is held by owns: all, not written.
    assert not {"expiryStrategyValue", "minBillAmount", "maxBillAmount", "alphaNumeric"} & set(
        fields
    )
    # What the server derived when it made the series, and its seriesCode, are written.
    assert fields["info"] == fields["tag"] == "Gold star coupons"
    assert fields["redemptionValidFrom"] == "2025-10-09T00:00:00Z"
    assert fields["seriesCode"] == "2D51C86999B948CA99DC"
    assert set(fields) == {
        *required_on_create(),
        "info",
        "tag",
        "redemptionValidFrom",
        "seriesCode",
    }


@pytest.mark.parametrize("documented", sorted(ANSWERS))
def test_every_written_value_differs_from_the_held_default(documented: int) -> None:
    live = ANSWERS[documented]
    fields = file_fields(live=live, defaults={})
    for spec in FIELDS:
        if spec.name in fields and spec.has_default and not spec.required_on_create:
            assert canonical(spec.name, live[spec.name]) != canonical(spec.name, spec.default)
        if spec.writable and spec.name not in fields and spec.name in live:
            # Left out: held at a default equal to the live value, or "no value" live.
            held = spec.has_default and canonical(spec.name, spec.default)
            assert canonical(spec.name, live[spec.name]) in (held, None), spec.name


def test_an_import_declares_what_owns_all_holds() -> None:
    from reconciler.model.catalogue import server_defaults

    declared = declared_fields(fields=["description"], defaults=["smsTemplate"])
    assert set(declared) == {"description", "smsTemplate", *server_defaults()}
