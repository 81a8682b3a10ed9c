"""References by key (``{series: KEY}``) and per-environment values: loading, validation,
resolution, the plan, the create order."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from reconciler.engine.order import CreateOrder
from reconciler.engine.plan import Action, SeriesPlan
from reconciler.engine.state import State
from reconciler.files.importer import file_fields
from reconciler.files.loader import load_series
from reconciler.model.desired import DesiredSeries, Reference
from reconciler.model.references import (
    check_references,
    dependencies,
    fill,
    placeholder,
    resolve,
    waiting_on,
)
from tests.test_planner import BASE, NOW, FakeReader, live, write


def series(key: str, *refs: str, ids: tuple[int, ...] = ()) -> DesiredSeries:
    items = (*ids, *(Reference(r, f"{key}.yaml", 3, 5) for r in refs))
    return DesiredSeries(
        key=key,
        file=f"{key}.yaml",
        fields={"mutualExclusiveSeriesIds": "[]"},
        declared=frozenset({"mutualExclusiveSeriesIds"}),
        references={"mutualExclusiveSeriesIds": items} if items else {},
    )


def refs(key: str, *names: str) -> str:
    text = BASE.format(description=key, code=key.upper().replace("/", ""))
    return text + "mutualExclusiveSeriesIds:\n" + "".join(f"  - series: {n}\n" for n in names)


def plan_of(directory: Path, state: State, reader: FakeReader) -> object:
    from reconciler.engine.planner import build_plan

    loaded = load_series(directory)
    assert loaded.ok, loaded.problems
    return asyncio.run(build_plan(loaded=loaded, state=state, client=reader, now=NOW))


# --- pure ------------------------------------------------------------------------------------


def test_resolve_fills_known_ids_and_leaves_placeholders_for_creates() -> None:
    one = series("a", "b", "c", ids=(5,))
    resolved = resolve(one, {"b": 42})
    value = resolved.series.fields["mutualExclusiveSeriesIds"]
    assert json.loads(value) == [5, 42, placeholder("c")]
    assert resolved.waiting == ("c",)
    assert "mutualExclusiveSeriesIds: b is id 42" in resolved.notes
    assert waiting_on(value) == ("c",)
    filled, missing = fill(resolved.series.fields, {"c": 7})
    assert json.loads(filled["mutualExclusiveSeriesIds"]) == [5, 42, 7] and missing == []
    _, missing = fill(resolved.series.fields, {})
    assert missing == ["c"]


def test_unknown_keys_cycles_and_keys_left_out_are_problems_at_the_reference() -> None:
    found = check_references(
        [series("a", "b"), series("b", "a"), series("c", "c"), series("d", "summer/nope")],
        folder_keys={"a", "b", "c", "d", "e", "summer/note"},
    )
    messages = sorted(p.message for p in found)
    assert any("a → b → a" in m for m in messages)
    assert sum("a → b → a" in m for m in messages) == 2  # once at each reference of the cycle
    assert any("names this series itself" in m for m in messages)
    assert any("'summer/nope'" in m and "did you mean summer/note?" in m for m in messages)
    assert all((p.line, p.column) == (3, 5) for p in found)
    left = check_references(
        [series("a", "e")], folder_keys={"a", "e"}, left_out={"e"}, environment="production"
    )
    assert len(left) == 1 and "not in environment 'production'" in left[0].message
    # A key whose file is in the folder but has errors is not "unknown" (reported there).
    assert not check_references([series("a", "e")], folder_keys={"a", "e"})


def test_the_create_order_waits_only_for_creates_of_the_same_apply() -> None:
    def item(key: str, action: Action, *waits: str) -> SeriesPlan:
        value = json.dumps([placeholder(k) for k in waits])
        return SeriesPlan(key, f"{key}.yaml", action, desired={"mutualExclusiveSeriesIds": value})

    work = [
        item("a", Action.CREATE, "b"),
        item("b", Action.CREATE),
        item("c", Action.UPDATE, "b", "x"),  # x: not created here
        item("p", Action.CREATE, "q"),  # a hand-made cycle: never waits for ever
        item("q", Action.CREATE, "p"),
    ]
    assert dependencies({w.key: w.desired for w in work})["c"] == ("b", "x")
    order = CreateOrder.of(work)
    assert order.waits == {"a": ("b",), "c": ("b",)}

    async def run() -> list[str]:
        done: list[str] = []

        async def one(key: str) -> None:
            await order.ready(key)
            done.append(key)
            order.done(key)

        await asyncio.wait_for(asyncio.gather(*(one(w.key) for w in work)), 5)
        return done

    done = asyncio.run(run())
    assert done.index("b") < done.index("a") and done.index("b") < done.index("c")


# --- loading ---------------------------------------------------------------------------------

SETTINGS = """\
environments:
  testing: {}
  production:
    defaults:
      redeemAtStore: [900]
