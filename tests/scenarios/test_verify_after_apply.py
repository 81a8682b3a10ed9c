"""The check after an apply, end to end over loopback HTTP: what the apply wrote is read back
(batched GETs, no list of the org) and planned again; a server that did not take a value is
caught even when its answer says it did.
"""

from __future__ import annotations

from tests.scenarios.conftest import Guarded, series_text

LIST = "GET /v1.1/coupon/series"
READ = "GET /v2/coupon/series"


def apply(world: Guarded) -> tuple[int, str]:
    result = world.cli("apply", "--env", "local", "--auto-approve", "--force")  # the share rail
    return result.exit_code, result.output


def test_the_check_reads_back_what_was_written_in_batches_and_lists_nothing(
    guarded: Guarded,
) -> None:
    for i in range(12):
        guarded.write(f"s/{i:02d}", series_text(f"Series {i}", f"CODE{i}"))
    code, out = apply(guarded)
    assert code == 0 and "Converged" in out, out
    for i in range(12):
        guarded.write(f"s/{i:02d}", series_text(f"Series {i}", f"CODE{i}", value=150))
    guarded.door.reset_counts()
    code, out = apply(guarded)
    assert code == 0 and "Converged" in out, out
    # The plan: the list (asked twice: expired=false, then true) and 3 reads of 5 ids (batch
    # 5); the updates: 4 batches of 3 (4 slots), a re-read each and a PUT per series; the
    # check: 3 reads of 5 ids, and no list (a whole plan again would list twice more).
    assert guarded.door.paths[LIST] == 2, guarded.door.paths
    assert guarded.door.calls["PUT"] == 12
    assert guarded.door.paths[READ] == 3 + 4 + 3, guarded.door.paths


def test_a_put_answered_as_taken_but_not_stored_is_not_converged(guarded: Guarded) -> None:
    guarded.write("a/one", series_text("One", "ONE"))
    guarded.write("a/two", series_text("Two", "TWO"))
    assert apply(guarded)[0] == 0
    guarded.write("a/one", series_text("One", "ONE", value=250))
    guarded.write("a/two", series_text("Two, renamed", "TWO"))
    guarded.door.put_ignores = "discountValue"  # the answer echoes 250; 100 is kept
    code, out = apply(guarded)
    assert code == 1, out
    assert "Not converged: 1 series still differs" in out, out
    assert "a/one" in out.split("Not converged", 1)[1] and "discountValue" in out
    assert "a/two" not in out.split("Not converged", 1)[1]
    sid = guarded.state()["ids"]["a/one"]
    assert (guarded.sandbox.get_series(sid) or {})["discountValue"] == 100
    # A plan agrees, and once the server takes the value an apply converges.
    assert guarded.cli("plan", "--env", "local", "--detailed-exitcode").exit_code == 2
    guarded.door.put_ignores = None
    code, out = apply(guarded)
    assert code == 0 and "Converged" in out, out


def test_drift_the_apply_did_not_touch_is_the_schedules_not_the_checks(guarded: Guarded) -> None:
    """The check covers what the apply wrote: an edit in the CRM of another series is not
    the apply's failure; the next plan (the scheduled drift check) shows it."""
    guarded.write("a/one", series_text("One", "ONE"))
    guarded.write("a/two", series_text("Two", "TWO"))
    assert apply(guarded)[0] == 0
    other = guarded.state()["ids"]["a/two"]
    guarded.write("a/one", series_text("One", "ONE", value=300))
    guarded.sandbox.edit_series(other, {"description": "Edited in the CRM"})
    result = guarded.cli("apply", "--env", "local", "--auto-approve", "--target", "a/one")
    assert result.exit_code == 0 and "Converged" in result.output, result.output
    plan = guarded.cli("plan", "--env", "local", "--detailed-exitcode")
    assert plan.exit_code == 2 and "Edited in the CRM" in plan.output, plan.output
