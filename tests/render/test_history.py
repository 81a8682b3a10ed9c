"""``history`` and ``show-apply`` output against golden files; each record points at what to
revert (or says why it cannot)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from reconciler.engine.ledger import ApplyRecord, Provenance, SeriesRecord
from reconciler.render.history import render_apply_record, render_history, revert_hint

from .factory import HOSTILE
from .golden import check_golden

COMMIT = "0123abcdef0123abcdef0123abcdef0123abcdef"


def records() -> list[ApplyRecord]:
    ok = ApplyRecord(
        number=1,
        apply_id="a1",
        started_at="2026-12-04T10:00:00Z",
        finished_at="2026-12-04T10:00:09Z",
        environment="production",
        provenance=Provenance(
            commit=COMMIT,
            ran_by="github-merge-bot",
            approved_by="ravi",
            run_url="https://github.com/acme/coupons/actions/runs/42",
        ),
        plan_digest="d" * 64,
        plan_file_digest="f" * 64,
        overrides=(
            {"rule": "big-percentage", "key": "", "reason": "Diwali", "by": "ravi", "source": "x"},
        ),
        planned=(
            SeriesRecord("festive/diwali", "create", None, "planned"),
            SeriesRecord("docs/onam", "update", 520591, "planned"),
        ),
        series=(
            SeriesRecord("festive/diwali", "create", 800001, "done", "created"),
            SeriesRecord("docs/onam", "update", 520591, "failed", "HTTP 400; codes 744"),
        ),
        result="failed",
        counts={"done": 1, "skipped": 0, "failed": 1, "not_started": 0},
    )
    killed = ApplyRecord(
        number=2,
        apply_id="a2",
        started_at="2026-12-04T11:00:00Z",
        environment="production",
        provenance=Provenance(commit=COMMIT, ran_by="asha", dirty=True),
        plan_digest="e" * 64,
        planned=(
            SeriesRecord("docs/onam", "update", 520591, "planned"),
            SeriesRecord(f"x/{HOSTILE}", "update", 7, "planned"),
        ),
        series=(SeriesRecord("docs/onam", "update", 520591, "done", "updated"),),
    )
    refused = ApplyRecord(
        number=3,
        apply_id="a3",
        started_at="2026-12-04T12:00:00Z",
        finished_at="2026-12-04T12:00:00Z",
        environment="production",
        provenance=Provenance(ran_by="asha"),
        plan_digest="c" * 64,
        planned=(SeriesRecord("docs/onam", "update", 520591, "planned"),),
        result="refused",
        detail="the policy refuses this plan: docs/onam: rule frozen (deny): ...",
    )
    return [ok, killed, refused]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_history(fmt: str) -> None:
    out = io.StringIO()
    render_history(
        records(),
        environment="production",
        path=Path("series/.state/production.ledger.jsonl"),
        damaged=1,
        fmt=fmt,
        stream=out,
    )
    check_golden(f"history.{'txt' if fmt == 'text' else 'json'}", out.getvalue())
    if fmt == "json":
        data = json.loads(out.getvalue())
        assert [a["status"] for a in data["applies"]] == [
            "failed",
            "unfinished (killed or crashed)",
            "refused",
        ]


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("number", [1, 2])
def test_show_apply(fmt: str, number: int) -> None:
    out = io.StringIO()
    render_apply_record(records()[number - 1], fmt=fmt, stream=out)
    check_golden(f"show_apply_{number}.{'txt' if fmt == 'text' else 'json'}", out.getvalue())


def test_what_to_revert() -> None:
    ok, killed, refused = records()
    assert revert_hint(ok).startswith(f"git revert {COMMIT} (-m 1 for a merge commit)")
    assert "differed from commit 0123abcdef01" in revert_hint(killed)
    assert revert_hint(refused) == ""  # nothing was applied