"""


def test_per_environment_values_and_only_resolve_per_environment(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text(SETTINGS)
    write(
        tmp_path,
        "stores",
        BASE.format(description="S", code="S1")
        + "storeIdsJson: [1]\nreconciler:\n  environments:\n    production:\n"
        "      storeIdsJson: [2, 3]\n",
    )
    write(
        tmp_path,
        "trial",
        BASE.format(description="T", code="T1") + "reconciler:\n  only: [testing]\n",
    )
    loaded = load_series(tmp_path)
    assert loaded.ok, loaded.problems
    testing, production = loaded.for_environment("testing"), loaded.for_environment("production")
    assert [s.key for s in testing.series] == ["stores", "trial"]
    assert [s.key for s in production.series] == ["stores"]
    assert production.left_out == {"trial"}
    [t_stores, _] = testing.series
    [p_stores] = production.series
    assert t_stores.fields["storeIdsJson"] == "[1]" and "redeemAtStore" not in t_stores.declared
    assert p_stores.fields["storeIdsJson"] == "[2, 3]"
    assert p_stores.fields["redeemAtStore"] == "[900]"


def test_a_problem_in_one_environment_names_it_and_points_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text(SETTINGS)
    write(
        tmp_path,
        "x",
        BASE.format(description="X", code="X1")
        + "reconciler:\n  environments:\n    production:\n      discountType: PERCENT\n",
    )
    write(tmp_path, "y", refs("y", "x"))
    write(tmp_path, "x2", BASE.format(description="X2", code="X1"))  # same code: everywhere
    loaded = load_series(tmp_path)
    shown = [str(p) for p in loaded.problems]
    [wrong] = [s for s in shown if "discountType" in s]
    assert "x.yaml:13:" in wrong and "in environment 'production'" in wrong, shown
    dup = [s for s in shown if "also used by" in s]
    assert dup and not any("in environment" in s for s in dup)  # the same in both: said once


def test_a_series_limited_out_is_named_by_a_series_that_is_not(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text(SETTINGS)
    write(
        tmp_path,
        "trial",
        BASE.format(description="T", code="T1") + "reconciler:\n  only: testing\n",
    )
    write(tmp_path, "main", refs("main", "trial"))
    loaded = load_series(tmp_path)
    [problem] = [p for p in loaded.problems if p.is_error]
    assert problem.message.startswith("in environment 'production': mutualExclusiveSeriesIds")
    assert problem.file.endswith("main.yaml") and problem.line == 11


def test_a_malformed_reference_is_an_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a",
        BASE.format(description="A", code="A1")
        + "mutualExclusiveSeriesIds:\n  - {series: b, id: 3}\n  - key:b\n",
    )
    shown = [str(p) for p in load_series(tmp_path).problems]
    assert any(":11:" in s and "{series: KEY}" in s for s in shown), shown
    assert any(":12:" in s and "not an id" in s for s in shown), shown


# --- planning --------------------------------------------------------------------------------


def test_the_plan_resolves_keys_to_this_environments_ids(tmp_path: Path) -> None:
    write(tmp_path, "base", BASE.format(description="Base", code="B1"))
    write(tmp_path, "ref", refs("ref", "base"))
    reader = FakeReader(
        {
            10: live("Base", "B1", id=10),
            11: live("ref", "REF", id=11, mutualExclusiveSeriesIds="[10]"),
        }
    )
    plan = plan_of(tmp_path, State("prod", ids={"base": 10, "ref": 11}), reader)
    actions = {s.key: s.action for s in plan.series}  # type: ignore[attr-defined]
    assert actions == {"base": Action.UNCHANGED, "ref": Action.UNCHANGED}
    # The other org: other ids, and the reference follows them.
    other = FakeReader(
        {
            70: live("Base", "B1", id=70),
            71: live("ref", "REF", id=71, mutualExclusiveSeriesIds="[10]"),
        }
    )
    plan = plan_of(tmp_path, State("test", ids={"base": 70, "ref": 71}), other)
    [update] = [s for s in plan.series if s.action is Action.UPDATE]  # type: ignore[attr-defined]
    [change] = update.changes
    assert (change.before, change.after) == ([10], [70])
    assert "mutualExclusiveSeriesIds: base is id 70" in update.notes


def test_a_reference_to_a_blocked_series_blocks_the_referring_one(tmp_path: Path) -> None:
    write(tmp_path, "base", BASE.format(description="Base", code="B1"))
    write(tmp_path, "ref", refs("ref", "base"))
    reader = FakeReader({5: live("By hand", "B1", id=5, seriesCode="HANDMADE")})
    plan = plan_of(tmp_path, State("prod"), reader)
    blocked = {b.key: b.reason for b in plan.blocked}  # type: ignore[attr-defined]
    assert set(blocked) == {"base", "ref"}
    assert "base is blocked itself" in blocked["ref"]
    assert not plan.series  # type: ignore[attr-defined]


def test_import_writes_keys_for_ids_the_folder_manages() -> None:
    got = file_fields(
        live={"mutualExclusiveSeriesIds": "[10, 99]", "description": "x"},
        defaults={},
        keys={10: "summer/base"},
    )
    assert got["mutualExclusiveSeriesIds"] == [{"series": "summer/base"}, 99]


def test_a_target_naming_a_series_not_made_yet_outside_the_target_is_blocked(
    tmp_path: Path,
) -> None:
    from reconciler.engine.planner import build_plan

    write(tmp_path, "base", BASE.format(description="Base", code="B1"))
    write(tmp_path, "ref", refs("ref", "base"))
    loaded = load_series(tmp_path)
    plan = asyncio.run(
        build_plan(
            loaded=loaded, state=State("prod"), client=FakeReader({}), targets=["ref"], now=NOW
        )
    )
    [blocked] = plan.blocked
    assert blocked.key == "ref" and "outside --target" in blocked.reason
    # With the referenced series in the target too, both are planned, the id filled later.
    plan = asyncio.run(
        build_plan(
            loaded=loaded,
            state=State("prod"),
            client=FakeReader({}),
            targets=["ref", "base"],
            now=NOW,
        )
    )
    ref = next(s for s in plan.series if s.key == "ref")
    assert ref.action is Action.CREATE
    assert json.loads(ref.desired["mutualExclusiveSeriesIds"]) == ["series:base"]
