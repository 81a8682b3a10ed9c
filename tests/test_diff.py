from __future__ import annotations

from reconciler.diff import diff_fields, live_digest


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
    assert [(n.path, n.after) for n in change.nested] == [("['b']", "2")]


def test_live_digest_ignores_server_counters() -> None:
    base = {"description": "x", "numIssued": 1, "lastUsed": "2025-01-01T00:00:00Z"}
    moved = {"description": "x", "numIssued": 9, "lastUsed": "2026-01-01T00:00:00Z"}
    assert live_digest(base) == live_digest(moved)
    assert live_digest(base) != live_digest({"description": "y"})
