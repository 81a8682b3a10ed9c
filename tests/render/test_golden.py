"""Every format of every scenario against its golden file (what users see)."""

from __future__ import annotations

import io

import pytest

from reconciler.render import FORMATS, PLAN_FORMATS, render_apply, render_plan, render_problems

from .factory import apply_result, converged_result, problems, scenarios
from .golden import check_golden

SUFFIX = {"text": "txt", "markdown": "md", "json": "json", "github": "github.txt", "html": "html"}


@pytest.mark.parametrize("fmt", PLAN_FORMATS)
@pytest.mark.parametrize("scenario", sorted(scenarios()))
def test_plan(scenario: str, fmt: str) -> None:
    out = io.StringIO()
    render_plan(scenarios()[scenario], fmt=fmt, stream=out)
    check_golden(f"plan_{scenario}.{SUFFIX[fmt]}", out.getvalue())


def test_plan_text_in_colour() -> None:
    out = io.StringIO()
    render_plan(scenarios()["mixed"], fmt="text", stream=out, color=True)
    check_golden("plan_mixed.color.txt", out.getvalue())


@pytest.mark.parametrize("fmt", FORMATS)
def test_apply_each_outcome(fmt: str) -> None:
    out = io.StringIO()
    render_apply(apply_result(), fmt=fmt, stream=out)
    check_golden(f"apply_outcomes.{SUFFIX[fmt]}", out.getvalue())


@pytest.mark.parametrize("fmt", FORMATS)
def test_apply_converged(fmt: str) -> None:
    out = io.StringIO()
    render_apply(converged_result(), fmt=fmt, stream=out)
    check_golden(f"apply_converged.{SUFFIX[fmt]}", out.getvalue())


@pytest.mark.parametrize("fmt", FORMATS)
def test_problems(fmt: str) -> None:
    out = io.StringIO()
    render_problems(problems(), fmt=fmt, stream=out)
    check_golden(f"problems.{SUFFIX[fmt]}", out.getvalue())
