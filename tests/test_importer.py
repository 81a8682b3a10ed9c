"""The importer's pure functions: keys, the fields a file declares, the file text."""

from __future__ import annotations

from typing import Any

import yaml

from reconciler.files.importer import MAX_KEY_LENGTH, choose_key, file_fields, render_file, slug
from reconciler.model.canonical import canonical
from reconciler.model.catalogue import FIELDS, required_on_create
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
    assert yaml.safe_load(text) == fields
