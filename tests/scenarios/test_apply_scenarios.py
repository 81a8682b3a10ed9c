"""`reconciler apply` end to end over loopback HTTP, failures included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler import service
from reconciler.engine.plan import Plan
from reconciler.engine.result import Outcome
from tests.scenarios.conftest import World, series_text


def apply(world: World, *extra: str) -> tuple[int, str]:
    result = world.cli("apply", "--env", "local", "--auto-approve", *extra)
    return result.exit_code, result.output


def plan_exit(world: World) -> int:
    return world.cli("plan", "--env", "local", "--detailed-exitcode").exit_code


def test_create_update_and_mixed_then_converged(world: World) -> None:
    world.write("a/one", series_text("One", "ONE"))
    world.write(
        "a/two",
        series_text("Two", "TWO", extra="redemptionRange: {dom: [1, 15], dow: [1], hours: [-1]}\n"),
    )
    code, out = apply(world)
    assert code == 0, out
    assert "Converged" in out
    ids = world.state()["ids"]
    assert set(ids) == {"a/one", "a/two"} and all(isinstance(i, int) for i in ids.values())
    assert plan_exit(world) == 0
    # Mixed: one update, one create.
    world.write("a/one", series_text("One, better", "ONE", value=120))
    world.write("b/three", series_text("Three", "THREE"))
    code, out = apply(world)
    assert code == 0, out
    assert plan_exit(world) == 0
    assert world.codes().count("ONE") == 1 and "THREE" in world.codes()


def test_a_put_resets_nothing_the_files_do_not_declare(world: World) -> None:
    world.write("a/one", series_text("One", "ONE"))
    assert apply(world)[0] == 0
    sid = world.state()["ids"]["a/one"]
    world.sandbox.edit_series(sid, {"info": "kept by the CRM team", "maxCreate": 777, "tag": "crm"})
    world.write("a/one", series_text("One", "ONE", value=300))
    assert apply(world)[0] == 0
    live = world.sandbox.get_series(sid)
    assert live is not None
    assert (live["info"], live["maxCreate"], live["tag"], live["discountValue"]) == (
        "kept by the CRM team",
        777,
        "crm",
        300,
    )


def test_other_time_zones_friendly_forms_and_defaults_converge(world: World) -> None:
    extra = (
        "redemptionValidFrom: 2030-01-01T05:30:00+05:30\n"
        "mutualExclusiveSeriesIds: [698948, 520591]\n"
        "storeIdsJson: '[-1]'\n"
        'redemptionRange: \'{"dom":["-1"],"dow":["-1"],"hours":["-1"]}\'\n'
        "customPropertyMap: {standard_terms_and_conditions: T&C}\n"
        "productInfo:\n  - productType: SKU\n    productIds: [40, 30]\n"
    )
    text = series_text("Zones", "ZONE", extra=extra).replace(
        "2030-09-30T00:00:00Z", "2030-09-30T23:00:00-07:00"
    )
    world.write("a/zones", text)
    assert apply(world)[0] == 0
    assert plan_exit(world) == 0


def test_saved_plan_is_applied_exactly_and_refused_when_stale(world: World) -> None:
    world.write("a/one", series_text("One", "ONE"))
    assert apply(world)[0] == 0
    world.write("a/one", series_text("One", "ONE", value=200))
    plan_file = world.root / "plan.json"
    assert world.cli("plan", "--env", "local", "--out", str(plan_file)).exit_code == 0
    # A change in the CRM since the plan: refused, saying what moved.
    sid = world.state()["ids"]["a/one"]
    world.sandbox.edit_series(sid, {"description": "edited"})
    result = world.cli("apply", str(plan_file), "--env", "local")
    assert result.exit_code == 1
    assert "changed in the CRM since the plan" in result.stderr
    # A fresh plan applies without a prompt.
    assert world.cli("plan", "--env", "local", "--out", str(plan_file)).exit_code == 0
    world.write("b/new", series_text("New", "NEW"))
    result = world.cli("apply", str(plan_file), "--env", "local")
    assert result.exit_code == 1 and "files or the settings changed" in result.stderr
    world.remove("b/new")
    result = world.cli("apply", str(plan_file), "--env", "local")
    assert result.exit_code == 0, result.output
    assert plan_exit(world) == 0


def test_a_saved_plan_is_refused_when_an_unchanged_series_changed_in_the_crm(
    world: World,
) -> None:
    # The digest of an unchanged series is computed only when the plan is kept: a saved plan
    # must still carry it, or a reviewed "no change" would be applied over a new edit.
    world.write("a/one", series_text("One", "ONE"))
    world.write("a/two", series_text("Two", "TWO"))
    assert apply(world)[0] == 0
    world.write("a/one", series_text("One", "ONE", value=200))
    plan_file = world.root / "plan.json"
    assert world.cli("plan", "--env", "local", "--out", str(plan_file)).exit_code == 0
    world.sandbox.edit_series(world.state()["ids"]["a/two"], {"description": "edited"})
    result = world.cli("apply", str(plan_file), "--env", "local")
    assert result.exit_code == 1
    assert "a/two" in result.stderr and "changed in the CRM since the plan" in result.stderr


def test_check_and_set_skips_a_series_changed_between_plan_and_put(world: World) -> None:
    world.write("a/one", series_text("One", "ONE"))
    assert apply(world)[0] == 0
    sid = world.state()["ids"]["a/one"]
    world.write("a/one", series_text("One", "ONE", value=999))

    def confirm_while_someone_edits(_plan: Plan) -> bool:
        world.sandbox.edit_series(sid, {"discountValue": 5})
        return True

    result = service.apply(
        service.ApplyRequest(directory=world.series, env="local"),
        confirm=confirm_while_someone_edits,
    )
    assert result is not None
    (outcome,) = result.outcomes
    assert outcome.outcome is Outcome.SKIPPED and "changed in the CRM" in outcome.message
    live = world.sandbox.get_series(sid)
    assert live is not None and live["discountValue"] == 5


def test_503_and_reset_on_reads_and_updates_are_retried(world: World) -> None:
    world.write("a/one", series_text("One", "ONE"))
    assert apply(world)[0] == 0
    world.write("a/one", series_text("One", "ONE", value=111))
    world.sandbox.fail_next_call("503", method="GET")
    world.sandbox.fail_next_call("reset", method="GET")
    world.sandbox.fail_next_call("503", method="PUT")
    world.sandbox.fail_next_call("reset", method="PUT")
    code, out = apply(world)
    assert code == 0, out
    assert plan_exit(world) == 0


@pytest.mark.parametrize("mode", ["503", "503_after"])
def test_503_on_create_is_ambiguous_never_a_duplicate(world: World, mode: str) -> None:
    """A 503 does not prove the server did not act (503_after: it did): never resent."""
    world.write("a/one", series_text("One", "ONE"))
    world.sandbox.fail_next_call(mode, method="POST")
    code, out = apply(world)
    assert code == 1 and "ambiguous" in out, out
    made = 1 if mode == "503_after" else 0
    assert world.codes().count("ONE") == made
    code, out = apply(world)  # looks in the CRM for what the first POST made, first
    assert code == 0, out
    assert world.codes().count("ONE") == 1  # adopted (503_after), or sent again once settled
    if made:
        assert "made by an earlier create whose answer was lost" in out, out
    else:
        assert "made no series in 2s: creating it again" in out, out


def test_post_timing_out_after_the_server_created_leads_to_no_duplicate(world: World) -> None:
    world.write("a/one", series_text("One", "ONE"))
    world.sandbox.fail_next_call("timeout_after", method="POST")
    code, out = apply(world)
    assert code == 1
    assert "ambiguous" in out
    assert world.state()["intents"]["a/one"]["status"] == "ambiguous"
    assert world.codes().count("ONE") == 1
    # The next apply finds the series the lost POST made and adopts it (and sets its marker).
    code, out = apply(world)
    assert code == 0, out
    assert "made by an earlier create whose answer was lost" in out
    assert world.codes().count("ONE") == 1
    assert plan_exit(world) == 0


@pytest.mark.parametrize("mode", ["timeout_before", "reset"])
def test_an_ambiguous_create_that_made_nothing_is_sent_again_only_after_it_settled(
    world: World, mode: str
) -> None:
    world.write("a/one", series_text("One", "ONE"))
    world.sandbox.fail_next_call(mode, method="POST")
    code, out = apply(world)
    assert code == 1
    assert "state clear-intent a/one" in out  # a person may decide sooner
    assert "ONE" not in world.codes()
    # The rerun looks, waits out the settle time (2 s here, minutes by default), looks again.
    code, out = apply(world)
    assert code == 0, out
    assert "made no series in 2s: creating it again" in out
    assert world.codes().count("ONE") == 1


def test_a_person_can_clear_an_ambiguous_create_after_checking_the_crm(world: World) -> None:
    world.write("a/one", series_text("One", "ONE"))
    world.sandbox.fail_next_call("reset", method="POST")
    assert apply(world)[0] == 1
    assert world.cli("state", "clear-intent", "a/one", "--env", "local").exit_code == 0
    assert apply(world)[0] == 0
    assert world.codes().count("ONE") == 1


def test_import_the_id_an_ambiguous_create_got(world: World) -> None:
    world.write("a/one", series_text("One", "ONE"))
    world.sandbox.fail_next_call("timeout_after", method="POST")
    assert apply(world)[0] == 1
    (made,) = [s["id"] for s in world.sandbox.all_series() if s["discountCode"] == "ONE"]
    result = world.cli("import", str(made), "--key", "a/one", "--env", "local")
    assert result.exit_code == 0, result.output
    assert world.state()["ids"]["a/one"] == made and not world.state()["intents"]
    assert plan_exit(world) == 0


def test_one_failure_does_not_stop_the_others(world: World) -> None:
    world.write("a/good", series_text("Good", "GOOD"))
    world.write("a/bad", series_text("Bad", "BAD"))
    assert apply(world)[0] == 0
    world.sandbox.set_issued(world.state()["ids"]["a/bad"], 50)
    world.write("a/bad", series_text("Bad", "BAD", extra="maxCreate: 10\n"))
    world.write("a/good", series_text("Good", "GOOD", value=5))
    code, out = apply(world)
    assert code == 1 and "below the 50 coupons already issued" in out  # the safety rail
    code, out = apply(world, "--force", "--format", "json")
    assert code == 1
    data = json.loads(out[out.index("{") :])
    outcomes = {o["key"]: o for o in data["outcomes"]}
    assert outcomes["a/good"]["outcome"] == "done"
    assert outcomes["a/bad"]["outcome"] == "failed" and outcomes["a/bad"]["status"]
    assert data["forced"]


def test_no_terminal_and_no_auto_approve_refuses(world: World) -> None:
    world.write("a/one", series_text("One", "ONE"))
    result = world.cli("apply", "--env", "local")
    assert result.exit_code == 1 and "--auto-approve" in result.stderr
    assert "ONE" not in world.codes()


def test_seriescode_declared_is_set_after_the_create(world: World) -> None:
    world.write("a/coded", series_text("Coded", "CODED", extra="seriesCode: SUMMER2030\n"))
    code, out = apply(world)
    assert code == 0, out
    live = world.sandbox.get_series(world.state()["ids"]["a/coded"])
    assert live is not None and live["seriesCode"] == "SUMMER2030"
    assert plan_exit(world) == 0


def test_sandbox_flag_round_trip_on_the_repository_series(
    tmp_path: Path, monkeypatch: object
) -> None:
    import shutil

    from click.testing import CliRunner

    from reconciler.cli import main

    repo_series = Path(__file__).resolve().parents[2] / "series"
    shutil.copytree(repo_series, tmp_path / "series", ignore=shutil.ignore_patterns(".state"))
    runner = CliRunner()
    import os

    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        first = runner.invoke(main, ["plan", "--sandbox", "--detailed-exitcode"])
        assert first.exit_code == 2, first.output
        assert "to create" in first.output and "to update" in first.output
        applied = runner.invoke(main, ["apply", "--sandbox", "--auto-approve"])
        assert applied.exit_code == 0, applied.output
        again = runner.invoke(main, ["plan", "--sandbox", "--detailed-exitcode"])
        assert again.exit_code == 0, again.output
    finally:
        os.chdir(old)
    assert not (tmp_path / "series" / ".state").exists()  # the sandbox keeps its state apart


def test_retire_ends_a_series_today_and_converges(world: World) -> None:
    world.write("a/old", series_text("Old", "OLD"))
    assert apply(world)[0] == 0
    world.write("a/old", series_text("Old", "OLD", extra="reconciler:\n  retire: true\n"))
    result = world.cli("plan", "--env", "local")
    assert "validTillDate" in result.stdout and "retire" in result.stdout.lower()
    code, out = apply(world)
    assert code == 0, out
    live = world.sandbox.get_series(world.state()["ids"]["a/old"])
    assert live is not None and live["validTillDate"] < "2030"
    assert plan_exit(world) == 0
