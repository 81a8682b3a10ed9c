"""The adopt writer: live values into a series file's text, touching nothing else."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler import adopt_service
from reconciler.adopt_service import adopt_plan, adoptable, scope_of
from reconciler.engine.diff import FieldChange
from reconciler.engine.plan import Action, Plan, SeriesPlan
from reconciler.files.adopt import BLOCK, AdoptError, Scope, adopt_text, friendly_value, placement
from reconciler.model.canonical import canonical, to_api
from reconciler.model.settings import Environment, Settings


def reads_as(text: str, name: str) -> Any:
    """What the loader would compare for ``name`` after the patch."""
    data = yaml.safe_load(text)
    return canonical(name, to_api(name, data[name]))


def adopt(text: str, **live: Any) -> str:
    new = adopt_text(text=text, live=live, fields=list(live))
    for name, value in live.items():
        assert reads_as(new, name) == canonical(name, value), name
    return new


def test_only_the_value_changes_comment_and_its_column_stay() -> None:
    text = "a: 1\nmaxCreate: 500      # why 500\nb: 2\n"
    assert adopt(text, maxCreate=60000) == "a: 1\nmaxCreate: 60000    # why 500\nb: 2\n"


def test_a_shorter_value_keeps_the_comment_where_it_was() -> None:
    text = "maxCreate: 50000 # why\n"
    assert adopt(text, maxCreate=5) == "maxCreate: 5 # why\n"


def test_single_precision_is_written_as_a_person_would() -> None:
    assert adopt("discountValue: 15\n", discountValue=15.100000381469727) == (
        "discountValue: 15.1\n"
    )
    assert friendly_value("discountValue", 15.100000381469727) == 15.1


@pytest.mark.parametrize(
    ("before", "live", "after"),
    [
        ("storeIdsJson: [101, 102]\n", "[103, 101]", "storeIdsJson: [101, 103]\n"),
        ('storeIdsJson: "[101, 102]"\n', "[103, 101]", 'storeIdsJson: "[101, 103]"\n'),
        ("storeIdsJson: '[101]'\n", "[7]", "storeIdsJson: '[7]'\n"),
        ("storeIdsJson:\n  - 101\n  - 102\n", "[5, 6]", "storeIdsJson:\n  - 5\n  - 6\n"),
        (
            "storeIdsJson:\n- 101\n- 102\nx: 1\n",
            "[5, 6, 7]",
            "storeIdsJson:\n- 5\n- 6\n- 7\nx: 1\n",
        ),
    ],
)
def test_id_lists_keep_the_files_spelling(before: str, live: str, after: str) -> None:
    assert adopt(before, storeIdsJson=live) == after


def test_redemption_range_as_json_string_stays_a_string() -> None:
    text = 'redemptionRange: \'{"dom": [-1], "dow": [6], "hours": [-1]}\'\n'
    new = adopt(text, redemptionRange='{"dom":[-1],"dow":[5,6],"hours":[-1]}')
    assert new == 'redemptionRange: \'{"dom": [-1], "dow": [5, 6], "hours": [-1]}\'\n'


def test_block_mapping_patches_only_the_key_that_differs() -> None:
    text = "redemptionRange:\n  dom: [-1]   # all\n  dow: [6, 7]  # weekends\n  hours: [-1]\n"
    new = adopt(text, redemptionRange='{"dom":[-1],"dow":[5,6,7],"hours":[-1]}')
    assert new == (
        "redemptionRange:\n  dom: [-1]   # all\n  dow: [5, 6, 7] # weekends\n  hours: [-1]\n"
    )


@pytest.mark.parametrize(
    ("written", "after"),
    [
        ("2030-08-31", "2030-09-07"),
        ("2030-08-31T00:00:00Z", "2030-09-07T00:00:00Z"),
        ("2030-08-31T00:00:00+05:30", "2030-09-07T05:30:00+05:30"),
        ("2030-08-31T00:00:00-04:00", "2030-09-06T20:00:00-04:00"),
        ('"2030-08-31"', '"2030-09-07"'),
    ],
)
def test_dates_keep_the_files_form(written: str, after: str) -> None:
    new = adopt(f"validTillDate: {written}\n", validTillDate="2030-09-07T00:00:00Z")
    assert new == f"validTillDate: {after}\n"


def test_strings_keep_their_quoting_and_stay_strings() -> None:
    assert adopt("description: Old\n", description="New text") == "description: New text\n"
    assert adopt("description: Old\n", description="yes") == 'description: "yes"\n'
    assert adopt("description: Old\n", description="a: b # c") == 'description: "a: b # c"\n'
    assert adopt("description: 'Old'\n", description="it's") == "description: 'it''s'\n"
    assert adopt('description: "Old"\n', description="two\nlines") == (
        'description: "two\\nlines"\n'
    )
    block = "description: |\n  one\n  two\nb: 1\n"
    assert adopt(block, description="three") == "description: three\nb: 1\n"


def test_list_of_objects_item_by_item_or_whole() -> None:
    text = (
        "productInfo:\n"
        "  - productType: CATEGORY   # clothing\n"
        "    productIds: [1, 2]\n"
        "  - productType: SKU\n"
        "    productIds: [9]\n"
        "next: 1\n"
    )
    same_shape = adopt(
        text,
        productInfo=[
            {"productType": "CATEGORY", "productIds": [1, 2, 3]},
            {"productType": "SKU", "productIds": [9]},
        ],
    )
    assert same_shape == text.replace("[1, 2]", "[1, 2, 3]")
    one_more = adopt(
        text,
        productInfo=[
            {"productIds": [1], "productType": "CATEGORY"},
            {"productType": "SKU", "productIds": [9]},
            {"productType": "BRAND", "productIds": [4]},
        ],
    )
    assert one_more == (  # a new shape: the whole value, in the canonical (sorted) order
        "productInfo:\n"
        "  - productType: CATEGORY\n"
        "    productIds: [1]\n"
        "  - productType: BRAND\n"
        "    productIds: [4]\n"
        "  - productType: SKU\n"
        "    productIds: [9]\n"
        "next: 1\n"
    )


def test_a_value_that_is_no_longer_set_gets_the_fields_no_value_spelling() -> None:
    text = "productInfo:\n  - productType: SKU\n    productIds: [9]\nx: 1\n"
    assert adopt(text, productInfo=None) == "productInfo:\n  []\nx: 1\n"
    assert adopt("customPropertyMap: {a: b}\n", customPropertyMap=None) == (
        "customPropertyMap: {}\n"
    )
    assert adopt("couponPrefix: EB\n", couponPrefix=None) == 'couponPrefix: ""\n'


def test_a_field_from_the_defaults_is_added_before_the_tools_block() -> None:
    text = "a: 1\n# the tool's own settings\nreconciler:\n  retire: false\n"
    new = adopt(text, smsTemplate="Hi {{voucher}}", storeIdsJson="[1]")
    assert new == (
        "a: 1\n# the tool's own settings\nsmsTemplate: Hi {{voucher}}\nstoreIdsJson: [1]\n"
        "reconciler:\n  retire: false\n"
    )


def test_a_field_added_at_the_end_of_a_file_without_a_final_newline() -> None:
    new = adopt("a: 1", maxCreate=5, productInfo=[{"productType": "SKU", "productIds": [1]}])
    assert new == "a: 1\nmaxCreate: 5\nproductInfo:\n  - productType: SKU\n    productIds: [1]\n"


def test_windows_line_ends_are_kept() -> None:
    text = "a: 1\r\nmaxCreate: 5\r\nstoreIdsJson:\r\n  - 1\r\n"
    new = adopt(text, maxCreate=6, storeIdsJson="[1, 2]", info="x")
    assert new == "a: 1\r\nmaxCreate: 6\r\nstoreIdsJson:\r\n  - 1\r\n  - 2\r\ninfo: x\r\n"


def test_anchors_and_aliases_are_refused() -> None:
    text = "maxCreate: &n 5\nmaxVouchersPerUser: *n\n"
    with pytest.raises(AdoptError, match="anchor or alias"):
        adopt_text(text=text, live={"maxVouchersPerUser": 3}, fields=["maxVouchersPerUser"])
    with pytest.raises(AdoptError, match="anchor or alias"):
        adopt_text(text=text, live={"maxCreate": 3}, fields=["maxCreate"])


def test_server_owned_and_unknown_fields_are_refused() -> None:
    for name in ("numIssued", "nope"):
        with pytest.raises(AdoptError, match="not a field a file can declare"):
            adopt_text(text="a: 1\n", live={name: 1}, fields=[name])


# --- the service's pure part --------------------------------------------------------------


def _series(*changes: FieldChange, retire: bool = False, action: Action = Action.UPDATE) -> Any:
    return SeriesPlan(
        key="a/b", file="series/a/b.yaml", action=action, series_id=1, changes=changes,
        retire=retire,
    )  # fmt: skip


def test_adoptable_fields() -> None:
    changes = (FieldChange("maxCreate", 6, 5), FieldChange("validTillDate", "x", "y"))
    assert adoptable(_series(*changes)) == (["maxCreate", "validTillDate"], [])
    assert adoptable(_series(*changes), only=["maxCreate"]) == (["maxCreate"], [])
    fields, notes = adoptable(_series(*changes, retire=True))
    assert fields == ["maxCreate"] and "retire" in notes[0]
    assert adoptable(_series(*changes, action=Action.CREATE)) == ([], [])


def test_a_reset_is_never_adopted() -> None:
    # The line was removed from the file on purpose: adopting the live value would put it back.
    reset = FieldChange("maxRedeem", 500, -1, note="no longer in the file: server default")
    fields, notes = adoptable(_series(FieldChange("maxCreate", 6, 5), reset))
    assert fields == ["maxCreate"]
    assert notes == [
        "a/b: maxRedeem is not adopted: the apply resets it (no longer in the file: server default)"
    ]


def test_a_failed_check_puts_every_file_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a" / "b.yaml"
    path.parent.mkdir()
    original = b"# mine\nmaxCreate: 5\n"
    path.write_bytes(original)
    plan = Plan(
        environment="e", tool_version="0", created_at="now", desired_digest="d",
        series=(_series(FieldChange("maxCreate", 6, 5)),),
    )  # fmt: skip

    def refuse(**_: Any) -> None:
        assert path.read_bytes() == b"# mine\nmaxCreate: 6\n"  # written, then checked
        raise AdoptError("no")

    monkeypatch.setattr(adopt_service, "_check", refuse)
    with pytest.raises(AdoptError):
        adopt_plan(plan=plan, directory=tmp_path)
    assert path.read_bytes() == original
    assert not list(tmp_path.rglob("*.adopt-tmp"))


# --- environments and references -----------------------------------------------------------

PROD = Scope(name="production", others=("testing",))

WITH_BLOCK = """\
storeIdsJson: [101, 102]   # flagships
maxCreate: 500
reconciler:
  retire: false            # not yet
  environments:
    production:
      storeIdsJson: [201]  # production's
