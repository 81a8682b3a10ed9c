"""Nothing a branch can edit decides which series is written: a poisoned state, a lying create
answer, an unfinished create beside an older series. Each against the sandbox over loopback
HTTP, behind a door that counts writes (``conftest.guarded``).

The state lives on a branch anyone with push access can write. Pointed at another team's
series, swapped, or pointed at another key's series (by the state file or by a journal line),
the keys are blocked with the command that fixes them: 0 foreign writes, 0 duplicates. A POST
answered with another series' id, 0, -5, 2^63 or a string records nothing, touches nothing,
and the next run converges without a second series.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.engine.state import load_state
from tests.scenarios.conftest import Guarded, series_body, series_text


def ok(world: Guarded, *args: str) -> str:
    result = world.cli(*args)
    assert result.exit_code == 0, result.output
    return result.output


def managed(world: Guarded) -> tuple[dict[str, int], int]:
    """Three managed series and another team's series; their ids."""
    for name, code in (("one", "ONE"), ("two", "TWO"), ("three", "THREE")):
        world.write(f"a/{name}", series_text(name.title(), code))
    ok(world, "apply", "--env", "local", "--auto-approve")
    theirs = world.sandbox.create(series_body("Another team's", "THEIRS"))["id"]
    return dict(world.state()["ids"]), int(theirs)


def poison_file(world: Guarded, ids: dict[str, int]) -> None:
    path = world.series / ".state" / "local.json"
    data = json.loads(path.read_text())
    data["ids"] = ids
    path.write_text(json.dumps(data))


def poison_journal(world: Guarded, ids: dict[str, int]) -> None:
    path = world.series / ".state" / "local.journal"
    lines = [json.dumps({"op": "id", "key": k, "id": v}) for k, v in ids.items()]
    with path.open("a") as journal:
        journal.write("\n".join(lines) + "\n")


def snapshot(world: Guarded) -> dict[int, dict[str, Any]]:
    return {int(s["id"]): dict(s) for s in world.sandbox.all_series()}


def poisoned(ids: dict[str, int], theirs: int, how: str) -> dict[str, int]:
    if how == "another team's series":
        return {**ids, "a/one": theirs}
    if how == "two keys swapped":
        return {**ids, "a/one": ids["a/two"], "a/two": ids["a/one"]}
    # another key's series: a/three's record now names a/one's series (a/one forgotten)
    return {"a/two": ids["a/two"], "a/three": ids["a/one"]}


BLOCKED = {
    "another team's series": ["a/one"],
    "two keys swapped": ["a/one", "a/two"],
    "another key's series": ["a/three"],
}


@pytest.mark.parametrize("how", sorted(BLOCKED))
@pytest.mark.parametrize("where", ["state file", "journal line"])
def test_a_poisoned_state_blocks_the_keys_with_the_fix_and_writes_nothing(
    guarded: Guarded, how: str, where: str
) -> None:
    ids, theirs = managed(guarded)
    values = {"a/one": 321, "a/two": 322, "a/three": 323}
    for key, value in values.items():  # every file changes: each would be an update
        name = key.split("/")[1]
        guarded.write(key, series_text(name.title(), name.upper(), value=value))
    bad = poisoned(ids, theirs, how)
    if where == "state file":
        poison_file(guarded, bad)
    else:
        poison_journal(guarded, {k: v for k, v in bad.items() if ids.get(k) != v})
    before = snapshot(guarded)
    guarded.door.reset_counts()

    plan = json.loads(ok(guarded, "plan", "--env", "local", "--format", "json"))
    blocked = {b["key"]: b["reason"] for b in plan["blocked"]}
    assert sorted(blocked) == BLOCKED[how], plan["blocked"]
    for key, reason in blocked.items():
        assert f"`reconciler state rm {key} --env local`" in reason, reason
        assert "nothing is written to series" in reason

    result = guarded.cli("apply", "--env", "local", "--auto-approve")
    assert result.exit_code == 1, result.output  # blocked keys: not converged
    after = snapshot(guarded)
    assert after[theirs] == before[theirs]  # 0 foreign writes
    for key, sid in ids.items():  # each series holds its own key's values, old or new
        assert after[sid]["discountValue"] in (100, values[key]), (key, after[sid])
        assert after[sid]["description"] == before[sid]["description"]
    for key in BLOCKED[how]:
        assert after[bad[key]]["discountValue"] != values[key], key
    assert guarded.door.calls["POST"] == 0  # 0 duplicates
    assert sorted(guarded.codes()) == sorted(["ONE", "TWO", "THREE", "THEIRS", *SEEDED])

    # The fix the plan names, then the plan converges with no second series. (A key whose
    # wrong id another key proved its own by its marker lost that id in the apply already.)
    for key in BLOCKED[how]:
        if key in guarded.state()["ids"]:
            ok(guarded, "state", "rm", key, "--env", "local")
    ok(guarded, "apply", "--env", "local", "--auto-approve")
    assert guarded.cli("plan", "--env", "local", "--detailed-exitcode").exit_code == 0
    assert snapshot(guarded)[theirs] == before[theirs]
    assert sorted(guarded.codes()) == sorted(["ONE", "TWO", "THREE", "THEIRS", *SEEDED])


