"""The ledger of applies (``reconciler.engine.ledger``): records begun before any write, a
line per series, closed at the end; torn and damaged lines; numbering."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from reconciler.engine.ledger import Ledger, Provenance, SeriesRecord, ledger_path
from reconciler.engine.plan import Action
from reconciler.engine.result import ApplyResult, Outcome, SeriesOutcome
from reconciler.errors import StateError

WHO = Provenance(commit="0123abc", ran_by="asha", approved_by="ravi", run_url="https://x/runs/1")


def begin(ledger: Ledger, *keys: str) -> object:
    return ledger.begin(
        environment="production",
        started_at="2026-12-04T10:00:00Z",
        provenance=WHO,
        plan_digest="d" * 64,
        overrides=[{"rule": "big", "key": "", "reason": "ok", "by": "ravi", "source": "x"}],
        planned=[SeriesRecord(k, "update", i, "planned") for i, k in enumerate(keys, 1)],
    )


def done(key: str, sid: int) -> SeriesOutcome:
    return SeriesOutcome(key, Action.UPDATE, Outcome.DONE, sid, "updated")


def test_it_lives_beside_the_state() -> None:
    assert ledger_path(Path("series/.state/production.json")) == Path(
        "series/.state/production.ledger.jsonl"
    )
    assert ledger_path(Path("sb/state.json")) == Path("sb/state.ledger.jsonl")


def test_a_record_begins_logs_each_series_and_ends(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "p.ledger.jsonl")
    recorder = begin(ledger, "a", "b", "c")
    recorder.outcome(done("a", 1))  # type: ignore[attr-defined]
    result = ApplyResult(
        environment="production",
        outcomes=(
            done("a", 1),
            SeriesOutcome("b", Action.UPDATE, Outcome.FAILED, 2, "HTTP 400"),
            SeriesOutcome("c", Action.UPDATE, Outcome.SKIPPED, 3, "changed"),
        ),
    )
    recorder.end(finished_at="2026-12-04T10:00:09Z", result=result)  # type: ignore[attr-defined]
    (record,) = ledger.records()
    assert (record.number, record.status, record.provenance) == (1, "failed", WHO)
    assert [(s.key, s.result) for s in record.outcomes()] == [
        ("a", "done"),
        ("b", "failed"),
        ("c", "skipped"),
    ]
    # The series logged as it ended is not repeated in the closing line.
    lines = [json.loads(x) for x in ledger.path.read_text().splitlines()]
    assert [x["op"] for x in lines] == ["begin", "series", "end"]
    assert [s["key"] for s in lines[2]["series"]] == ["b", "c"]
    assert record.overrides[0]["reason"] == "ok"


def test_an_apply_that_never_ended_is_unfinished_with_what_is_known(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "p.ledger.jsonl")
    recorder = begin(ledger, "a", "b")
    recorder.outcome(done("a", 1))  # type: ignore[attr-defined]
    (record,) = ledger.records()
    assert not record.finished
    assert record.status == "unfinished (killed or crashed)"
    assert [(s.key, s.result) for s in record.outcomes()] == [("a", "done"), ("b", "planned")]
    # The next apply is a record of its own, numbered after it.
    begin(ledger, "b")
    assert [r.number for r in ledger.records()] == [1, 2]


def test_a_torn_last_line_is_ignored_then_cut_before_the_next_append(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "p.ledger.jsonl")
    recorder = begin(ledger, "a")
    recorder.outcome(done("a", 1))  # type: ignore[attr-defined]
    whole = ledger.path.read_bytes()
    # A crash in the middle of writing the closing line.
    ledger.path.write_bytes(whole + b'{"op":"end","apply":"')
    records, damaged = ledger.read()
    assert damaged == 0 and len(records) == 1 and not records[0].finished
    begin(ledger, "a")
    text = ledger.path.read_bytes()
    assert text.startswith(whole) and b'{"op":"end","apply":"' not in text
    assert [r.number for r in ledger.records()] == [1, 2]
    # A torn begin line (a crash before any write call) never becomes a record.
    ledger.path.write_bytes(text + b'{"op":"begin","v":1,"apply":"x","num')
    assert [r.number for r in ledger.records()] == [1, 2]
    begin(ledger)
    assert [r.number for r in ledger.records()] == [1, 2, 3]


def test_a_damaged_line_in_the_middle_is_counted_and_skipped(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "p.ledger.jsonl")
    begin(ledger, "a")
    with ledger.path.open("a") as handle:
        handle.write("this is not json\n")
        handle.write('{"op":"series","apply":"nobody","key":"x"}\n')
    begin(ledger, "b")
    records, damaged = ledger.read()
    assert damaged == 2
    assert [r.number for r in records] == [1, 2]


def test_a_refused_or_failed_apply_is_closed_with_why(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "p.ledger.jsonl")
    begin(ledger, "a").end(finished_at="t", refused="the policy refuses this plan")  # type: ignore[attr-defined]
    begin(ledger, "a").end(finished_at="t", error="ApiError: 503")  # type: ignore[attr-defined]
    first, second = ledger.records()
    assert (first.status, first.detail) == ("refused", "the policy refuses this plan")
    assert (second.status, second.detail) == ("error", "ApiError: 503")


def test_no_file_no_records(tmp_path: Path) -> None:
    assert Ledger(tmp_path / "none.jsonl").read() == ([], 0)


# --- disks (issue 22.10): whole lines or a clear error -----------------------------------------


def test_a_short_write_is_finished_not_left_torn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``os.write`` may write part of a line (a file-size limit): the rest follows."""
    real = os.write

    def a_few_bytes(fd: int, data: bytes | memoryview) -> int:
        return real(fd, bytes(data[:7]))

    monkeypatch.setattr(os, "write", a_few_bytes)
    ledger = Ledger(tmp_path / "p.ledger.jsonl")
    recorder = begin(ledger, "a")
    recorder.outcome(done("a", 1))  # type: ignore[attr-defined]
    monkeypatch.undo()
    assert [json.loads(x)["op"] for x in ledger.path.read_text().splitlines()] == [
        "begin",
        "series",
    ]


def _full(fd: int, data: bytes | memoryview) -> int:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_at_the_begin_is_an_error_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "write", _full)
    ledger = Ledger(tmp_path / "p.ledger.jsonl")
    with pytest.raises(StateError) as caught:
        begin(ledger, "a")
    assert str(caught.value) == (
        f"cannot write the ledger {ledger.path}: No space left on device; the disk is full: "
        "free some space, then run the command again"
    )


def test_a_series_line_that_cannot_be_written_goes_to_the_end_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The ledger is the record, not the recovery: the apply goes on, said once."""
    ledger = Ledger(tmp_path / "p.ledger.jsonl")
    recorder = begin(ledger, "a", "b")
    with monkeypatch.context() as patched:
        patched.setattr(os, "write", _full)
        recorder.outcome(done("a", 1))  # type: ignore[attr-defined]
        recorder.outcome(done("b", 2))  # type: ignore[attr-defined]
    assert caplog.text.count("cannot write the ledger") == 1
    assert "the apply goes on" in caplog.text
    result = ApplyResult(environment="production", outcomes=(done("a", 1), done("b", 2)))
    recorder.end(finished_at="2026-12-04T10:00:09Z", result=result)  # type: ignore[attr-defined]
    (record,) = ledger.records()
    assert record.finished  # closed, with both series from the end line
    assert [(s.key, s.result) for s in record.outcomes()] == [("a", "done"), ("b", "done")]