"""


def test_a_field_the_environments_block_sets_is_written_there() -> None:
    new = adopt_text(text=WITH_BLOCK, live={"storeIdsJson": "[201, 202]"}, fields=["storeIdsJson"],
                     scope=PROD)  # fmt: skip
    assert new == WITH_BLOCK.replace("[201]  #", "[201, 202] #")


def test_a_top_level_field_another_environment_reads_goes_into_the_block() -> None:
    new = adopt_text(text=WITH_BLOCK, live={"maxCreate": 600, "info": "x"},
                     fields=["maxCreate", "info"], scope=PROD)  # fmt: skip
    assert new == WITH_BLOCK + "      info: x\n      maxCreate: 600\n"
    assert placement(text=WITH_BLOCK, fields=["maxCreate"], scope=PROD) == {"maxCreate": BLOCK}


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("maxCreate: 5\n", "maxCreate: 5\nreconciler:\n  environments:\n    production:\n"
         "      maxCreate: 6\n"),
        ("maxCreate: 5\nreconciler:\n    retire: false # c\n# end\n",
         "maxCreate: 5\nreconciler:\n    retire: false # c\n    environments:\n      production:\n"
         "        maxCreate: 6\n# end\n"),
        ("maxCreate: 5\nreconciler:\n  environments:\n    testing:\n      maxCreate: 4",
         "maxCreate: 5\nreconciler:\n  environments:\n    testing:\n      maxCreate: 4\n"
         "    production:\n      maxCreate: 6\n"),
    ],
)  # fmt: skip
def test_the_block_is_made_as_far_as_it_is_missing(text: str, after: str) -> None:
    other = Scope(name="production", others=("testing", "staging"))
    assert adopt_text(text=text, live={"maxCreate": 6}, fields=["maxCreate"], scope=other) == after


def test_top_level_when_no_other_environment_reads_it() -> None:
    # testing sets its own in its block; staging is left out by only:.
    text = (
        "maxCreate: 5\nreconciler:\n  only: [production, testing]\n  environments:\n"
        "    testing:\n      maxCreate: 4\n"
    )
    scope = Scope(name="production", others=("testing", "staging"))
    new = adopt_text(text=text, live={"maxCreate": 6}, fields=["maxCreate"], scope=scope)
    assert new == text.replace("maxCreate: 5", "maxCreate: 6")
    # One environment only (or none named): the top level, as always.
    assert adopt_text(text="maxCreate: 5\n", live={"maxCreate": 6}, fields=["maxCreate"],
                      scope=Scope(name="production")) == "maxCreate: 6\n"  # fmt: skip


def test_a_field_from_the_environments_own_defaults_goes_into_its_block() -> None:
    scope = Scope(name="production", defaults=frozenset({"redeemAtStore"}))
    new = adopt_text(text="a: 1\n", live={"redeemAtStore": "[900]", "smsTemplate": "Hi"},
                     fields=["redeemAtStore", "smsTemplate"], scope=scope)  # fmt: skip
    # The global default's field: top level (no other environment reads it).
    assert new == (
        "a: 1\nsmsTemplate: Hi\nreconciler:\n  environments:\n    production:\n"
        "      redeemAtStore: [900]\n"
    )


def test_a_flow_block_is_refused_with_its_line() -> None:
    text = "a: 1\nreconciler: {retire: false}\n"
    with pytest.raises(AdoptError, match=r"f.yaml:2: reconciler: is not a block mapping"):
        adopt_text(text=text, live={"a": 2}, fields=["maxCreate"], scope=PROD, file="f.yaml")


KEYS = {5: "promo/base", 7: "promo/other"}


def refs(text: str, live: str) -> str:
    return adopt_text(text=text, live={"mutualExclusiveSeriesIds": live},
                      fields=["mutualExclusiveSeriesIds"], keys=KEYS)  # fmt: skip


def test_ids_of_the_folders_series_are_written_as_references() -> None:
    text = "m: 1\nmutualExclusiveSeriesIds:\n  - series: promo/base   # why\n  - 698948  # old\n"
    # A new id of a managed series: one line added, every other line kept.
    assert refs(text, "[698948, 5, 7]") == text + "  - series: promo/other\n"
    # One gone: its line goes.
    assert refs(text, "[5]") == "m: 1\nmutualExclusiveSeriesIds:\n  - series: promo/base   # why\n"
    # An id replaced by a reference, item for item.
    assert refs(text, "[5, 7]") == text.replace("698948  # old", "series: promo/other # old")
    # Other ids stay ids; a flow list stays flow; a JSON string becomes a flow list.
    assert refs("mutualExclusiveSeriesIds: [5]\n", "[5, 9]") == (
        "mutualExclusiveSeriesIds: [{series: promo/base}, 9]\n"
    )
    assert refs("mutualExclusiveSeriesIds: '[1]'\n", "[7]") == (
        "mutualExclusiveSeriesIds: [{series: promo/other}]\n"
    )
    assert refs("a: 1\n", "[7]") == "a: 1\nmutualExclusiveSeriesIds:\n  - series: promo/other\n"


def test_scope_of_the_settings() -> None:
    settings = Settings(
        environments={n: Environment(name=n) for n in ("testing", "production", "sandbox")},
        environment_defaults={"production": {"redeemAtStore": "[1]"}},
    )
    assert scope_of("production", settings) == Scope(
        name="production", others=("testing",), defaults=frozenset({"redeemAtStore"})
    )
    assert scope_of("x", None) == Scope(name="x")


def test_a_series_file_that_cannot_be_written_says_which_and_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """22.10: a full disk while adopting was an internal error."""

    def full(path: Path, data: bytes | str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(adopt_service, "write_atomic", full)
    target = tmp_path / "a.yaml"
    with pytest.raises(AdoptError) as caught:
        adopt_service._write(target, b"x: 1\n")
    assert str(caught.value) == (
        f"cannot write the series file {target}: No space left on device; the disk is full: "
        "free some space, then run the command again"
    )


# --- owns: all, for a series adopted for an existing file ------------------------------------


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("a: 1\n", "a: 1\nreconciler:\n  owns: all\n"),
        ("a: 1", "a: 1\nreconciler:\n  owns: all\n"),
        (
            "a: 1  # kept\nreconciler:\n    retire: false   # x\n\n# tail\n",
            "a: 1  # kept\nreconciler:\n    retire: false   # x\n    owns: all\n\n# tail\n",
        ),
        (
            "a: 1\r\nreconciler:\r\n  only: [t]\r\n",
            "a: 1\r\nreconciler:\r\n  only: [t]\r\n  owns: all\r\n",
        ),
    ],
)
def test_owning_all_adds_one_line_and_nothing_else(text: str, after: str) -> None:
    from reconciler.files.adopt import owning_all

    assert owning_all(text=text) == after
    assert yaml.safe_load(after)["reconciler"]["owns"] == "all"


def test_owning_all_leaves_a_files_own_choice() -> None:
    from reconciler.files.adopt import owning_all

    assert owning_all(text="a: 1\nreconciler:\n  owns: written\n") is None
    with pytest.raises(AdoptError, match="not a block mapping"):
        owning_all(text="a: 1\nreconciler: {retire: true}\n", file="x.yaml")


def test_drift_of_a_held_default_is_adopted_a_reset_is_not() -> None:
    from reconciler.engine.ownership import HELD_NOTE, RESET_NOTE

    series = SeriesPlan(
        key="k",
        file="series/k.yaml",
        action=Action.UPDATE,
        series_id=1,
        changes=(
            FieldChange("maxRedeem", 500, -1, note=RESET_NOTE),
            FieldChange("maxVouchersPerUser", 3, -1, note=HELD_NOTE),
        ),
    )
    fields, notes = adoptable(series)
    assert fields == ["maxVouchersPerUser"]
    assert [n.split(":")[1].strip().split(" ")[0] for n in notes] == ["maxRedeem"]