SEEDED: list[str] = []


@pytest.fixture(autouse=True)
def seeded_codes(guarded: Guarded) -> None:
    SEEDED[:] = guarded.codes()


def test_an_untouched_state_plans_as_before(guarded: Guarded) -> None:
    managed(guarded)
    guarded.door.reset_counts()
    plan = json.loads(ok(guarded, "plan", "--env", "local", "--format", "json"))
    assert plan["blocked"] == [] and plan["counts"]["unchanged"] == 3
    assert guarded.door.writes == 0


@pytest.mark.parametrize("lie", ["another series", 0, -5, 2**63, "12ab"])
def test_a_create_answered_with_a_lie_touches_nothing_and_the_rerun_converges(
    guarded: Guarded, lie: Any
) -> None:
    _ids, theirs = managed(guarded)
    guarded.write("b/new", series_text("New", "NEW"))
    guarded.door.post_answer_id = theirs if lie == "another series" else lie
    before = snapshot(guarded)
    guarded.door.reset_counts()

    result = guarded.cli("apply", "--env", "local", "--auto-approve")

    assert result.exit_code == 1, result.output
    assert "outcome is unknown" in result.output or "may exist" in result.output, result.output
    assert guarded.door.calls["PUT"] == 0  # no marker written anywhere
    assert snapshot(guarded)[theirs] == before[theirs]
    state = load_state(guarded.series / ".state" / "local.json", environment="local")
    assert "b/new" not in state.ids and state.intents["b/new"].status.value == "ambiguous"

    guarded.door.post_answer_id = None
    ok(guarded, "apply", "--env", "local", "--auto-approve")
    assert guarded.codes().count("NEW") == 1
    assert guarded.cli("plan", "--env", "local", "--detailed-exitcode").exit_code == 0
    assert snapshot(guarded)[theirs] == before[theirs]
    assert guarded.door.calls["POST"] == 1  # the one create; the rerun adopted its series


def test_an_unfinished_create_next_to_an_older_series_is_blocked_not_adopted(
    guarded: Guarded,
) -> None:
    older = guarded.sandbox.create(series_body("Made by hand", "GOLD1234"))["id"]
    guarded.write("gold", series_text("Gold", "GOLD1234"))
    # An intent of an earlier version (no list recorded with it), started just after the
    # series was made: its creation time cannot tell the two apart.
    journal = guarded.series / ".state" / "local.journal"
    journal.parent.mkdir(parents=True, exist_ok=True)
    started = str(guarded.sandbox.get_series(older)["createdOn"])  # type: ignore[index]
    journal.write_text(
        json.dumps(
            {
                "op": "intent",
                "key": "gold",
                "status": "ambiguous",
                "started_at": started,
                "discount_code": "GOLD1234",
            }
        )
        + "\n"
    )
    before = snapshot(guarded)[older]
    guarded.door.reset_counts()

    plan = json.loads(ok(guarded, "plan", "--env", "local", "--format", "json"))
    assert [b["key"] for b in plan["blocked"]] == ["gold"]
    assert f"{older}" in plan["blocked"][0]["reason"]
    result = guarded.cli("apply", "--env", "local", "--auto-approve")
    assert result.exit_code == 1
    assert guarded.door.writes == 0
    assert snapshot(guarded)[older] == before
    assert (
        "gold" not in load_state(guarded.series / ".state" / "local.json", environment="local").ids
    )


def test_distinct_from_creates_beside_a_series_of_the_same_discount_code(
    guarded: Guarded,
) -> None:
    older = guarded.sandbox.create(series_body("Theirs", "gold1234"))["id"]
    guarded.write("gold", series_text("Gold", "gold1234"))
    plan = json.loads(ok(guarded, "plan", "--env", "local", "--format", "json"))
    assert [b["key"] for b in plan["blocked"]] == ["gold"]
    assert "distinct_from" in plan["blocked"][0]["reason"]

    guarded.write(
        "gold", series_text("Gold", "gold1234", extra=f"reconciler:\n  distinct_from: [{older}]\n")
    )
    before = snapshot(guarded)[older]
    ok(guarded, "apply", "--env", "local", "--auto-approve")
    assert guarded.codes().count("gold1234") == 2
    assert snapshot(guarded)[older] == before
    # Identity now rests on the marker: a lost state finds the new series, not the old one.
    (guarded.series / ".state" / "local.json").unlink()
    assert guarded.cli("plan", "--env", "local", "--detailed-exitcode").exit_code == 0
