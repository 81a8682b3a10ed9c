from __future__ import annotations

from reconciler.engine.diff import NestedChange, diff_fields, key_step, live_digest, nested_changes


def test_no_change_when_only_the_form_differs() -> None:
    desired = {
        "validTillDate": "2030-09-30T00:00:00+05:30",
        "redemptionRange": '{"dom": [-1], "dow": [-1], "hours": [-1]}',
        "storeIdsJson": "[-1]",
        "discountValue": 500,
    }
    live = {
        "validTillDate": "2030-09-29T00:00:00Z",
        "redemptionRange": '{"dom":["-1"],"dow":["-1"],"hours":["-1"]}',
        "storeIdsJson": "[ -1 ]",
        "discountValue": 500.0,
    }
    assert diff_fields(desired=desired, live=live, fields=desired) == ()


def test_only_declared_fields_are_compared() -> None:
    changes = diff_fields(
        desired={"description": "a"}, live={"description": "a", "info": "x"}, fields=["description"]
    )
    assert changes == ()


def test_nested_changes_are_explained() -> None:
    (change,) = diff_fields(
        desired={"customPropertyMap": {"a": "1", "b": "2"}},
        live={"customPropertyMap": {"a": "1"}},
        fields=["customPropertyMap"],
    )
    assert change.before == {"a": "1"}
    assert change.after == {"a": "1", "b": "2"}
    assert [(n.path, n.after) for n in change.nested] == [("customPropertyMap.b", "2")]


def test_live_digest_ignores_server_counters() -> None:
    base = {"description": "x", "numIssued": 1, "lastUsed": "2025-01-01T00:00:00Z"}
    moved = {"description": "x", "numIssued": 9, "lastUsed": "2026-01-01T00:00:00Z"}
    assert live_digest(base) == live_digest(moved)
    assert live_digest(base) != live_digest({"description": "y"})


def test_live_digest_sees_every_writable_change_and_no_reordering() -> None:
    base = {
        "description": "x",
        "maxCreate": -1,
        "validTillDate": "2030-09-29T00:00:00Z",
        "storeIdsJson": "[1, 2]",
        "productInfo": [
            {"productType": "SKU", "productIds": [10, 20]},
            {"productType": "BRAND", "productIds": [7]},
        ],
    }
    reordered = {
        **base,
        "storeIdsJson": "[2,1]",
        "productInfo": [
            {"productIds": [7], "productType": "BRAND"},
            {"productType": "SKU", "productIds": [20, 10]},
        ],
    }
    # Sets and JSON in strings answered in another order are the same series.
    assert live_digest(base) == live_digest(reordered)
    # Any change of a stored value is seen, scalars included.
    for name, value in (
        ("maxCreate", 0),
        ("validTillDate", "2030-09-30T00:00:00Z"),
        ("storeIdsJson", "[1]"),
        ("productInfo", [{"productType": "SKU", "productIds": [10]}]),
        ("smsTemplate", "new"),
    ):
        assert live_digest(base) != live_digest({**base, name: value}), name


def test_nested_paths_are_the_tools_own_form() -> None:
    """The JSON plan's ``nested[].path``: field, ``.key`` / ``["key"]``, ``[index]``."""
    before = [{"productType": "SKU", "productIds": [10, 20]}]
    after = [{"productType": "SKU", "productIds": [10, 15, 20]}]
    assert nested_changes("productInfo", before, after) == (
        NestedChange("productInfo[0].productIds[1]", None, 15),
    )
    assert nested_changes("customPropertyMap", {"a b": "1", "c": "2"}, {"a b": "3"}) == (
        NestedChange('customPropertyMap["a b"]', "1", "3"),
        NestedChange("customPropertyMap.c", "2", None),
    )
    assert nested_changes("targetUserDetails", {"x": {"y": 1}}, {"x": {"y": 2}}) == (
        NestedChange("targetUserDetails.x.y", 1, 2),
    )
    assert key_step("é") == '["é"]'  # identifiers are ASCII: one rule a reader can check
    assert key_step("9lives") == '["9lives"]'
    assert key_step('say "hi"') == '["say \\"hi\\""]'


def test_nested_list_changes_count_in_the_right_value() -> None:
    # A removal is at its index in ``before``; an addition or a change at its index in
    # ``after``; an item inserted at the front is one addition, not a change of every index.
    assert nested_changes("storeIdsJson", [1, 2, 3], [0, 1, 2, 3]) == (
        NestedChange("storeIdsJson[0]", None, 0),
    )
    assert nested_changes("storeIdsJson", [1, 2, 3], [1, 3]) == (
        NestedChange("storeIdsJson[1]", 2, None),
    )
    assert nested_changes("storeIdsJson", [1, 2], [1, 5]) == (
        NestedChange("storeIdsJson[1]", 2, 5),
    )
    rows = [{"a": 1}, {"a": 2}]
    assert nested_changes("productInfo", rows, rows[:1]) == (
        NestedChange("productInfo[1]", {"a": 2}, None),
    )


def test_no_nested_explanation_for_scalars_or_a_change_of_kind() -> None:
    assert nested_changes("description", "a", "b") == ()
    assert nested_changes("productInfo", [], {}) == ()
    assert nested_changes("productInfo", None, [1]) == ()


def test_a_change_of_type_inside_is_a_change() -> None:
    assert nested_changes("customPropertyMap", {"a": 1}, {"a": "1"}) == (
        NestedChange("customPropertyMap.a", 1, "1"),
    )
    assert nested_changes("customPropertyMap", {"a": True}, {"a": 1}) == (
        NestedChange("customPropertyMap.a", True, 1),
    )
