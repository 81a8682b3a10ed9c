"""`reconciler plan` through the CLI against the sandbox, with golden outputs."""

from __future__ import annotations

import json

from tests.scenarios.conftest import World, check_golden, series_text

FORMATS = {"text": "txt", "markdown": "md", "json": "json"}


def plan_golden(world: World, name: str, *extra: str, code: int = 0) -> None:
    for fmt, suffix in FORMATS.items():
        result = world.cli("plan", "--env", "local", "--format", fmt, *extra)
        assert result.exit_code == code, result.output
        check_golden(f"{name}.{suffix}", result.stdout)


def applied(world: World) -> None:
    # One call at a time, so the sandbox hands out ids in key order and goldens stay stable.
    result = world.cli("apply", "--env", "local", "--auto-approve", "--parallelism", "1")
    assert result.exit_code == 0, result.output


def test_create(world: World) -> None:
    world.write("summer/sale-10", series_text("Summer sale 10", "SALE10"))
    plan_golden(world, "create", "--detailed-exitcode", code=2)


def test_update_of_one_field(world: World) -> None:
    world.write("summer/sale-10", series_text("Summer sale 10", "SALE10"))
    applied(world)
    world.write("summer/sale-10", series_text("Summer sale 10", "SALE10", value=150))
    plan_golden(world, "update", "--detailed-exitcode", code=2)


def test_unchanged(world: World) -> None:
    world.write("summer/sale-10", series_text("Summer sale 10", "SALE10"))
    applied(world)
    plan_golden(world, "unchanged", "--detailed-exitcode", code=0)


def test_drift_made_behind_our_back(world: World) -> None:
    world.write("summer/sale-10", series_text("Summer sale 10", "SALE10"))
    applied(world)
    series_id = world.state()["ids"]["summer/sale-10"]
    world.sandbox.edit_series(series_id, {"description": "Edited in the CRM", "info": "not ours"})
    plan_golden(world, "drift", "--detailed-exitcode", code=2)


def test_orphan(world: World) -> None:
    world.write("a/kept", series_text("Kept", "KEPT"))
    world.write("a/dropped", series_text("Dropped", "DROPPED"))
    applied(world)
    world.remove("a/dropped")
    plan_golden(world, "orphan", "--detailed-exitcode", code=0)


def test_a_missing_id_blocks_its_key_naming_the_id_and_the_fix(world: World) -> None:
    world.write("a/ghost", series_text("Ghost", "GHOST"))
    state = world.series / ".state" / "local.json"
    state.parent.mkdir()
    state.write_text(
        json.dumps({"format_version": 1, "environment": "local", "ids": {"a/ghost": 4242}})
    )
    result = world.cli("plan", "--env", "local", "--detailed-exitcode")
    assert result.exit_code == 2  # blocked: something for a person to resolve
    assert "records id 4242" in result.stdout and "no such series" in result.stdout
    assert "reconciler state rm a/ghost --env local" in result.stdout
    assert "Traceback" not in result.output
    applied = world.cli("apply", "--env", "local", "--auto-approve")
    assert applied.exit_code == 1
    assert world.codes() == ["XYZ1w23", "Xjj123"]  # nothing was created


def test_rename_is_a_likely_move_not_a_second_series(world: World) -> None:
    world.write("old/name", series_text("Moving", "MOVE1"))
    applied(world)
    world.remove("old/name")
    world.write("new/name", series_text("Moving", "MOVE1"))
    plan_golden(world, "rename", "--detailed-exitcode", code=2)
    result = world.cli("apply", "--env", "local", "--auto-approve")
    assert result.exit_code == 1  # the move is left to a person
    assert world.codes().count("MOVE1") == 1
    assert world.cli("state", "mv", "old/name", "new/name", "--env", "local").exit_code == 0
    assert world.cli("plan", "--env", "local", "--detailed-exitcode").exit_code == 0


def test_ignore_rules(world: World) -> None:
    rule = (
        "reconciler:\n  ignore:\n"
        "    - field: description\n      reason: marketing edits it in the CRM\n"
    )
    world.write("a/ignored", series_text("Ours", "IGN1", extra=rule))
    applied(world)
    world.sandbox.edit_series(world.state()["ids"]["a/ignored"], {"description": "Theirs"})
    plan_golden(world, "ignore", "--detailed-exitcode", code=0)


def test_target(world: World) -> None:
    world.write("a/one", series_text("One", "ONE"))
    world.write("a/two", series_text("Two", "TWO"))
    plan_golden(world, "target", "--target", "a/two")


def test_saved_plan_and_show(world: World) -> None:
    world.write("a/one", series_text("One", "ONE"))
    out = world.root / "plan.json"
    result = world.cli("plan", "--env", "local", "--out", str(out))
    assert result.exit_code == 0, result.output
    saved = json.loads(out.read_text())
    assert saved["format_version"] == 1 and saved["environment"] == "local"
    assert "sandbox-password" not in out.read_text()
    for fmt, suffix in FORMATS.items():
        shown = world.cli("show", str(out), "--format", fmt)
        assert shown.exit_code == 0, shown.output
        check_golden(f"show.{suffix}", shown.stdout)
        again = world.cli("plan", "--env", "local", "--format", fmt)
        assert (
            shown.stdout
            == again.stdout.replace(
                json.loads(again.stdout)["created_at"] if fmt == "json" else "\0",
                saved["created_at"],
            )
            or fmt != "json"
        )


def test_invalid_files_stop_before_any_call(world: World) -> None:
    world.write("a/bad", "discountValeu: 10\n")
    result = world.cli("plan", "--env", "local")
    assert result.exit_code == 1
    assert "did you mean discountValue" in result.stderr
    assert "series/a/bad.yaml:1:1" in result.stderr


def test_validate_github_annotations(world: World) -> None:
    world.write("a/bad", series_text("Bad", "BAD") + "discountValeu: 10\n")
    result = world.cli("validate", "--format", "github")
    assert result.exit_code == 1
    assert (
        "::error file=series/a/bad.yaml,line=9,col=1,title=reconciler::"
        "unknown field 'discountValeu': did you mean discountValue?" in result.stdout
    )
