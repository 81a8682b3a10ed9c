"""JSON (the plan file format, the apply result) and GitHub workflow commands."""

from __future__ import annotations

import io
import json

from reconciler.engine.diff import FieldChange
from reconciler.engine.plan import Plan, PlanWarning
from reconciler.render import render_apply, render_plan
from reconciler.render.github import annotation, escape_data, escape_property

from .factory import apply_result, converged_result, create, plan, scenarios


def test_plan_json_is_the_plan_file_and_reads_back() -> None:
    for p in scenarios().values():
        out = io.StringIO()
        render_plan(p, fmt="json", stream=out)
        text = out.getvalue()
        assert text.endswith("}\n")
        data = json.loads(text)
        # The plan file, plus the summary a reviewer reads first, right after the counts.
        keys = list(data)
        assert keys[keys.index("counts") + 1] == "summary"
        assert data.pop("summary")["line"] == p.summary()
        assert data == p.to_dict()
        assert Plan.from_json(text) == p


def test_apply_json_documented_shape() -> None:
    out = io.StringIO()
    render_apply(apply_result(), fmt="json", stream=out)
    data = json.loads(out.getvalue())
    assert set(data) == {
        "format_version", "environment", "ok", "converged", "interrupted", "forced", "notes",
        "counts", "outcomes", "after", "check_error", "overrides",
    }  # fmt: skip
    assert data["counts"] == {"done": 2, "skipped": 1, "failed": 1, "not_started": 1}
    assert data["ok"] is False and data["converged"] is False and data["interrupted"] is True
    first = data["outcomes"][0]
    assert set(first) == {
        "key", "action", "outcome", "id", "message", "status", "codes", "mismatches",
    }  # fmt: skip
    assert first["mismatches"] == [{"field": "discountValue", "sent": 10.1, "answered": 10}]
    assert data["after"]["counts"]["update"] == 1
    out = io.StringIO()
    render_apply(converged_result(), fmt="json", stream=out)
    converged = json.loads(out.getvalue())
    assert converged["ok"] is True and converged["converged"] is True


def test_github_escaping_rules() -> None:
    assert escape_data("100% a\r\nb: c, d") == "100%25 a%0D%0Ab: c, d"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert (
        annotation("error", "bad\nvalue", file="series/a,b.yaml", line=3, col=2)
        == "::error file=series/a%2Cb.yaml,line=3,col=2,title=reconciler::bad%0Avalue"
    )


def test_github_plan_cannot_inject_workflow_commands() -> None:
    hostile = "x\n::error::pwned\n::add-mask::y"
    p = plan(
        series=[create("a", {"description": hostile})],
        warnings=[PlanWarning(hostile, file="series/a.yaml", line=2)],
    )
    out = io.StringIO()
    render_plan(p, fmt="github", stream=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "::warning file=series/a.yaml,line=2,title=reconciler::" + escape_data(
        hostile
    )
    assert lines[1].startswith("::stop-commands::reconciler-")
    token = lines[1].removeprefix("::stop-commands::")
    assert lines[-1] == f"::{token}::"
    # Inside the guarded text, nothing starts a line with a workflow command.
    assert not any(line.startswith("::") for line in lines[2:-1])


def test_github_apply_annotates_failures() -> None:
    out = io.StringIO()
    render_apply(apply_result(), fmt="github", stream=out)
    text = out.getvalue()
    assert "::error title=reconciler%3A apply failed::docs/pongal failed (HTTP 400" in text
    assert "::error title=reconciler%3A not converged::" in text


def test_update_with_change_round_trips_through_json() -> None:
    p = plan(series=[create("k", {"maxCreate": 5})])
    p2 = Plan.from_json(p.to_json())
    assert p2.series[0].changes == (FieldChange("maxCreate", None, 5),)
